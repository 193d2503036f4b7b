// The shared worker pool: earliest deadline first, one thread per client at a time, a long run
// on one thread does not hold the others, detach waits, and the threads flush subnormals.

#include "EngineTesting.h"
#include "EngineHarness.h"
#include "WorkerPool.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace
{
    using Ran = pg::WorkerPool::Ran;

    // A client that runs `pending` chunks, each calling `body`, then reports idle.
    struct FakeClient
    {
        std::function<void()> body;
        std::atomic<int> pending { 0 }, runs { 0 }, inside { 0 }, mostInside { 0 };

        static Ran run (void* self)
        {
            auto& c = *static_cast<FakeClient*> (self);
            const int now = c.inside.fetch_add (1) + 1;
            int most = c.mostInside.load();
            while (now > most && ! c.mostInside.compare_exchange_weak (most, now))
            {
            }
            Ran ran = Ran::idle;
            if (c.pending.load() > 0)
            {
                c.pending.fetch_sub (1);
                c.runs.fetch_add (1);
                if (c.body)
                    c.body();
                ran = Ran::worked;
            }
            c.inside.fetch_sub (1);
            return ran;
        }
    };

    bool waitUntil (const std::function<bool()>& done, double seconds = 10.0)
    {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double> (seconds);
        while (! done())
        {
            if (std::chrono::steady_clock::now() > end)
                return false;
            std::this_thread::sleep_for (std::chrono::microseconds (200));
        }
        return true;
    }
} // namespace

TEST_CASE ("Pool: pending clients run earliest deadline first", "[engine][pool]")
{
    pg::WorkerPool pool (1);
    std::mutex orderLock;
    std::vector<char> order;
    std::atomic<bool> gateOpen { false }, gateEntered { false };
    FakeClient gate, a, b, c;
    gate.body = [&] {
        gateEntered = true;
        waitUntil ([&] { return gateOpen.load(); });
    };
    const auto record = [&] (char name) { return [&, name] { std::lock_guard<std::mutex> l (orderLock); order.push_back (name); }; };
    a.body = record ('a');
    b.body = record ('b');
    c.body = record ('c');
    auto* gs = pool.attach (&FakeClient::run, &gate);
    auto* as = pool.attach (&FakeClient::run, &a);
    auto* bs = pool.attach (&FakeClient::run, &b);
    auto* cs = pool.attach (&FakeClient::run, &c);

    // The only thread is held inside `gate` while the others become pending, in the order a, b, c
    // with deadlines 300, 100, 200.
    gate.pending = 1;
    pool.markPending (gs, 0);
    REQUIRE (waitUntil ([&] { return gateEntered.load(); }));
    a.pending = b.pending = c.pending = 1;
    pool.markPending (as, 300);
    pool.markPending (bs, 100);
    pool.markPending (cs, 200);
    gateOpen = true;
    REQUIRE (waitUntil ([&] { std::lock_guard<std::mutex> l (orderLock); return order.size() == 3; }));
    CHECK (order == std::vector<char> { 'b', 'c', 'a' });
    for (auto* s : { gs, as, bs, cs })
        pool.detach (s);
}

TEST_CASE ("Pool: a client is never run by two threads at once", "[engine][pool]")
{
    pg::WorkerPool pool (4);
    FakeClient client;
    client.body = [] { std::this_thread::sleep_for (std::chrono::microseconds (20)); };
    auto* slot = pool.attach (&FakeClient::run, &client);
    // Another thread keeps marking it pending, as an audio thread does, from every pool thread's
    // point of view at once.
    for (int i = 0; i < 2000; ++i)
    {
        client.pending.fetch_add (1);
        pool.markPending (slot, i);
    }
    REQUIRE (waitUntil ([&] { return client.runs.load() == 2000; }));
    CHECK (client.mostInside.load() == 1);
    pool.detach (slot);
}

TEST_CASE ("Pool: a long run on one thread does not hold the other clients", "[engine][pool]")
{
    // The long client returns only once the short one has run: with one thread, or with clients
    // run in turn, it would wait its whole 10 s and the check below would fail.
    pg::WorkerPool pool (2);
    FakeClient longClient, shortClient;
    std::atomic<bool> shortRan { false }, longSawShort { false };
    longClient.body = [&] { longSawShort = waitUntil ([&] { return shortRan.load(); }); };
    shortClient.body = [&] { shortRan = true; };
    auto* ls = pool.attach (&FakeClient::run, &longClient);
    auto* ss = pool.attach (&FakeClient::run, &shortClient);
    longClient.pending = 1;
    pool.markPending (ls, 0); // the earlier deadline: it is taken first
    REQUIRE (waitUntil ([&] { return longClient.inside.load() == 1; }));
    shortClient.pending = 1;
    pool.markPending (ss, 1);
    REQUIRE (waitUntil ([&] { return longClient.runs.load() == 1 && longClient.inside.load() == 0; }, 20.0));
    CHECK (longSawShort.load());
    pool.detach (ls);
    pool.detach (ss);
}

