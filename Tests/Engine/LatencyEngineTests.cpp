#include "EngineHarness.h"
#include "LatencyEngine.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using pgtest::countMisaligned;
using pgtest::delayedAt;
using pgtest::fixedBlocks;
using pgtest::settingsFor;

namespace
{
    std::function<int()> randomBlocks (int maxBlock, unsigned seed)
    {
        auto rng = std::make_shared<std::mt19937> (seed);
        return [rng, maxBlock] {
            const int pick = std::uniform_int_distribution<int> (0, 9) (*rng);
            if (pick == 0)
                return 1;
            if (pick == 1)
                return maxBlock;
            return std::uniform_int_distribution<int> (1, maxBlock) (*rng);
        };
    }

} // namespace

// Alignment for any block sizes, exactly, at every rate, channel count and mix: proven under
// virtual time, with the same script (Tests/Simulation/AlignmentTests.cpp).

TEST_CASE ("Alignment: an impulse at k comes out at k + L", "[engine][alignment]")
{
    const int asked = GENERATE (128, 305, 480, 4800); // 128 is below the floor for 128-sample blocks: raised
    pg::LatencyEngine engine;
    REQUIRE (engine.prepare (settingsFor (48000.0, 128, 2), pgtest::simpleScript, "simple.lua", asked));
    const int latency = engine.getLatencySamples();
    CHECK (latency == std::max (asked, pg::LatencyEngine::latencyFloorFor (128, 48000.0)));
    std::vector<std::vector<float>> in (2, std::vector<float> (12000, 0.0f));
    in[0][1234] = 1.0f;
    in[1][777] = 1.0f;
    const auto out = pgtest::run (engine, in, randomBlocks (128, static_cast<unsigned> (latency)), true);
    for (size_t n = 0; n < out[0].size(); ++n)
    {
        // wet of an impulse: 0.5 at k, 0.25 at k + 1
        const float e0 = n == 1234u + static_cast<size_t> (latency) ? 0.5f : (n == 1235u + static_cast<size_t> (latency) ? 0.25f : 0.0f);
        const float e1 = n == 777u + static_cast<size_t> (latency) ? 0.5f : (n == 778u + static_cast<size_t> (latency) ? 0.25f : 0.0f);
        if (out[0][n] != e0 || out[1][n] != e1)
            FAIL ("sample " << n << ": " << out[0][n] << ", " << out[1][n]);
    }
}

TEST_CASE ("Bypass keeps the latency: the dry signal delayed by L", "[engine][alignment]")
{
    pg::LatencyEngine engine;
    const int latency = 600;
    REQUIRE (engine.prepare (settingsFor (48000.0, 128, 2), pgtest::simpleScript, "simple.lua", latency));
    engine.setBypassed (true);
    const auto in = pgtest::noise (2, 8000, 3);
    const auto wet = pgtest::simpleWet (in);
    const auto out = pgtest::run (engine, in, fixedBlocks (100), true);
    CHECK (countMisaligned (in, wet, out, latency, 0.0f) == 0);
}

TEST_CASE ("A new sample rate and block size between prepares resets cleanly", "[engine][robustness]")
{
    pg::LatencyEngine engine;
    for (const auto& [rate, block] : { std::pair { 44100.0, 512 }, std::pair { 96000.0, 32 }, std::pair { 22050.0, 4096 } })
    {
        REQUIRE (engine.prepare (settingsFor (rate, block, 2), pgtest::simpleScript, "simple.lua", static_cast<int> (0.02 * rate)));
        const int latency = engine.getLatencySamples();
        CHECK (latency == std::max (static_cast<int> (0.02 * rate), pg::LatencyEngine::latencyFloorFor (block, rate)));
        const auto in = pgtest::noise (2, 9000, 4);
        const auto out = pgtest::run (engine, in, randomBlocks (block, 9), true);
        CHECK (countMisaligned (in, pgtest::simpleWet (in), out, latency, 1.0f) == 0);
        engine.release();
    }
}

TEST_CASE ("A latency change is exact at once: impulses come out at the new L", "[engine][alignment]")
{
    pg::LatencyEngine engine;
    REQUIRE (engine.prepare (settingsFor (48000.0, 128, 1), pgtest::simpleScript, "simple.lua", 480));
    std::vector<std::vector<float>> in (1, std::vector<float> (30000, 0.0f));
    for (size_t k = 100; k < in[0].size(); k += 1000)
        in[0][k] = 1.0f;
    int newLatency = 480;
    const auto out = pgtest::run (engine, in, fixedBlocks (128), true, [&] (size_t pos) {
        if (pos == 128 * 80)
            engine.requestLatency (newLatency = 2000); // grow
        if (pos == 128 * 160)
            engine.requestLatency (newLatency = 320); // shrink
    });
    // Every impulse that arrived after a change, and whose output falls after it, is at k + L_new.
    for (size_t k = 100; k < in[0].size(); k += 1000)
    {
        const size_t lat = k >= 128 * 160 ? 320 : (k >= 128 * 80 ? 2000 : 480);
        if (k + lat >= out[0].size())
            continue;
        if ((k < 128 * 80 && k + lat >= 128 * 80) || (k < 128 * 160 && k + lat >= 128 * 160))
            continue; // straddles a change
        INFO ("impulse at " << k);
        CHECK (out[0][k + lat] == 0.5f);
        CHECK (out[0][k + lat + 1] == 0.25f);
    }
    CHECK (engine.getLatencySamples() == 320);
}

TEST_CASE ("A script that fails leaves the delayed dry signal and a clear error", "[engine][robustness]")
{
    struct Case
    {
        const char* source;
        const char* expect;
    };
    const Case cases[] = {
        { "function process(ch, n)\n  local = 1\nend\n", "bad.lua:2:" },
        { "function process(ch, n)\n  error('first block')\nend\n", "bad.lua:2: first block" },
        { "local t = {}\nfunction process(ch, n)\n  while true do t[#t+1] = {1,2,3} end\nend\n", "out of memory" },
        { "function process(ch, n)\n  while true do end\nend\n", "time budget" },
    };
    for (const auto& c : cases)
    {
        pg::LatencyEngine engine;
        auto s = settingsFor (48000.0, 128, 2);
        s.luaLimits.memoryLimitBytes = 24u << 20;
        // A short budget for the endless loop; a long one elsewhere, so that filling 24 MB (slow
        // under a sanitizer) fails on memory, not on time.
        s.luaLimits.callBudgetSeconds = std::string_view (c.expect) == "time budget" ? 0.05 : 10.0;
        engine.prepare (s, c.source, "bad.lua", 960);
        const auto in = pgtest::noise (2, 6000, 1);
        const auto out = pgtest::run (engine, in, fixedBlocks (128), true);
        INFO (c.source);
        CHECK_THAT (engine.getScriptError(), Catch::Contains (c.expect));
        CHECK (engine.getCounters().scriptFailed);
        CHECK (countMisaligned (in, in, out, 960, 1.0f) == 0); // dry, delayed by L
    }
}
