// The trace (Source/Engine/Trace): its buffers, the dropouts' causes, the machine's figures and
// the Chrome JSON, on events written by hand. (Traces of the real engine: Tests/Simulation.)

#include "Clock.h"
#include "Trace/ChromeTrace.h"
#include "Trace/DropoutCauses.h"
#include "Trace/RunFigures.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace pg::trace;

namespace
{
    constexpr int64_t ms = 1'000'000;

    Event chunk (int lane, int instance, int64_t start, int64_t end, uint64_t ringPos, int64_t collector = 0, int64_t cpu = -1)
    {
        Event e;
        e.kind = Kind::chunk;
        e.lane = lane;
        e.instance = instance;
        e.start = start;
        e.end = end;
        e.ringPos = ringPos;
        e.frames = 128;
        e.collectorNanos = collector;
        e.cpuNanos = cpu;
        return e;
    }

    Event at (Kind kind, int lane, int instance, int64_t t, uint64_t ringPos, int64_t due = 0)
    {
        Event e;
        e.kind = kind;
        e.lane = lane;
        e.instance = instance;
        e.start = e.end = t;
        e.ringPos = ringPos;
        e.frames = 128;
        e.due = due;
        return e;
    }

    // A pool thread's nap: it meant to wake at `due` (by default when it did: at `end`).
    Event nap (int lane, int64_t start, int64_t end, int64_t due = -1)
    {
        Event e;
        e.kind = Kind::nap;
        e.lane = lane;
        e.start = start;
        e.end = end;
        e.due = due < 0 ? end : due;
        return e;
    }

    // A pool thread asleep until woken.
    Event sleep (int lane, int64_t start, int64_t end) { return nap (lane, start, end, untilWoken); }

    // Instance 0's block arrives at blockArrival (due 18 ms later) and is missing at 18 ms; `pool` is what the
    // two pool threads (lanes 1 and 2) did meanwhile.
    Cause causeOf (std::vector<Event> pool, int64_t blockArrival = 0)
    {
        Snapshot s;
        s.events = std::move (pool);
        s.events.push_back (at (Kind::block, 0, 0, blockArrival, 0, blockArrival + 18 * ms)); // (its deadline: L − B later)
        s.events.push_back (at (Kind::dropout, 0, 0, 18 * ms, 0));
        std::sort (s.events.begin(), s.events.end(), [] (const Event& a, const Event& b) { return a.start < b.start; });
        const auto causes = attributeDropouts (s);
        REQUIRE (causes.size() == 1);
        return causes.front().cause;
    }
} // namespace

TEST_CASE ("TraceBuffer keeps the newest events and drops what the writer overwrote", "[engine][trace]")
{
    TraceBuffer b ("lane", 3, 100); // rounded up to 128
    REQUIRE (b.getCapacity() == 128);
    for (int i = 0; i < 1000; ++i)
        b.push (chunk (0, i, i, i + 1, static_cast<uint64_t> (i)));
    const auto events = b.read();
    REQUIRE (events.size() == 128);
    CHECK (events.front().instance == 1000 - 128);
    CHECK (events.back().instance == 999);
    CHECK (events.back().lane == 3);
    CHECK (b.pushed() == 1000);

    // A reader racing the writer sees whole events, in order.
    std::atomic<bool> stop { false };
    std::thread writer ([&] {
        for (int i = 1000; ! stop.load(); ++i)
            b.push (chunk (0, i, i, i + 7, static_cast<uint64_t> (i)));
    });
    int torn = 0;
    for (int k = 0; k < 2000; ++k)
    {
        const auto got = b.read();
        for (size_t i = 0; i < got.size(); ++i)
            torn += (got[i].end != got[i].start + 7 && got[i].end != got[i].start + 1) || (i > 0 && got[i].instance != got[i - 1].instance + 1)
                        ? 1
                        : 0;
    }
    stop.store (true);
    writer.join();
    CHECK (torn == 0);
}

