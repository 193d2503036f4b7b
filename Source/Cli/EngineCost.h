#pragma once

// The engine's own cost: an instance's share of the pool's CPU, against the script's CPU alone for
// the same blocks, timed in a tight loop on one thread without the engine. Wake-ups, context
// switches and cache misses are the engine's.

#include "PluginProcessor.h"

namespace pauseguard::cli
{
    // The CPU time, in seconds, that the process's pool threads (named "pg-pool") have run so far
    // (/proc's schedstat, in nanoseconds). 0 where /proc has no schedstat.
    double poolCpuSeconds();

    // The processor's script alone, at its parameters and pacing, on the demo signal, over
    // `seconds` of audio in blocks of `block` frames, after its live heap is built (untimed).
    struct ScriptAlone
    {
        double cpuPercent = -1.0; // CPU time per second of audio (100 = a core), the least of three parts; -1 if the script fails
        size_t heapPeakBytes = 0; // the largest heap its Lua state held between two blocks
    };
    ScriptAlone runScriptAlone (const PauseGuardProcessor& p, double rate, int block, int channels, double seconds);

    // The process's resident memory now (VmRSS), in bytes; 0 where /proc has none.
    size_t residentBytes();
} // namespace pauseguard::cli
