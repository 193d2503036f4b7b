#pragma once

// What a run's trace says about the machine and the pool (Trace.h), gathered as the run goes,
// like DropoutTally: the pool CPU time each instance's chunks took, the longest chunk, and the
// longest stall: a time when input waited and no pool thread ran while none meant to (none ran a
// chunk, none napped before the time it meant to wake, and none slept while another's nap had
// overslept), so the machine did not run them.

#include "Trace.h"

#include <cstdint>
#include <map>
#include <vector>

namespace pg::trace
{
    class RunFigures
    {
    public:
        // Adds the events of `trace` that start in [from, to); call with windows that follow on.
        void add (const Snapshot& trace, int64_t from, int64_t to);

        int64_t worstStallNanos() const noexcept { return worstStall; }
        int64_t largestChunkNanos() const noexcept { return largestChunk; }
        // The pool CPU time of instance i's chunks (their wall time where CPU time is unknown).
        int64_t cpuNanos (int instance) const;

        // The machine's speed over the run, from a reference instance that does the same work in
        // every chunk (soak's bare engine): its chunks' CPU time, median per 5 s of the run.
        void followSpeedOf (int instance) noexcept { reference = instance; }
        // The slowest 5 s's median over the fastest's (1: the machine ran at one speed; 0: unknown).
        double slowdown() const;

    private:
        std::map<int, int64_t> cpu;
        int64_t worstStall = 0, largestChunk = 0;
        int reference = -1;
        std::map<int64_t, std::vector<int64_t>> referenceCpu; // by 5 s window
    };
} // namespace pg::trace