TEST_CASE ("The thread's CPU time: a reading taken less than `within` ago is reused, an older one is not", "[engine][trace]")
{
    const int64_t first = threadCpuNanos();
    REQUIRE (first >= 0);
    volatile double sink = 0.0;
    for (int i = 0; i < 2'000'000; ++i) // CPU time the thread spends after the reading
        sink = sink + 0.5 * i;
    CHECK (threadCpuNanosReusing (pg::nowNanos(), 60'000'000'000) == first); // (no new reading)
    const int64_t fresh = threadCpuNanosReusing (pg::nowNanos(), 0);
    CHECK (fresh > first);
    CHECK (threadCpuNanosReusing (pg::nowNanos(), 60'000'000'000) == fresh); // the newest reading
}

TEST_CASE ("Dropout causes: each rule, on a hand-written trace", "[engine][trace]")
{
    SECTION ("its own chunk ran past the slack")
    CHECK (causeOf ({ chunk (1, 0, 1 * ms, 25 * ms, 0), nap (2, 0, 30 * ms) }) == Cause::ownChunk);
    SECTION ("its own chunk was a collection")
    CHECK (causeOf ({ chunk (1, 0, 1 * ms, 25 * ms, 0, 20 * ms), nap (2, 0, 30 * ms) }) == Cause::collection);
    SECTION ("its own chunk's thread was descheduled")
    CHECK (causeOf ({ chunk (1, 0, 1 * ms, 25 * ms, 0, 0, 2 * ms), nap (2, 0, 30 * ms) }) == Cause::noThreadRunning);
    SECTION ("it waited behind other instances on both threads")
    CHECK (causeOf ({ chunk (1, 1, 0, 10 * ms, 0), chunk (2, 2, 0, 10 * ms, 0), chunk (1, 3, 10 * ms, 20 * ms, 0),
                      chunk (2, 4, 10 * ms, 20 * ms, 0), chunk (1, 0, 20 * ms, 21 * ms, 0) }) == Cause::queued);
    SECTION ("it waited behind other instances' collections")
    CHECK (causeOf ({ chunk (1, 1, 0, 19 * ms, 0, 18 * ms), chunk (2, 2, 0, 19 * ms, 0, 18 * ms), chunk (1, 0, 19 * ms, 20 * ms, 0) }) == Cause::collection);
    SECTION ("no pool thread ran")
    CHECK (causeOf ({ nap (1, 0, 1 * ms), nap (2, 0, 1 * ms), chunk (1, 0, 19 * ms, 20 * ms, 0) }) == Cause::noThreadRunning);
    SECTION ("the threads napped while the work waited")
    CHECK (causeOf ({ nap (1, 0, 19 * ms), nap (2, 0, 19 * ms), chunk (1, 0, 19 * ms, 20 * ms, 0) }) == Cause::lateWakeup);
    SECTION ("one thread napped as it meant to, the other slept, while the work waited")
    CHECK (causeOf ({ nap (1, 0, 19 * ms), sleep (2, 0, 19 * ms), chunk (1, 0, 19 * ms, 20 * ms, 0) }) == Cause::lateWakeup);
    SECTION ("the napping thread overslept (the machine did not run it) while the other slept")
    CHECK (causeOf ({ nap (1, 0, 19 * ms, 1 * ms), sleep (2, 0, 19 * ms), chunk (1, 0, 19 * ms, 20 * ms, 0) }) == Cause::noThreadRunning);
    SECTION ("a DSP program's long call is its own, unless the machine ran none of the pool's threads through most of it")
    {
        auto programChunk = chunk (1, 0, 1 * ms, 25 * ms, 0);
        programChunk.value = 1; // (a program: its work is in another process)
        CHECK (causeOf ({ programChunk, nap (2, 0, 30 * ms) }) == Cause::ownChunk);
        // The other thread meant to wake at 2 ms and did at 20: 18 of the call's 24 ms.
        CHECK (causeOf ({ programChunk, nap (2, 0, 20 * ms, 2 * ms), nap (2, 20 * ms, 30 * ms) }) == Cause::noThreadRunning);
        // Oversleeping for 10 of the 24 ms is not most of it.
        CHECK (causeOf ({ programChunk, nap (2, 0, 12 * ms, 2 * ms), nap (2, 12 * ms, 30 * ms) }) == Cause::ownChunk);
    }
    SECTION ("input the pool skipped as too late, read again after the latency grew: what the pool did until the skip")
    {
        // Both threads descheduled from 1 to 8 ms, the input skipped at 8 ms; at 18 ms a latency
        // that grew meanwhile reads it, after the threads napped 10 ms as they meant to.
        auto skipped = at (Kind::skip, 1, 0, 8 * ms, 0);
        skipped.frames = 1024;
        CHECK (causeOf ({ nap (1, 0, 8 * ms, 1 * ms), nap (2, 0, 8 * ms, 1 * ms), skipped, nap (1, 8 * ms, 30 * ms), nap (2, 8 * ms, 30 * ms) }) == Cause::noThreadRunning);
    }
    SECTION ("the host brought the input late")
    CHECK (causeOf ({ chunk (1, 0, 16 * ms, 19 * ms, 0) }, 15 * ms) == Cause::hostLate);
}

TEST_CASE ("Dropout causes: while the instance's earlier chunk held it, what that chunk did is the cause, not what other threads did",
           "[engine][trace]")
{
    // Instance 0's chunk of ring position 0 runs on lane 1 from 0 to `heldUntil`; its next block
    // (position 128) arrives at 1 ms, due at 19 ms, is missing at 19 ms, and its chunk runs after.
    // `other` is what lane 2 did meanwhile, and lane 1 after the earlier chunk: no other thread can
    // take an instance that a chunk holds.
    const auto causeOf = [] (Event earlier, std::vector<Event> other) {
        Snapshot s;
        s.events = std::move (other);
        s.events.push_back (earlier);
        auto next = chunk (1, 0, std::max<int64_t> (earlier.end, 20 * ms), std::max<int64_t> (earlier.end, 20 * ms) + ms, 128);
        next.arrival = 1 * ms;
        s.events.push_back (next);
        s.events.push_back (at (Kind::block, 0, 0, 1 * ms, 128, 19 * ms));
        s.events.push_back (at (Kind::dropout, 0, 0, 19 * ms, 128));
        std::sort (s.events.begin(), s.events.end(), [] (const Event& a, const Event& b) { return a.start < b.start; });
        const auto causes = attributeDropouts (s);
        REQUIRE (causes.size() == 1);
        return causes.front().cause;
    };
    const std::vector<Event> napping { nap (2, 0, 10 * ms), nap (2, 10 * ms, 20 * ms), nap (2, 20 * ms, 30 * ms) };
    const std::vector<Event> working { chunk (2, 1, 0, 15 * ms, 0, 0, 15 * ms), nap (2, 15 * ms, 30 * ms) };

    SECTION ("its thread was descheduled in the earlier chunk: the machine, while the other thread napped or worked")
    {
        CHECK (causeOf (chunk (1, 0, 0, 24 * ms, 0, 0, 1 * ms), napping) == Cause::noThreadRunning);
        CHECK (causeOf (chunk (1, 0, 0, 24 * ms, 0, 0, 1 * ms), working) == Cause::noThreadRunning);
    }
    SECTION ("the earlier chunk ran its own work, or a collection, all that time")
    {
        CHECK (causeOf (chunk (1, 0, 0, 24 * ms, 0, 0, 24 * ms), napping) == Cause::ownChunk);
        CHECK (causeOf (chunk (1, 0, 0, 24 * ms, 0, 20 * ms, 24 * ms), working) == Cause::collection);
    }
    SECTION ("once the earlier chunk had ended, the instance was free: what the threads did counts")
    {
        auto both = napping;
        both.push_back (nap (1, 2 * ms, 20 * ms));
        CHECK (causeOf (chunk (1, 0, 0, 2 * ms, 0, 0, 2 * ms), both) == Cause::lateWakeup);
        both = working;
        both.push_back (chunk (1, 2, 2 * ms, 20 * ms, 0, 0, 18 * ms));
        CHECK (causeOf (chunk (1, 0, 0, 2 * ms, 0, 0, 2 * ms), both) == Cause::queued);
    }
}

TEST_CASE ("Dropout causes: waiting behind others' work is overloaded when the pool had been running work all the second before",
           "[engine][trace]")
{
    // Both pool threads run other instances' chunks for `busyMs` of every 10 ms for a second and
    // more; instance 0's block arrives at 1 s, is missing at 1 s + 18 ms, and its chunk starts after.
    const auto causeAfterASecondAt = [] (int64_t busyMs) {
        Snapshot s;
        const int64_t arrival = 1000 * ms;
        for (int64_t t = 0; t < arrival + 20 * ms; t += 10 * ms)
            for (int lane : { 1, 2 })
            {
                s.events.push_back (chunk (lane, lane, t, t + busyMs * ms, static_cast<uint64_t> (t)));
                if (busyMs < 10)
                    s.events.push_back (nap (lane, t + busyMs * ms, t + 10 * ms));
            }
        s.events.push_back (chunk (1, 0, arrival + 20 * ms, arrival + 21 * ms, 0));
        s.events.push_back (at (Kind::block, 0, 0, arrival, 0, arrival + 18 * ms));
        s.events.push_back (at (Kind::dropout, 0, 0, arrival + 18 * ms, 0));
        std::sort (s.events.begin(), s.events.end(), [] (const Event& a, const Event& b) { return a.start < b.start; });
        const auto causes = attributeDropouts (s);
        REQUIRE (causes.size() == 1);
        return causes.front().cause;
    };
    CHECK (causeAfterASecondAt (10) == Cause::overloaded);
    CHECK (causeAfterASecondAt (9) == Cause::queued); // 90 %: the machine gave the pool more than its work
    CHECK (causeAfterASecondAt (8) == Cause::queued);
}

TEST_CASE ("Run figures: the machine's speed, from a reference instance's chunks", "[engine][trace]")
{
    // Instance 7 does the same work each chunk: 10 us of CPU in the first 5 s, then 25 us (the
    // machine slowed down), with one slow outlier in each window that the median leaves out.
    Snapshot s;
    for (int64_t k = 0; k < 200; ++k)
    {
        const int64_t t = k * 50 * ms, cpu = (t < 5000 * ms ? 10'000 : 25'000) * (k % 100 == 3 ? 40 : 1);
        s.events.push_back (chunk (1, 7, t, t + cpu, static_cast<uint64_t> (k), 0, cpu));
        s.events.push_back (chunk (2, 8, t, t + 99'000, static_cast<uint64_t> (k), 0, 99'000)); // another instance
    }
    RunFigures unknown;
    unknown.add (s, 0, 10'000 * ms);
    CHECK (unknown.slowdown() == 0.0);
    RunFigures f;
    f.followSpeedOf (7);
    f.add (s, 0, 5000 * ms);
    f.add (s, 5000 * ms, 10'000 * ms); // (in two windows, as a run adds them)
    CHECK (f.slowdown() == Approx (2.5));
}

TEST_CASE ("Run figures: the longest time no pool thread ran, the largest chunk, each instance's CPU", "[engine][trace]")
{
    Snapshot s;
    s.events = { chunk (1, 0, 0, 2 * ms, 0, 0, 2 * ms), nap (2, 0, 3 * ms),
                 // both threads gone from 3 ms to 7 ms; then a chunk whose thread ran 1 of its 4 ms
                 chunk (1, 1, 7 * ms, 11 * ms, 0, 0, 1 * ms), nap (2, 7 * ms, 9 * ms), nap (2, 12 * ms, 13 * ms),
                 chunk (1, 0, 13 * ms, 14 * ms, 0, 0, 1 * ms) };
    RunFigures f;
    f.add (s, 0, 20 * ms);
    CHECK (f.worstStallNanos() == 4 * ms);
    CHECK (f.largestChunkNanos() == 4 * ms);
    CHECK (f.cpuNanos (0) == 3 * ms);
    CHECK (f.cpuNanos (1) == 1 * ms);
}

TEST_CASE ("Chrome trace JSON: a track per lane, a slice per chunk, an instant per dropout named by its cause", "[engine][trace]")
{
    Snapshot s;
    s.lanes = { { 0, "instance 0 (audio)" }, { 1, "pool thread 0" } };
    s.events = { chunk (1, 0, 1 * ms, 25 * ms, 0), at (Kind::dropout, 0, 0, 18 * ms, 0) };
    const auto json = toChromeJson (s, attributeDropouts (s));
    CHECK (json.rfind ("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", 0) == 0);
    CHECK (json.find ("\"name\":\"thread_name\",\"pid\":1,\"tid\":2,\"args\":{\"name\":\"pool thread 0\"}") != std::string::npos);
    CHECK (json.find ("\"ph\":\"X\",\"cat\":\"chunk\",\"name\":\"instance 0\",\"ts\":0.000,\"dur\":24000.000") != std::string::npos);
    CHECK (json.find ("\"name\":\"dropout: own_chunk\",\"ts\":17000.000") != std::string::npos);
    CHECK (json.substr (json.size() - 4) == "\n]}\n");
}

TEST_CASE ("Run figures: a nap past the time it meant to wake is a stall while input waits, and so is a sleep the pool relied on it for",
           "[engine][trace]")
{
    SECTION ("one thread napped, meaning to wake at 2 ms, until 10 ms; the other slept")
    {
        Snapshot s;
        s.events = { chunk (1, 0, 0, 1 * ms, 0, 0, 1 * ms), nap (1, 1 * ms, 10 * ms, 2 * ms), sleep (2, 0, 12 * ms),
                     chunk (1, 0, 10 * ms, 11 * ms, 0, 0, 1 * ms) };
        RunFigures f;
        f.add (s, 0, 20 * ms);
        CHECK (f.worstStallNanos() == 8 * ms);
    }
    SECTION ("the same, with the next input arriving at 9 ms: only the last millisecond held it up")
    {
        Snapshot s;
        auto next = chunk (1, 0, 10 * ms, 11 * ms, 0, 0, 1 * ms);
        next.arrival = 9 * ms;
        s.events = { chunk (1, 0, 0, 1 * ms, 0, 0, 1 * ms), nap (1, 1 * ms, 10 * ms, 2 * ms), sleep (2, 0, 12 * ms), next };
        RunFigures f;
        f.add (s, 0, 20 * ms);
        CHECK (f.worstStallNanos() == 1 * ms);
    }
    SECTION ("the same nap, as meant: no stall")
    {
        Snapshot s;
        s.events = { chunk (1, 0, 0, 1 * ms, 0, 0, 1 * ms), nap (1, 1 * ms, 10 * ms), sleep (2, 0, 12 * ms), chunk (1, 0, 10 * ms, 11 * ms, 0, 0, 1 * ms) };
        RunFigures f;
        f.add (s, 0, 20 * ms);
        CHECK (f.worstStallNanos() == 0);
    }
}
