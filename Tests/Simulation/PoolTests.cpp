// The shared pool under virtual time (DESIGN.md item 11): many instances on k threads.
//
// The bound relied on: every instance is called once per period P by the same callback, so the
// chunks released in a period are N chunks of at most c each. Non-preemptive EDF on k threads
// finishes them within ⌈N/k⌉·c of their release, plus a napping thread's wake-up (at most
// 0.5 ms): the thread that finds more work than it takes wakes a sleeper, unless it can run all
// of it itself (the first as long as the longest run of late) 1 ms before the earliest deadline
// and be idle again before the next period; then they end within that period. So when
// ⌈N/k⌉·c ≤ P (the pool is never behind at the next period) and ⌈N/k⌉·c + 0.5 ms + c ≤ the slack
// (L − one block − the 1 ms fade), no deadline is missed. At 48 kHz, 128-sample blocks, L = 960:
// P = 2.67 ms, slack = 16.3 ms.

#include "SimulatedSession.h"
#include "Trace/DropoutCauses.h"

#include <catch2/catch.hpp>

#include <map>

using namespace pgtest;

namespace
{
    SessionConfig instancesCosting (int n, int64_t cost)
    {
        SessionConfig c;
        c.instances = n;
        c.costs = [cost] (int) {
            DspCosts d;
            d.chunk = [cost] (long, int) { return cost; };
            return d;
        };
        return c;
    }

    // A runtime that collects by itself, as Lua's incremental collector does at the default
    // workload (16 KB of garbage a block, 4 MB live): a cycle every 256 blocks, its end a chunk of
    // 1.6 ms; the chunks themselves 0.12 ms (4.5 % of a core at 128-sample blocks).
    SessionConfig collectingInstances (int n, size_t liveBytes = size_t (4) << 20)
    {
        SessionConfig c;
        c.instances = n;
        c.costs = [liveBytes] (int) {
            DspCosts d;
            d.chunk = [] (long, int) { return 120 * us; };
            d.fullCollection = 1600 * us;
            d.liveBytes = liveBytes;
            d.garbagePerChunk = liveBytes / 256;
            d.cycleChunks = 256;
            return d;
        };
        return c;
    }

    // The same, each instance's costs then changed by `adjust` (given the instance's index).
    SessionConfig collectingInstances (int n, std::function<void (DspCosts&, int)> adjust)
    {
        auto c = collectingInstances (n);
        c.costs = [base = c.costs, adjust] (int i) {
            auto d = base (i);
            adjust (d, i);
            return d;
        };
        return c;
    }
    // The pool's waits (by thread) and chunks over a session's last 300 periods (past its start),
    // and the longest a chunk waited for a thread after its input arrived.
    struct PoolActivity
    {
        std::map<int, size_t> waitsByLane;
        size_t waits = 0, chunks = 0;
        int64_t latestStart = 0;
        // The fewest waits of a thread (0 if one never woke: it has no wait in the trace).
        size_t fewestWaits (size_t threads) const
        {
            size_t fewest = waitsByLane.size() < threads ? 0 : SIZE_MAX;
            for (const auto& [lane, n] : waitsByLane)
                fewest = std::min (fewest, n);
            return fewest;
        }
    };

    PoolActivity lastPeriodsOf (SimulatedSession& s)
    {
        constexpr int64_t period = 2'666'667;
        s.play (375); // 1 s
        const auto snapshot = pg::trace::Recorder::global().snapshot();
        PoolActivity a;
        if (snapshot.events.empty())
            return a;
        const int64_t from = snapshot.events.back().start - period * 300;
        for (const auto& e : snapshot.events)
        {
            if (e.start < from)
                continue;
            if (e.kind == pg::trace::Kind::nap)
            {
                ++a.waitsByLane[e.lane];
                ++a.waits;
            }
            if (e.kind == pg::trace::Kind::chunk)
            {
                ++a.chunks;
                a.latestStart = std::max (a.latestStart, e.start - e.arrival);
            }
        }
        return a;
    }
} // namespace

TEST_CASE ("Simulation: the pool meets every deadline while ceil(N/k) chunks fit a period", "[sim][pool]")
{
    const int64_t period = 2'666'667;
    for (const int n : { 8, 16, 32, 40 })
    {
        for (const double utilisation : { 0.5, 0.7, 0.9 })
        {
            const int64_t cost = static_cast<int64_t> (utilisation * 2.0 * static_cast<double> (period) / ((n + 1) / 2 * 2));
            SimulatedSession s (instancesCosting (n, cost));
            s.play (3 * 375); // 3 s
            INFO (n << " instances, " << utilisation * 100 << " % of 2 threads, chunks of " << cost / 1000 << " us");
            CHECK (s.totalDropouts() == 0);
        }
    }
}

TEST_CASE ("Simulation: past the pool's capacity, instances drop out (the bound is not vacuous)", "[sim][pool]")
{
    const int64_t period = 2'666'667;
    SimulatedSession s (instancesCosting (16, static_cast<int64_t> (1.1 * 2.0 * static_cast<double> (period) / 16)));
    s.play (375);
    CHECK (s.totalDropouts() > 0);
}

