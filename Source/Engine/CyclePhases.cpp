#include "CyclePhases.h"

#include <algorithm>
#include <atomic>
#include <cmath>

namespace pg
{
    namespace
    {
        std::atomic<int> ranks { 0 };
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
        heapFloor = heapPeak = heapStart = heapAfterFull;
        startedAt = now;
        lastEnd = -1.0;
        period = 0.0;
        collectAt = -1.0;
        estimated = false;
        settling = 0;
    }

    double CyclePhases::nextTimeAtPhase (double now) const noexcept
    {
        const double target = phaseOf (rank) * period;
        const double base = std::floor (now / period) * period + target;
        return base > now ? base : base + period;
    }

    bool CyclePhases::afterChunk (size_t heap, double now) noexcept
    {
        if (heapStart == 0 || heapStart > largestHeap)
            return false;
        if (collectAt >= 0.0 && now >= collectAt)
        {
            collectAt = -1.0;
            return true;
        }
        const size_t grown = heapPeak - heapFloor;
        if (heap + std::max (smallestDrop, grown / 2) < heapPeak)
        {
            // A cycle ended: its period, and where it ended against this instance's phase.
            if (lastEnd >= 0.0)
                period = period > 0.0 ? 0.75 * period + 0.25 * (now - lastEnd) : now - lastEnd;
            lastEnd = now;
            heapFloor = heapPeak = heap;
            if (settling > 0)
                --settling;
            else if (period > 0.0)
            {
                double off = now / period - std::floor (now / period) - phaseOf (rank);
                off -= std::round (off);
                if (std::abs (off) > tolerance)
                    collectAt = nextTimeAtPhase (now);
            }
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

    void CyclePhases::collected (size_t heap, double now) noexcept
    {
        heapFloor = heapPeak = heap;
        lastEnd = now;
        settling = settleCycles;
    }
} // namespace pg
