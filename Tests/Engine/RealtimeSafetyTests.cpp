#include "EngineTesting.h"
#include "EngineHarness.h"
#include "LatencyEngine.h"

#include <catch2/catch.hpp>

#if PAUSEGUARD_HAVE_RT_AUDIT
#include "RealtimeAudit.h"

namespace
{
    // Calls processBlock like a host, auditing only the calls themselves.
    pgtest::AuditCounts auditedBlocks (pg::LatencyEngine& engine, int blocks, int blockSize, bool waitForWorker)
    {
        std::vector<float> l (static_cast<size_t> (blockSize)), r (static_cast<size_t> (blockSize));
        float* ch[] = { l.data(), r.data() };
        pgtest::AuditCounts total;
        for (int b = 0; b < blocks; ++b)
        {
            for (int i = 0; i < blockSize; ++i)
                l[static_cast<size_t> (i)] = r[static_cast<size_t> (i)] = static_cast<float> ((b * 31 + i) % 17) / 17.0f;
            {
                pgtest::ScopedRealtimeAudit audit;
                engine.processBlock (ch, 2, blockSize);
                const auto c = audit.counts();
                total.allocations += c.allocations;
                total.frees += c.frees;
                total.locks += c.locks;
                total.waits += c.waits;
            }
            if (waitForWorker)
                pg::EngineTesting::waitForWorker (engine, 5.0);
        }
        return total;
    }
} // namespace

TEST_CASE ("The audit sees allocations and locks (so a zero below means something)", "[engine][realtime]")
{
    CHECK (pgtest::auditIsLive());
}

TEST_CASE ("processBlock makes no allocation, lock or wait: normal and underrun paths", "[engine][realtime]")
{
    REQUIRE (pgtest::auditIsLive());
    pg::LatencyEngine engine;
    engine.addScriptParameter ("garbage_kb", 64.0f);
    engine.addScriptParameter ("live_heap_mb", 2.0f);
    pg::EngineSettings s;
    s.sampleRate = 48000.0;
    s.maxBlockSize = 256;
    s.numChannels = 2;
    REQUIRE (engine.prepare (s, pgtest::readAsset ("BuiltinEffect.lua"), "BuiltinEffect.lua", 960));
    pg::EngineTesting::setRenderDetection (engine, false); // a real-time host, simulated faster than real time: no render's wait

    SECTION ("worker keeping up")
    {
        const auto c = auditedBlocks (engine, 400, 128, true);
        CHECK (c.allocations == 0);
        CHECK (c.frees == 0);
        CHECK (c.locks == 0);
        CHECK (c.waits == 0);
        CHECK (engine.getCounters().dropoutEvents == 0);
    }
    SECTION ("worker stalled: underruns, dry fill, then skipping stale input")
    {
        pg::EngineTesting::injectWorkerPause (engine, 0.2);
        const auto c = auditedBlocks (engine, 600, 128, false);
        CHECK (engine.getCounters().dropoutEvents > 0);
        CHECK (c.allocations == 0);
        CHECK (c.frees == 0);
        CHECK (c.locks == 0);
        CHECK (c.waits == 0);
    }
    SECTION ("blocks larger than prepared, block size 1, latency changes")
    {
        auto c = auditedBlocks (engine, 20, 1000, true);
        engine.requestLatency (4000);
        const auto c1 = auditedBlocks (engine, 500, 1, false);
        engine.requestLatency (100);
        const auto c2 = auditedBlocks (engine, 50, 64, false);
        CHECK (c.total() + c1.total() + c2.total() == 0);
    }
}
#endif
