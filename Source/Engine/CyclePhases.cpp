#include "CyclePhases.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <vector>

namespace pg
{
    namespace
    {
        std::atomic<int> ranks { 0 };
        constexpr double golden = 0.6180339887498949;
        constexpr size_t smallestDrop = size_t (64) << 10; // less is a chunk's garbage, not a cycle
        constexpr int settleCycles = 4; // cycle ends left alone after a move
        constexpr double estimateAfter = 0.02; // seconds of growth before the first estimate

        // Each instance's next cycle end and period (seconds; < 0: none), by rank.
        struct NextEnds
        {
            std::array<std::atomic<double>, CyclePhases::slots> end, period;
            NextEnds()
            {
                for (auto& e : end)
                    e.store (-1.0);
                for (auto& p : period)
                    p.store (-1.0);
            }
        };
        NextEnds& table()
        {
            static NextEnds t;
            return t;
        }
        size_t slotOf (int rank) { return static_cast<size_t> (rank) % CyclePhases::slots; }

        // The time nearest `t` at which the instance of `slot` ends a cycle, if it runs.
        bool projected (size_t slot, double t, double& at)
        {
            const double e = table().end[slot].load (std::memory_order_relaxed), p = table().period[slot].load (std::memory_order_relaxed);
            if (e < 0.0 || p <= 0.0 || e < t - 4.0 * p) // none, or stale (its instance is gone)
                return false;
            at = e + std::round ((t - e) / p) * p;
            return true;
        }
    } // namespace

    int CyclePhases::nextRank() noexcept { return ranks.fetch_add (1, std::memory_order_relaxed); }

    double CyclePhases::phaseOf (int r) noexcept
    {
        const double x = static_cast<double> (r) * golden;
        return x - std::floor (x);
    }

    CyclePhases::~CyclePhases() { stop(); }

    void CyclePhases::stop() noexcept
    {
        if (rank >= 0)
            publish (-1.0);
    }

    void CyclePhases::publish (double nextEnd) noexcept
    {
        table().period[slotOf (rank)].store (nextEnd < 0.0 ? -1.0 : period, std::memory_order_relaxed);
        table().end[slotOf (rank)].store (nextEnd, std::memory_order_relaxed);
    }

    void CyclePhases::reset (int rankIn, size_t heapAfterFull, int pausePercent, double now) noexcept
    {
        stop();
        rank = rankIn;
        pause = pausePercent;
        heapFloor = heapPeak = heapStart = heapAfterFull;
        startedAt = now;
        lastEnd = aimedEnd = collectAt = -1.0;
        period = lag = jitter = 0.0;
        settling = 0;
        estimated = movePending = lastEndWasCollection = lastCollectionWasMove = false;
    }

    bool CyclePhases::afterChunk (size_t heap, double now) noexcept
    {
        if (rank < 0 || heapStart == 0 || heapStart > largestHeap)
            return false;
        if (collectAt >= 0.0 && now >= collectAt)
        {
            collectAt = -1.0;
            movePending = true;
            return true;
        }
        if (heap < heapFloor && heapPeak < heapFloor + smallestDrop) // still falling, not grown since:
        { // the same cycle's sweep, over several chunks
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
        // Before the first cycle: its period from the heap's growth, and a move to this instance's
        // place in it (by rank), before the cycles can end in step.
        if (! estimated && lastEnd < 0.0 && now - startedAt >= estimateAfter && heap > heapStart && pause > 100)
        {
            estimated = true;
            const double growthPerSecond = static_cast<double> (heap - heapStart) / (now - startedAt);
            const double estimate = static_cast<double> (pause - 100) / 100.0 * static_cast<double> (heapStart) / growthPerSecond;
            if (estimate > 0.05 && estimate < 60.0)
            {
                period = estimate;
                collectAt = startedAt + phaseOf (rank) * estimate;
                if (collectAt <= now)
                    collectAt += estimate;
                aimedEnd = collectAt + estimate;
            }
        }
        return false;
    }

    // A cycle ended at `now`. The first end after a full collection is not a period (a runtime's
    // cycle after a full collection may run a little longer or shorter than one after another
    // cycle); after a move of ours, it teaches that difference (lag), which the next move allows for.
    void CyclePhases::cycleEnded (double now) noexcept
    {
        const bool afterCollection = lastEndWasCollection;
        if (lastEnd >= 0.0 && ! afterCollection)
        {
            const double interval = now - lastEnd;
            if (period > 0.0)
                jitter = 0.75 * jitter + 0.25 * std::abs (interval - period);
            period = period > 0.0 ? 0.75 * period + 0.25 * interval : interval;
        }
        lastEnd = now;
        lastEndWasCollection = false;
        if (period <= 0.0)
            return;
        publish (now + period);
        if (afterCollection && lastCollectionWasMove && aimedEnd > 0.0)
        {
            lag += now - aimedEnd;
            settling = settleCycles;
            return;
        }
        if (settling > 0)
        {
            --settling;
            return;
        }
        if (crowded (now + period))
            moveEndTo (largestGapCentre (now + period), now);
    }

    bool CyclePhases::crowded (double end) const noexcept
    {
        int active = 1;
        double nearest = 1.0e9;
        for (size_t s = 0; s < slots; ++s)
        {
            double at = 0.0;
            if (s == slotOf (rank) || ! projected (s, end, at))
                continue;
            ++active;
            nearest = std::min (nearest, std::abs (at - end));
        }
        // Ends that wander by more than the spacing cannot be placed: moving them would be chasing.
        const double spacing = period / (4.0 * active);
        return jitter < spacing && nearest < spacing;
    }

    double CyclePhases::largestGapCentre (double end) const noexcept
    {
        std::vector<double> others;
        for (size_t s = 0; s < slots; ++s)
            if (double at = 0.0; s != slotOf (rank) && projected (s, end, at))
                others.push_back (at - end); // within [-period/2, period/2]
        if (others.empty())
            return end;
        std::sort (others.begin(), others.end());
        // The gaps between neighbours, the one across the window's edge included.
        double best = others.front() + period - others.back(), centre = others.back() + best / 2.0;
        for (size_t i = 1; i < others.size(); ++i)
            if (const double gap = others[i] - others[i - 1]; gap > best)
            {
                best = gap;
                centre = others[i - 1] + gap / 2.0;
            }
        return end + centre;
    }

    void CyclePhases::moveEndTo (double end, double now) noexcept
    {
        collectAt = end - period - lag;
        while (collectAt <= now)
            collectAt += period;
        aimedEnd = collectAt + period + lag;
        // Claimed now: another instance whose ends are crowded too sees this one there, not in its
        // old place, and neither finds it crowded nor picks the same gap (without it, ten that
        // found their ends crowded within a few cycles all moved to one gap: a simulation showed it).
        publish (aimedEnd);
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