TEST_CASE ("Simulation: identical instances prepared together do not collect in step (32, 0 dropouts from the first block)",
           "[sim][pool][phases]")
{
    SimulatedSession s (collectingInstances (32));
    s.play (5 * 375);
    CHECK (s.totalDropouts() == 0);
    uint64_t collections = 0;
    for (auto& e : s.engines)
        collections += e->getCounters().fullCollections;
    CHECK (collections >= 32); // each moved its cycle once, at least
    CHECK (collections <= 3 * 32);
}

TEST_CASE ("Simulation: cycles whose ends vary by a few chunks are not chased, and never drop out",
           "[sim][pool][phases]")
{
    SimulatedSession s (collectingInstances (32, [] (DspCosts& d, int i) {
        d.cycleJitter = 12; // ±5 % of the cycle
        d.seed = static_cast<unsigned> (i + 1);
    }));
    auto collections = [&s] {
        uint64_t n = 0;
        for (auto& e : s.engines)
            n += e->getCounters().fullCollections;
        return n;
    };
    s.play (10 * 375); // about 15 cycles each
    const auto first = collections();
    s.play (10 * 375);
    const auto second = collections() - first;
    INFO ("full collections: " << first << " in the first 10 s, " << second << " in the next");
    CHECK (s.totalDropouts() == 0);
    CHECK (first <= 3 * 32); // each moved at the start, and a correction or two
    CHECK (second <= 32); // then, where the ends wander into each other, now and then
}

