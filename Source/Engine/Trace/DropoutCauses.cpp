#include "DropoutCauses.h"

#include <algorithm>
#include <climits>
#include <iterator>
#include <map>

namespace pg::trace
{
    namespace
    {
        using Events = std::vector<Event>;

        // The event of `sorted` (by ringPos) whose frames hold ring position p, or nullptr.
        const Event* holding (const Events& sorted, uint64_t p)
        {
            auto it = std::upper_bound (sorted.begin(), sorted.end(), p, [] (uint64_t v, const Event& e) { return v < e.ringPos; });
            if (it == sorted.begin())
                return nullptr;
            --it;
            return p < it->ringPos + static_cast<uint64_t> (std::max (0, it->frames)) ? &*it : nullptr;
        }

        // The share of a chunk's wall time its thread really ran (1 where unknown, or for a
        // program, whose work is in another process).
        double ranShare (const Event& e)
        {
            const int64_t wall = e.end - e.start;
            if (e.cpuNanos < 0 || e.value != 0 || wall <= 0)
                return 1.0;
            return std::min (1.0, static_cast<double> (e.cpuNanos) / static_cast<double> (wall));
        }

        struct Shares
        {
            double queued = 0, collection = 0, stalled = 0, napping = 0, own = 0;
        };

        using Spans = std::vector<std::pair<int64_t, int64_t>>;

        // How much of [a, b) the spans cover (they may overlap: each counts once).
        int64_t overlap (const Spans& spans, int64_t a, int64_t b)
        {
            int64_t covered = 0, reach = a;
            for (const auto& [s0, s1] : spans) // (sorted by start)
            {
                const int64_t from = std::max (s0, reach), to = std::min (s1, b);
                if (to > from)
                    covered += to - from;
                reach = std::max (reach, std::min (s1, b));
            }
            return covered;
        }

        // The times pool threads napped past the moment they meant to wake (the machine did not
        // run them), sorted by start.
        Spans oversleeps (const std::map<int, Events>& lanes)
        {
            Spans v;
            for (const auto& [lane, events] : lanes)
                for (const auto& e : events)
                    if (e.kind == Kind::nap && e.due != untilWoken && e.end > e.due)
                        v.emplace_back (std::max (e.start, e.due), e.end);
            std::sort (v.begin(), v.end());
            return v;
        }

        // A program's chunk (its work in another process): the share of its wall time during
        // which the pool's other threads napped past the moment they meant to wake. The machine
        // ran none of them then, and most likely not the program either.
        double programStalledShare (const Event& e, const Spans& overslept)
        {
            const int64_t wall = e.end - e.start;
            if (e.value == 0 || wall <= 0)
                return 0.0;
            return static_cast<double> (overlap (overslept, e.start, e.end)) / static_cast<double> (wall);
        }

        // d of a chunk's wall time (the part of it counted) as shares: descheduled (its thread ran less), the
        // collector, and the rest, its own work (`work`).
        void addChunk (const Event& e, double d, Shares& s, double Shares::*work)
        {
            const double ran = d * ranShare (e);
            const int64_t wall = std::max<int64_t> (1, e.end - e.start);
            const double collector = ran * std::min (1.0, static_cast<double> (e.collectorNanos) / static_cast<double> (wall));
            s.stalled += d - ran;
            s.collection += collector;
            s.*work += ran - collector;
        }

