#include "CyclePhases.h"

#include <algorithm>
#include <atomic>
#include <cmath>

namespace pg
{
    namespace
    {
        std::atomic<int> ranks { 0 };
        // Phases are counted from one time for the whole process (the first instance's start):
        // counted from the clock's origin, a period estimated 0.1 % off would move every phase by
        // whole periods.
        std::atomic<double> epoch { -1.0 };
        constexpr double golden = 0.6180339887498949;
        constexpr size_t smallestDrop = size_t (64) << 10; // less is a chunk's garbage, not a cycle
        constexpr double tolerance = 0.12;                  // of a period: close enough to its phase
        constexpr int settleCycles = 4;                     // cycle ends left alone after a move (a runtime's
                                                            // cycle ends vary by a few chunks: no chasing them)
        constexpr double estimateAfter = 0.02;              // seconds of growth before the first estimate
    } // namespace

    int CyclePhases::nextRank() noexcept { return ranks.fetch_add (1, std::memory_order_relaxed); }

    double CyclePhases::phaseOf (int r) noexcept
    {
        const double x = static_cast<double> (r) * golden;
        return x - std::floor (x);
    }

    void CyclePhases::reset (int rankIn, size_t heapAfterFull, int pausePercent, double now) noexcept
    {
        rank = rankIn;
        pause = pausePercent;
        double none = -1.0;
        epoch.compare_exchange_strong (none, now, std::memory_order_relaxed);
        heapFloor = heapPeak = heapStart = heapAfterFull;
        startedAt = now;
        lastEnd = -1.0;
        period = 0.0;
        collectAt = -1.0;
        estimated = false;
        settling = 0;
        lag = 0.0;
        movePending = lastEndWasCollection = lastCollectionWasMove = false;
    }

    double CyclePhases::nextTimeAtPhase (double now) const noexcept
    {
        double phase = phaseOf (rank) - lag; // (a move lands `lag` of a period after its time)
        phase -= std::floor (phase);
        const double target = phase * period;
        const double zero = epoch.load (std::memory_order_relaxed);
        const double base = zero + std::floor ((now - zero) / period) * period + target;
        return base > now ? base : base + period;
    }

    bool CyclePhases::afterChunk (size_t heap, double now) noexcept
    {
        if (heapStart == 0 || heapStart > largestHeap)
            return false;
        if (collectAt >= 0.0 && now >= collectAt)
        {
            collectAt = -1.0;
            movePending = true;
            return true;
        }
        if (heap < heapFloor && heapPeak < heapFloor + smallestDrop) // still falling, not grown since:
        {                                                             // the same cycle's sweep, over several chunks
            heapFloor = heapPeak = heap;
            return false;
        }
        const size_t grown = heapPeak - heapFloor;
        if (grown >= 2 * smallestDrop && heap + std::max (smallestDrop, grown / 2) < heapPeak)
        {
            cycleEnded (now);
            heapFloor = heapPeak = heap;
            return false;
        }
        heapPeak = std::max (heapPeak, heap);
        // Before the first cycle: its period from the heap's growth, and a collection at this
        // instance's phase of it, before the cycles can start in step.
        if (! estimated && lastEnd < 0.0 && now - startedAt >= estimateAfter && heap > heapStart && pause > 100)
        {
            estimated = true;
            const double growthPerSecond = static_cast<double> (heap - heapStart) / (now - startedAt);
            period = static_cast<double> (pause - 100) / 100.0 * static_cast<double> (heapStart) / growthPerSecond;
            if (period > 0.05 && period < 60.0)
                collectAt = nextTimeAtPhase (now);
            else
                period = 0.0;
        }
        return false;
    }

    // A cycle ended at `now`: the period (from one natural end to the next), and where it ended
    // against this instance's phase. The first end after a full collection is not a period (a
    // runtime's cycle after a full collection may run a little longer or shorter than one after
    // another cycle): after a move of ours it teaches that difference (lag), which the next move
    // allows for.
    void CyclePhases::cycleEnded (double now) noexcept
    {
        const bool afterCollection = lastEndWasCollection;
        if (lastEnd >= 0.0 && ! afterCollection)
            period = period > 0.0 ? 0.75 * period + 0.25 * (now - lastEnd) : now - lastEnd;
        lastEnd = now;
        lastEndWasCollection = false;
        if (period <= 0.0)
            return;
        const double cycles = (now - epoch.load (std::memory_order_relaxed)) / period;
        double off = cycles - std::floor (cycles) - phaseOf (rank);
        off -= std::round (off);
        if (afterCollection && lastCollectionWasMove)
        {
            lag += off;
            lag -= std::round (lag);
            settling = settleCycles;
            return;
        }
        if (settling > 0)
        {
            --settling;
            return;
        }
        if (std::abs (off) > tolerance)
            collectAt = nextTimeAtPhase (now);
    }

    void CyclePhases::collected (size_t heap, double now) noexcept
    {
        heapFloor = heapPeak = heap;
        lastEnd = now;
        lastEndWasCollection = true;
        lastCollectionWasMove = movePending;
        movePending = false;
    }
} // namespace pg
