#pragma once

// The deterministic strategy's collectors, spread in time. Identical instances started together
// collect in step: their runtimes' cycles end in the same few milliseconds, and those long chunks
// pile up on the pool's threads (the trace showed 16 instances' cycle ends within 25 ms, every
// 0.39 s, each 1–2.4 ms). Each instance is given a phase of its own, θ = frac(rank · 0.618…) (the
// golden ratio spreads any number of them evenly), and moves its cycle there with one full
// collection: after it, the next cycle ends one period later, so a collection at a time ≡ θ·T
// (mod the period T) puts every later cycle end there too.
//
// The period is measured, from cycle to cycle (a cycle ends where the heap drops). Before the
// first has been seen it is estimated from the heap's growth: a collector left to itself starts
// a cycle once the heap has grown by (pause − 100) % of what the last collection left.
// Pure: the worker feeds it the heap after each chunk and runs the collection it asks for.

#include <cstddef>
#include <cstdint>

namespace pg
{
    class CyclePhases
    {
    public:
        // Only heaps up to this are moved: a full collection of a larger one is a pause of its own.
        static constexpr size_t largestHeap = size_t (16) << 20;

        // A process-wide rank for each deterministic instance, in the order they ask.
        static int nextRank() noexcept;
        static double phaseOf (int rank) noexcept;

        // After a full collection (prepare's), at time `now` (seconds): heap left, collector pause %.
        void reset (int rankIn, size_t heapAfterFull, int pausePercent, double now) noexcept;
        // After each chunk: true if the worker should run a full collection now.
        bool afterChunk (size_t heap, double now) noexcept;
        // The worker ran a full collection (asked for or not) at `now`, leaving `heap`.
        void collected (size_t heap, double now) noexcept;

        double periodSeconds() const noexcept { return period; }
        double lastCycleEnd() const noexcept { return lastEnd; }

    private:
        double nextTimeAtPhase (double now) const noexcept;
        void cycleEnded (double now) noexcept;

        int rank = 0;
        int pause = 200;
        size_t heapFloor = 0, heapPeak = 0, heapStart = 0;
        double startedAt = 0.0, lastEnd = -1.0, period = 0.0, collectAt = -1.0;
        bool estimated = false;
        int settling = 0;  // cycle ends still to pass before the phase is checked again
        double lag = 0.0;  // where a move's next end lands after the time aimed at (of a period)
        bool movePending = false, lastEndWasCollection = false, lastCollectionWasMove = false;
    };
} // namespace pg