        // What one pool thread did in [w0, w1), apart from running `instance` itself, and only where
        // the instance was free: while one of its earlier chunks held it (`held`, sorted by start),
        // no other thread could take its input, and what that chunk did counts instead (holders).
        // A nap past the time it meant to wake, and a sleep while another thread's nap overslept
        // (the pool relied on that one), count as descheduled: the machine did not run them.
        void addLane (const Events& lane, int instance, int64_t w0, int64_t w1, const Spans& overslept, const Spans& held, Shares& s)
        {
            const auto freeOf = [&held] (int64_t a, int64_t b) { return static_cast<double> (b - a - overlap (held, a, b)); };
            auto it = std::upper_bound (lane.begin(), lane.end(), w0, [] (int64_t v, const Event& e) { return v < e.end; });
            int64_t cursor = w0;
            for (; it != lane.end() && it->start < w1; ++it)
            {
                const int64_t a = std::max (it->start, w0), b = std::min (it->end, w1);
                if (a > cursor)
                    s.stalled += freeOf (cursor, a); // neither working nor waiting: descheduled
                cursor = std::max (cursor, b);
                if (b <= a)
                    continue;
                if (it->kind == Kind::nap && it->due != untilWoken)
                {
                    // After the time it meant to wake, the machine's; before, as it meant to.
                    const int64_t meantEnd = std::clamp (it->due, a, b);
                    s.stalled += freeOf (meantEnd, b);
                    s.napping += freeOf (a, meantEnd);
                }
                else if (it->kind == Kind::nap)
                {
                    // Asleep: the machine's while another's nap overslept (in proportion, where free).
                    const double free = freeOf (a, b);
                    const double late = free * static_cast<double> (overlap (overslept, a, b)) / static_cast<double> (b - a);
                    s.stalled += late;
                    s.napping += free - late;
                }
                else if (it->kind == Kind::chunk && it->instance != instance)
                {
                    addChunk (*it, freeOf (a, b), s, &Shares::queued); // (its shares scale with the time counted)
                }
            }
            if (cursor < w1)
                s.stalled += freeOf (cursor, w1);
        }

        // The instance's earlier chunks in [w0, w1) (they held it), as spans, and their shares.
        // `ownChunks` is sorted by ring position, which an instance's chunks follow in time too.
        Spans holders (const Events& ownChunks, uint64_t missing, int64_t w0, int64_t w1, Shares& s)
        {
            Spans v;
            auto it = std::lower_bound (ownChunks.begin(), ownChunks.end(), missing, [] (const Event& e, uint64_t p) { return e.ringPos < p; });
            while (it != ownChunks.begin())
            {
                const Event& e = *--it;
                if (e.end <= w0)
                    break; // (and every earlier one)
                const int64_t a = std::max (e.start, w0), b = std::min (e.end, w1);
                if (b <= a)
                    continue;
                v.emplace_back (a, b);
                addChunk (e, static_cast<double> (b - a), s, &Shares::own);
            }
            std::sort (v.begin(), v.end());
            return v;
        }

        // The pool threads' CPU time running chunks, as sums over the chunks that ended by a time.
        class PoolBusy
        {
        public:
            explicit PoolBusy (const std::map<int, Events>& lanes)
                : threads (static_cast<int64_t> (lanes.size()))
            {
                for (const auto& [lane, events] : lanes)
                    for (const auto& e : events)
                    {
                        first = std::min (first, e.start);
                        if (e.kind == Kind::chunk)
                            ends.emplace_back (e.end, static_cast<int64_t> (static_cast<double> (e.end - e.start) * ranShare (e)));
                    }
                std::sort (ends.begin(), ends.end());
                int64_t sum = 0;
                for (auto& [t, ran] : ends)
                    ran = sum += ran;
            }

            // Whether the threads ran chunks for at least 95 % of the whole second before t (false
            // when the trace does not reach that far back).
            bool saturatedBefore (int64_t t) const
            {
                const int64_t from = t - 1'000'000'000;
                if (threads == 0 || from < first)
                    return false;
                return 100 * (ranBy (t) - ranBy (from)) >= 95 * threads * (t - from);
            }

        private:
            int64_t ranBy (int64_t t) const
            {
                auto it = std::upper_bound (ends.begin(), ends.end(), t, [] (int64_t v, const auto& p) { return v < p.first; });
                return it == ends.begin() ? 0 : std::prev (it)->second;
            }

            int64_t threads, first = INT64_MAX;
            std::vector<std::pair<int64_t, int64_t>> ends; // (end, CPU time of the chunks that ended by then)
        };

        Cause largest (const Shares& s)
        {
            std::pair<double, Cause> best { 0.0, Cause::ownChunk };
            for (const auto& c : { std::pair { s.queued, Cause::queued }, std::pair { s.collection, Cause::collection },
                                   std::pair { s.stalled, Cause::noThreadRunning }, std::pair { s.napping, Cause::lateWakeup },
                                   std::pair { s.own, Cause::ownChunk } })
                if (c.first > best.first)
                    best = c;
            return best.second;
        }
    } // namespace

