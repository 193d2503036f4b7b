#include "RunFigures.h"

#include <algorithm>
#include <set>
#include <vector>

namespace pg::trace
{
    void RunFigures::add (const Snapshot& trace, int64_t from, int64_t to)
    {
        std::vector<std::pair<int64_t, int64_t>> covered; // every pool thread's chunks and naps
        std::set<int> poolLanes;
        for (const auto& e : trace.events)
        {
            if (e.kind != Kind::chunk && e.kind != Kind::nap && e.kind != Kind::skip)
                continue;
            poolLanes.insert (e.lane);
            // A chunk's thread ran for its CPU time; the rest of it the thread was descheduled
            // (counted at its end: where within the chunk is not recorded). A program's chunk
            // waits for another process: all of it counts.
            const bool ranPart = e.kind == Kind::chunk && e.cpuNanos >= 0 && e.value == 0;
            covered.emplace_back (e.start, ranPart ? std::min (e.end, e.start + e.cpuNanos) : std::max (e.end, e.start));
            if (e.kind != Kind::chunk || e.start < from || e.start >= to)
                continue;
            cpu[e.instance] += e.cpuNanos >= 0 ? e.cpuNanos : e.end - e.start;
            largestChunk = std::max (largestChunk, e.end - e.start);
        }
        if (poolLanes.empty())
            return;
        // The stalls: gaps in the union of every pool thread's recorded time, closed by events on
        // both sides (an event is recorded when it ends: the trace's last moments look empty).
        std::sort (covered.begin(), covered.end());
        int64_t reach = covered.front().second;
        for (const auto& [start, end] : covered)
        {
            if (start > reach && start >= from && reach < to)
                worstStall = std::max (worstStall, start - reach);
            reach = std::max (reach, end);
        }
    }

    int64_t RunFigures::cpuNanos (int instance) const
    {
        const auto it = cpu.find (instance);
        return it == cpu.end() ? 0 : it->second;
    }
} // namespace pg::trace