TEST_CASE ("Simulation: cycles of slightly different lengths drift into each other, and are moved apart without herding",
           "[sim][pool][phases]")
{
    // 29 instances (0.7 of what two threads carry), their cycles 253 to 259 chunks long: their
    // ends drift into each other every few cycles. Several that find their ends crowded at once must
    // not all move to the same gap (each move claims its place in the table at once).
    const auto c = collectingInstances (29, [] (DspCosts& d, int i) { d.cycleChunks = 253 + i % 7; });
    pg::trace::Recorder::global().enable (60.0);
    {
        SimulatedSession s (c);
        s.play (30 * 375); // about 40 cycles each
        // The moves: full collections the engine ran (the cycle ends the runtime ran itself are
        // chunks). The most that began within 10 ms of each other, after the first spread.
        std::vector<int64_t> moves;
        const auto snapshot = pg::trace::Recorder::global().snapshot();
        for (const auto& e : snapshot.events)
            if (e.kind == pg::trace::Kind::collection && e.start > 3 * 1'000'000'000LL)
                moves.push_back (e.start);
        std::sort (moves.begin(), moves.end());
        size_t together = 0;
        for (size_t i = 0, j = 0; i < moves.size(); ++i)
        {
            while (moves[i] - moves[j] > 10 * ms)
                ++j;
            together = std::max (together, i - j + 1);
        }
        INFO (moves.size() << " moves after 3 s; at most " << together << " within 10 ms");
        CHECK (s.totalDropouts() == 0);
        CHECK (together <= 2);
    }
    pg::trace::Recorder::global().disable();
}

TEST_CASE ("Simulation: heaps too large to move collect in step, and the trace names the collections", "[sim][pool][trace]")
{
    pg::trace::Recorder::global().enable (10.0);
    {
        SimulatedSession s (collectingInstances (32, size_t (32) << 20));
        s.play (3 * 375);
        REQUIRE (s.totalDropouts() > 0);
        const auto causes = pg::trace::countCauses (pg::trace::attributeDropouts (pg::trace::Recorder::global().snapshot()));
        CHECK (causes.total() == s.totalDropouts());
        for (int c = 0; c < static_cast<int> (pg::trace::Cause::count); ++c)
            UNSCOPED_INFO (pg::trace::causeName (static_cast<pg::trace::Cause> (c)) << " " << causes.counts[static_cast<size_t> (c)]);
        CHECK (causes[pg::trace::Cause::collection] > causes.total() / 2);
    }
    pg::trace::Recorder::global().disable();
}

TEST_CASE ("Simulation: a pool thread the machine stops while it naps is covered by the other, which the audio thread wakes",
           "[sim][pool]")
{
    // Four instances of 100 us chunks: one thread does a period's work and naps for the next
    // callback; the other sleeps. Here the machine stops one thread for 25 ms (longer than the
    // 16 ms slack) 1 ms after a callback, when its work is done: if it is the napping one, it
    // oversleeps its wake-up, and the audio thread, finding it overdue, wakes them all.
    for (int stopped = 0; stopped < 2; ++stopped)
    {
        SimulatedSession s (instancesCosting (4, 100 * us));
        s.play (375); // 1 s
        const int64_t period = s.periodNanos();
        const int64_t nextCallback = s.sim.now() + period; // play() calls back one period on
        for (int k = 0; k < 8; ++k)
        {
            const int64_t from = nextCallback + (40 * k + 20) * period + 1 * ms;
            s.sim.stall (stopped, from, from + 25 * ms);
        }
        const uint64_t before = s.totalDropouts();
        s.play (375);
        INFO ("pool thread " << stopped << " stopped 8 times for 25 ms");
        CHECK (s.totalDropouts() == before);
    }
}

TEST_CASE ("Simulation: while blocks arrive, two instances wake one thread, which runs both and naps for the next block",
           "[sim][pool][trace]")
{
    // The pool's own cost: every wait is a wake-up and a context switch, dearer than a 100 us
    // chunk. A napping thread wakes by itself, so the audio thread never has to wake one; it naps
    // until a quarter of a millisecond after the next callback is due: one wake-up a period. It runs
    // both blocks, one after the other: even if its first were as long as the longest run of late
    // (a collection), both would be done long before their deadlines (16 ms on), and it would be
    // back before the next callback. The other thread sleeps. A block waits at most 0.5 ms and
    // one other chunk (a collection, 2 ms here). (When a thread that found more work than it took always woke the other, this
    // run waited 3 times a period, about once on the second thread; with both napping 0.5 ms at a
    // time, 3,074 times in 300 periods; when it woke shortly before the callback, to nap for it
    // again, twice a period.)
    pg::trace::Recorder::global().enable (10.0);
    {
        SimulatedSession s (instancesCosting (2, 100 * us));
        const auto a = lastPeriodsOf (s);
        for (const auto& [lane, n] : a.waitsByLane)
            UNSCOPED_INFO ("lane " << lane << ": " << n << " waits");
        INFO (a.waits << " waits and " << a.chunks << " chunks in 300 periods; a chunk started at most " << a.latestStart / 1000
                      << " us after its input");
        CHECK (s.totalDropouts() == 0);
        CHECK (a.chunks >= 2 * 299);
        CHECK (a.fewestWaits (2) <= 10); // the other thread sleeps (a mark wakes it while the first runs late)
        CHECK (a.waits <= 300 + 10); // one wake-up a period
        CHECK (a.latestStart <= 500 * us + DspCosts {}.fullCollection + 100 * us);
    }
    pg::trace::Recorder::global().disable();
}

TEST_CASE ("Simulation: where a collection would hold one thread past another block's deadline, the other thread runs that block",
           "[sim][pool]")
{
    // 256-sample blocks at the smallest latency (480): each block is due one period (5.3 ms) after
    // it arrives. Instance 0 collects (7 ms) every 64 blocks: it drops out then, as physics says.
    // Instance 1 never collects, and must not drop out: a thread that takes instance 0's block,
    // with a collection as the longest run of late, cannot promise instance 1's block in time
    // alone, and wakes the other thread. Only a run longer than any of the last second or two can
    // hold the other block up to the next callback (its mark wakes a thread): here, the first
    // collection. (With the longest run left out of the rule, one thread ran both, and instance
    // 1 dropped out behind each collection.)
    SessionConfig config;
    config.instances = 2;
    config.block = 256;
    config.latency = -1;
    config.costs = [] (int i) {
        DspCosts d;
        d.chunk = [] (long, int) { return 100 * us; };
        d.fullCollection = 7 * ms;
        d.cycleChunks = i == 0 ? 64 : 0;
        return d;
    };
    SimulatedSession s (config);
    s.play (188); // 1 s: the first collections
    const uint64_t before0 = s.dropouts (0), before1 = s.dropouts (1);
    s.play (375); // 2 s: instance 0 collects about 5 times
    INFO ("latency " << s.engines[0]->getLatencySamples() << "; in the first second, instance 0 dropped out " << before0
                     << " times, instance 1 " << before1 << "; in the next two, " << s.dropouts (0) - before0 << " and "
                     << s.dropouts (1) - before1);
    CHECK (s.dropouts (0) - before0 >= 4); // (the collections are real)
    CHECK (s.dropouts (1) == before1);
}

TEST_CASE ("Simulation: one instance wakes one thread, which naps for its next block itself, and takes each block within 0.5 ms",
           "[sim][pool][trace]")
{
    // A thread that takes a block and will be idle again before the next callback wakes no
    // sleeper: it naps for that callback itself, once a period. The other thread sleeps the whole
    // time. (When each block woke the other thread, this run waited 901 times, 450 on each thread;
    // when the thread woke shortly before the callback to nap for it again, 600.)
    pg::trace::Recorder::global().enable (10.0);
    {
        SimulatedSession s (instancesCosting (1, 100 * us));
        const auto a = lastPeriodsOf (s);
        for (const auto& [lane, n] : a.waitsByLane)
            UNSCOPED_INFO ("lane " << lane << ": " << n << " waits");
        INFO (a.waits << " waits and " << a.chunks << " chunks in 300 periods; a chunk started at most " << a.latestStart / 1000
                      << " us after its input");
        CHECK (s.totalDropouts() == 0);
        CHECK (a.chunks >= 299);
        CHECK (a.fewestWaits (2) <= 3); // the other thread sleeps
        CHECK (a.waits <= 300 + 3); // one wake-up a period
        CHECK (a.latestStart <= 500 * us);
    }
    pg::trace::Recorder::global().disable();
}
