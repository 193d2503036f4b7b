#pragma once

// The engine's own cost: an instance's share of the pool's CPU, against the script's CPU alone for
// the same blocks, timed in a tight loop on one thread without the engine. Wake-ups, context
// switches and cache misses are the engine's.

#include "LuaDsp.h"
#include "PluginProcessor.h"

#include <memory>
#include <vector>

namespace pauseguard::cli
{
    // The CPU time, in seconds, that the process's pool threads (named "pg-pool") have run so far
    // (/proc's schedstat, in nanoseconds). 0 where /proc has no schedstat.
    double poolCpuSeconds();

    // The processor's script alone, at its parameters and pacing, on the demo signal, in blocks of
    // `block` frames, after its live heap is built (untimed). With copies > 1, that many scripts
    // on one thread, each block called in turn as a host calls its plugins, each with its own
    // heap: the caches then hold what they hold for that many instances.
    struct ScriptAlone
    {
        // CPU time per second of one script's audio (100 = a core), the least of three parts; -1 if a script fails
        double cpuPercent = -1.0;
        double meanCpuPercent = -1.0; // the same over all three parts
        size_t heapPeakBytes = 0; // the largest heap a script's Lua state held between two blocks
        double audioSeconds = 0.0; // the audio one script processed
    };
    class ScriptsAlone
    {
    public:
        ScriptsAlone (const PauseGuardProcessor& p, double rate, int block, int channels, int copies);
        ~ScriptsAlone();
        // How run() calls the scripts: as fast as they go, for `seconds` of audio (tightLoop) or
        // of wall time (wallClock); or at real-time pace (paced): one block of every script each
        // block period, from a thread at the pool's priority that sleeps in between. Paced, the
        // thread wakes once a period as the pool does, and its CPU time is the script's plus
        // what the machine charges a thread for waking up: the least any paced processing pays.
        enum class Pace
        {
            tightLoop,
            wallClock,
            paced
        };
        // `seconds` of audio (of wall time: wallClock, paced), timed; runs again continue where
        // the last ended.
        ScriptAlone run (double seconds, Pace pace = Pace::tightLoop);

    private:
        void push (pg::Dsp& d) const;
        ScriptAlone runHere (double seconds, Pace pace);

        const ParameterRefs& params;
        double sampleRate;
        int blockSize, numChannels;
        std::vector<std::unique_ptr<pg::LuaDsp>> scripts; // empty if one failed
        std::vector<float> input; // the demo signal, made ahead; played from inputPos, in a loop
        size_t inputPos = 0;
    };
    ScriptAlone runScriptAlone (const PauseGuardProcessor& p, double rate, int block, int channels, double seconds);

    // The median of v (of an even count, the upper middle one); 0 if v is empty.
    double medianOf (std::vector<double> v);

    // The process's resident memory now (VmRSS), in bytes; 0 where /proc has none.
    size_t residentBytes();
} // namespace pauseguard::cli