TEST_CASE ("Pool: detach returns only once no thread is inside the client, and it is not run again", "[engine][pool]")
{
    pg::WorkerPool pool (2);
    FakeClient client;
    client.body = [] { std::this_thread::sleep_for (std::chrono::milliseconds (50)); };
    auto* slot = pool.attach (&FakeClient::run, &client);
    client.pending = 1000;
    pool.markPending (slot, 0);
    REQUIRE (waitUntil ([&] { return client.inside.load() == 1; }));
    pool.detach (slot);
    CHECK (client.inside.load() == 0);
    const int runs = client.runs.load();
    std::this_thread::sleep_for (std::chrono::milliseconds (120));
    CHECK (client.runs.load() == runs);
    CHECK (pool.attachedClients() == 0);
}

TEST_CASE ("Pool: a blocked client is retried without holding up the others", "[engine][pool]")
{
    pg::WorkerPool pool (1);
    std::atomic<bool> unblock { false };
    std::atomic<int> blockedCalls { 0 };
    struct Blocked
    {
        std::atomic<bool>* unblock;
        std::atomic<int>* calls;
        std::atomic<bool> done { false };
        static Ran run (void* self)
        {
            auto& b = *static_cast<Blocked*> (self);
            if (b.done.load())
                return Ran::idle;
            b.calls->fetch_add (1);
            if (! b.unblock->load())
                return Ran::blocked;
            b.done = true;
            return Ran::worked;
        }
    } blocked { &unblock, &blockedCalls };
    FakeClient other;
    auto* bs = pool.attach (&Blocked::run, &blocked);
    auto* os = pool.attach (&FakeClient::run, &other);
    pool.markPending (bs, 0); // the earliest deadline, but it cannot progress
    for (int i = 0; i < 50; ++i)
    {
        other.pending.fetch_add (1);
        pool.markPending (os, 1000);
    }
    CHECK (waitUntil ([&] { return other.runs.load() == 50; }));
    CHECK (blockedCalls.load() >= 1);
    unblock = true;
    CHECK (waitUntil ([&] { return blocked.done.load(); }));
    pool.detach (bs);
    pool.detach (os);
}

#if defined(__x86_64__) || defined(__aarch64__)
TEST_CASE ("Pool: its threads flush subnormal numbers to zero", "[engine][pool]")
{
    pg::WorkerPool pool (1);
    volatile double tiny = 1.0e-300;
    volatile float tinyFloat = 1.0e-30f;
    std::atomic<double> onPool { -1.0 };
    std::atomic<float> onPoolFloat { -1.0f };
    FakeClient client;
    client.body = [&] {
        onPool = tiny * 1.0e-10; // subnormal: 1e-310
        onPoolFloat = tinyFloat * 1.0e-10f;
    };
    auto* slot = pool.attach (&FakeClient::run, &client);
    client.pending = 1;
    pool.markPending (slot, 0);
    REQUIRE (waitUntil ([&] { return client.runs.load() == 1 && client.inside.load() == 0; }));
    pool.detach (slot);
    CHECK (tiny * 1.0e-10 != 0.0); // not flushed on this thread
    CHECK (onPool.load() == 0.0);
    CHECK (onPoolFloat.load() == 0.0f);
}
#endif

TEST_CASE ("Pool: forty engines share the process's pool, each exact", "[engine][pool]")
{
    constexpr int instances = 40;
    std::vector<std::unique_ptr<pg::LatencyEngine>> engines;
    for (int i = 0; i < instances; ++i)
    {
        engines.push_back (std::make_unique<pg::LatencyEngine>());
        REQUIRE (engines.back()->prepare (pgtest::settingsFor (48000.0, 128, 2), pgtest::simpleScript, "simple.lua", 960));
    }
    const auto pool = pg::WorkerPool::shared();
    CHECK (pool->attachedClients() >= instances);
    CHECK (pool->threadCount() == pg::WorkerPool::defaultThreadCount());

    // One host callback after another, each calling every engine in turn, then waiting for all.
    const auto in = pgtest::noise (2, 128 * 100, 5);
    auto outs = std::vector<std::vector<std::vector<float>>> (instances, in);
    for (size_t pos = 0; pos < in[0].size(); pos += 128)
    {
        for (size_t e = 0; e < engines.size(); ++e)
        {
            float* ptrs[] = { outs[e][0].data() + pos, outs[e][1].data() + pos };
            engines[e]->processBlock (ptrs, 2, 128);
        }
        for (auto& e : engines)
            REQUIRE (pg::EngineTesting::waitForWorker (*e, 10.0));
    }
    const auto wet = pgtest::simpleWet (in);
    for (size_t e = 0; e < engines.size(); ++e)
    {
        INFO ("engine " << e);
        CHECK (engines[e]->getCounters().dropoutEvents == 0);
        size_t wrong = 0;
        for (size_t c = 0; c < 2; ++c)
            for (size_t n = 0; n < in[0].size(); ++n)
                wrong += outs[e][c][n] != pgtest::delayedAt (wet[c], n, 960) ? 1 : 0;
        CHECK (wrong == 0);
    }
}
