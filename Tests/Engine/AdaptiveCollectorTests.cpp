// The collector the worker runs (AdaptiveCollector.cpp): real collections, forced while running.

#include "EngineHarness.h"
#include "EngineTesting.h"
#include "LatencyEngine.h"

#include <catch2/catch.hpp>

using pgtest::fixedBlocks;
using pgtest::settingsFor;

TEST_CASE ("Real collector pauses: auto latency hides forced full collections (figures)", "[engine][pauses][lua][benchmark]")
{
    pg::LatencyEngine engine;
    engine.addScriptParameter ("drive_db", 12.0f);
    engine.addScriptParameter ("tone", 0.5f);
    engine.addScriptParameter ("output_db", 0.0f);
    engine.addScriptParameter ("garbage_kb", 64.0f);
    engine.addScriptParameter ("live_heap_mb", 48.0f);
    REQUIRE (engine.prepare (settingsFor (48000.0, 128, 2), pgtest::readAsset ("BuiltinEffect.lua"), "BuiltinEffect.lua", -1, true));
    REQUIRE (engine.waitForProfile (30.0)); // the profile runs on the loader thread
    const auto profile = engine.getProfile();
    engine.requestLatency (profile.latencySamples);
    const int latency = engine.getLatencySamples();
    WARN ("profile: worst collection " << profile.worstCollectionSeconds * 1000.0 << " ms, worst chunk "
                                       << profile.worstChunkSeconds * 1000.0 << " ms, heap " << profile.heapBytes / 1048576.0 << " MB, took "
                                       << profile.elapsedSeconds * 1000.0 << " ms -> L = " << latency << " samples");
    CHECK (profile.worstCollectionSeconds > 0.0); // the heap makes real pauses (several ms on an idle machine)
    CHECK (latency == profile.latencySamples);
    CHECK (latency >= 480);

    const auto in = pgtest::noise (2, 48000 * 4, 5);
    int forced = 0;
    pgtest::run (engine, in, fixedBlocks (128), false, [&] (size_t pos) {
        if (pos % 24000 < 128 && pos > 0)
        {
            pg::EngineTesting::requestFullCollection (engine);
            ++forced;
        }
    });
    const auto pauses = engine.getPauseHistogram();
    // Whether these real pauses stay hidden at real-time pace depends on the machine: a figure, not
    // a check (the contract itself is proven with held workers: ChunkWorkerTests.cpp).
    WARN ("forced " << forced << " collections while running; worst " << pauses.maxSeconds * 1000.0 << " ms; dropouts "
                    << engine.getCounters().dropoutEvents);
    CHECK (pauses.count >= static_cast<uint64_t> (forced));
}