    uint64_t CauseCounts::total() const noexcept
    {
        uint64_t n = 0;
        for (auto c : counts)
            n += c;
        return n;
    }

    std::vector<DropoutCause> attributeDropouts (const Snapshot& trace)
    {
        std::map<int, Events> blocks, chunks, skips, lanes; // by instance (three), by pool lane
        Events dropouts;
        for (const auto& e : trace.events)
        {
            switch (e.kind)
            {
                case Kind::block:
                    blocks[e.instance].push_back (e);
                    break;
                case Kind::chunk:
                    chunks[e.instance].push_back (e);
                    lanes[e.lane].push_back (e);
                    break;
                case Kind::nap:
                    lanes[e.lane].push_back (e);
                    break;
                case Kind::skip:
                    skips[e.instance].push_back (e);
                    break;
                case Kind::dropout:
                    dropouts.push_back (e);
                    break;
                default:
                    break;
            }
        }
        auto byRing = [] (const Event& a, const Event& b) { return a.ringPos < b.ringPos; };
        for (auto& [i, v] : blocks)
            std::sort (v.begin(), v.end(), byRing);
        for (auto* byInstance : { &chunks, &skips })
            for (auto& [i, v] : *byInstance)
                std::sort (v.begin(), v.end(), byRing);

        const Spans overslept = oversleeps (lanes);
        const PoolBusy busy (lanes);
        std::vector<DropoutCause> out;
        out.reserve (dropouts.size());
        for (const auto& d : dropouts)
        {
            DropoutCause dc { d, Cause::ownChunk };
            const Event* block = holding (blocks[d.instance], d.ringPos);
            const Event* chunk = holding (chunks[d.instance], d.ringPos);
            const int64_t T = d.start;
            const int64_t A = block != nullptr ? block->start : (chunk != nullptr ? chunk->arrival : T);
            if (block != nullptr && block->due > A && 4 * (T - A) < 3 * (block->due - A))
                dc.cause = Cause::hostLate;
            else if (chunk != nullptr && chunk->start < T && (2 * chunk->collectorNanos >= chunk->end - chunk->start || ranShare (*chunk) < 0.5 || 2 * (chunk->end - chunk->start) >= T - A))
            {
                const int64_t wall = chunk->end - chunk->start;
                dc.cause = 2 * chunk->collectorNanos >= wall                                           ? Cause::collection
                           : ranShare (*chunk) < 0.5 || programStalledShare (*chunk, overslept) >= 0.5 ? Cause::noThreadRunning
                                                                                                       : Cause::ownChunk;
            }
            else
            {
                // Until its chunk started; or, for input the pool skipped as too late (a latency
                // that grew later reads it again), until the skip.
                const Event* skipped = holding (skips[d.instance], d.ringPos);
                const int64_t w1 = std::min ({ chunk != nullptr ? chunk->start : T, skipped != nullptr ? skipped->start : T, T });
                Shares s;
                const Spans held = holders (chunks[d.instance], d.ringPos, A, std::max (A, w1), s);
                for (const auto& [lane, events] : lanes)
                    addLane (events, d.instance, A, std::max (A, w1), overslept, held, s);
                dc.cause = largest (s);
                if ((dc.cause == Cause::queued || dc.cause == Cause::collection) && busy.saturatedBefore (T))
                    dc.cause = Cause::overloaded;
            }
            out.push_back (dc);
        }
        return out;
    }

    CauseCounts countCauses (const std::vector<DropoutCause>& causes)
    {
        CauseCounts c;
        for (const auto& d : causes)
            ++c[d.cause];
        return c;
    }

    void DropoutTally::advance (int64_t upTo, const Recorder& recorder) { advance (recorder.snapshot (windowFrom(), upTo), upTo); }

    void DropoutTally::advance (const Snapshot& trace, int64_t upTo)
    {
        for (const auto& d : attributeDropouts (trace))
        {
            if (d.dropout.start < done || d.dropout.start >= upTo)
                continue;
            if (! only.empty() && std::find (only.begin(), only.end(), d.dropout.instance) == only.end())
                continue;
            ++tally[d.cause];
        }
        done = upTo;
    }
} // namespace pg::trace
