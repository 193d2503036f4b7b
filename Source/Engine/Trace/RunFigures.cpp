#include "RunFigures.h"

#include <algorithm>
#include <vector>

namespace pg::trace
{
    namespace
    {
        constexpr int64_t speedWindow = 5'000'000'000;
    }

    double RunFigures::slowdown() const
    {
        double fastest = 0.0, slowest = 0.0;
        for (auto [window, v] : referenceCpu) // (a copy: nth_element reorders it)
        {
            if (v.size() < 50)
                continue; // too few chunks for a median
            std::nth_element (v.begin(), v.begin() + static_cast<std::ptrdiff_t> (v.size() / 2), v.end());
            const auto median = static_cast<double> (v[v.size() / 2]);
            fastest = fastest == 0.0 ? median : std::min (fastest, median);
            slowest = std::max (slowest, median);
        }
        return fastest > 0.0 ? slowest / fastest : 0.0;
    }

    void RunFigures::add (const Snapshot& trace, int64_t from, int64_t to)
    {
        // What each pool thread was doing, as edges of intervals: running (a chunk's CPU time, a
        // skip), napping until the time it meant to wake, napping past it (the machine did not run
        // it), or asleep until woken.
        enum Doing
        {
            running,
            napping,
            overslept,
            asleep
        };
        struct Edge
        {
            int64_t t;
            Doing doing;
            int delta;
        };
        std::vector<Edge> edges;
        const auto interval = [&edges] (int64_t a, int64_t b, Doing d) {
            if (b > a)
                edges.insert (edges.end(), { Edge { a, d, 1 }, Edge { b, d, -1 } });
        };
        std::vector<std::pair<int64_t, int64_t>> waiting; // a chunk's input, from its arrival until it started
        for (const auto& e : trace.events)
        {
            if (e.kind != Kind::chunk && e.kind != Kind::nap && e.kind != Kind::skip)
                continue;
            if (e.kind == Kind::nap && e.due == untilWoken)
                interval (e.start, e.end, asleep);
            else if (e.kind == Kind::nap)
            {
                interval (e.start, std::min (e.end, e.due), napping);
                interval (std::max (e.start, e.due), e.end, overslept);
            }
            else
            {
                // A chunk's thread ran for its CPU time; the rest of it the thread was descheduled
                // (counted at its end: where within the chunk is not recorded). A program's chunk
                // waits for another process: all of it counts.
                const bool ranPart = e.kind == Kind::chunk && e.cpuNanos >= 0 && e.value == 0;
                interval (e.start, ranPart ? std::min (e.end, e.start + e.cpuNanos) : std::max (e.end, e.start + 1), running);
                if (e.kind == Kind::chunk && e.arrival < e.start)
                    waiting.emplace_back (e.arrival, e.start);
            }
            if (e.kind != Kind::chunk || e.start < from || e.start >= to)
                continue;
            cpu[e.instance] += e.cpuNanos >= 0 ? e.cpuNanos : e.end - e.start;
            if (e.instance == reference && e.cpuNanos >= 0)
                referenceCpu[e.start / speedWindow].push_back (e.cpuNanos);
            largestChunk = std::max (largestChunk, e.end - e.start);
        }
        if (edges.empty())
            return;
        // The stalls: times no pool thread ran while none meant to, and input waited. A thread's
        // nap covers its time until it meant to wake; a sleeping thread's covers its time unless
        // another's nap has overslept (the pool relied on that one: the machine did not run it).
        // Only gaps closed by events on both sides count (an event is recorded when it ends: the
        // trace's last moments look empty), and only their parts in which some input waited.
        std::sort (waiting.begin(), waiting.end());
        const auto waited = [&waiting] (int64_t a, int64_t b) {
            int64_t longest = 0, runStart = 0, reach = a;
            bool inRun = false;
            for (const auto& [w0, w1] : waiting) // the longest stretch of [a, b) with input waiting
            {
                const int64_t lo = std::max (w0, a), hi = std::min (w1, b);
                if (hi <= lo)
                    continue;
                if (! inRun || lo > reach)
                    runStart = lo;
                inRun = true;
                reach = std::max (reach, hi);
                longest = std::max (longest, reach - runStart);
            }
            return longest;
        };
        std::sort (edges.begin(), edges.end(), [] (const Edge& a, const Edge& b) { return a.t < b.t; });
        int count[4] = {};
        bool seenCovered = false, inGap = false;
        int64_t gapStart = 0;
        for (size_t i = 0; i < edges.size();)
        {
            const int64_t t = edges[i].t;
            for (; i < edges.size() && edges[i].t == t; ++i)
                count[edges[i].doing] += edges[i].delta;
            const bool covered = count[running] > 0 || count[napping] > 0 || (count[asleep] > 0 && count[overslept] == 0);
            if (covered && inGap && t >= from && gapStart < to)
                worstStall = std::max (worstStall, waited (gapStart, t));
            if (! covered && ! inGap && seenCovered)
                gapStart = t;
            inGap = ! covered && seenCovered;
            seenCovered = seenCovered || covered;
        }
    }

    int64_t RunFigures::cpuNanos (int instance) const
    {
        const auto it = cpu.find (instance);
        return it == cpu.end() ? 0 : it->second;
    }
} // namespace pg::trace
