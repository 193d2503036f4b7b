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

    // The processor's script alone, at its parameters and pacing, on the demo signal: its CPU time
    // per second of audio (100 = a core) over `seconds` of audio in blocks of `block` frames, after
    // its live heap is built (untimed). -1 if the script fails.
    double scriptAloneCpuPercent (const PauseGuardProcessor& p, double rate, int block, int channels, double seconds);
} // namespace pauseguard::cli
