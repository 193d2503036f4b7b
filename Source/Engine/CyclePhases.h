#pragma once

// The deterministic strategy's collectors, spread in time. Identical instances started together
// collect in step: their runtimes' cycles end in the same few milliseconds, and those long chunks
// pile up on the pool's threads (the trace showed 16 instances' cycle ends within 25 ms, every
// 0.39 s, each 1–2.4 ms). An instance moves its cycle with one full collection: the next cycle
// ends one period after it (a runtime's own rule), and so does every later one.
//
// - At the start, instances prepared together are spread by rank: instance r moves its cycle to
//   start + frac(r · 0.618…) of a period (the golden ratio spreads any number of them evenly), the
//   period estimated from the heap's growth (a collector left to itself starts a cycle once the
//   heap has grown by (pause − 100) % of what the last collection left).
// - Then each cycle end is measured (where the heap drops), and published: every instance sees
//   where the others' next ends fall. One whose next end falls within a quarter of the even
//   spacing (period / 4N) of another's moves it to the middle of the largest gap, and claims that
//   place in the table at once (others crowded at the same time must not pick the same gap),
//   unless its own ends wander by more than that (a move could not place it: it would chase).
// Everything is in the engine's clock's time, relative to each instance's own ends: no phase is
// counted from an origin (a period 0.1 % off would move a phase by whole periods within minutes).
// Pure but for the process-wide table of next ends. The worker feeds it the heap after each chunk
// and runs the collection it asks for.

#include <cstddef>
#include <cstdint>

namespace pg
{
    class CyclePhases
    {
    public:
        // Only heaps up to this are moved: a full collection of a larger one is a pause of its own.
        static constexpr size_t largestHeap = size_t (16) << 20;
        static constexpr int slots = 256; // instances the process-wide table tells apart

        // A process-wide rank for each deterministic instance, in the order they ask.
        static int nextRank() noexcept;
        static double phaseOf (int rank) noexcept;

        CyclePhases() = default;
        ~CyclePhases();
        CyclePhases (const CyclePhases&) = delete;
        CyclePhases& operator= (const CyclePhases&) = delete;

        // After a full collection (a warm-up's), at time `now` (seconds): heap left, collector pause %.
        void reset (int rankIn, size_t heapAfterFull, int pausePercent, double now) noexcept;
        // After each chunk: true if the worker should run a full collection now.
        bool afterChunk (size_t heap, double now) noexcept;
        // The worker ran a full collection (asked for or not) at `now`, leaving `heap`.
        void collected (size_t heap, double now) noexcept;
        // Not running any more (a program, the dynamic strategy): its ends are no one's neighbours.
        void stop() noexcept;

        double periodSeconds() const noexcept { return period; }

    private:
        void cycleEnded (double now) noexcept;
        void publish (double nextEnd) noexcept;
        bool crowded (double end) const noexcept;
        double largestGapCentre (double end) const noexcept; // near `end`, within half a period
        void moveEndTo (double end, double now) noexcept;

        int rank = -1;
        int pause = 200;
        size_t heapFloor = 0, heapPeak = 0, heapStart = 0;
        double startedAt = 0.0, lastEnd = -1.0, period = 0.0, collectAt = -1.0, aimedEnd = -1.0;
        double lag = 0.0; // how much later than one period after a move its next cycle ends (seconds)
        double jitter = 0.0; // how far its cycle ends wander from one period apart (seconds)
        int settling = 0; // cycle ends still to pass before the spacing is checked again
        bool estimated = false, movePending = false, lastEndWasCollection = false, lastCollectionWasMove = false;
    };
} // namespace pg
