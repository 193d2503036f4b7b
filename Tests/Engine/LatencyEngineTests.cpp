#include "EngineHarness.h"
#include "LatencyEngine.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using pgtest::delayedAt;
using pgtest::settingsFor;

namespace
{
    std::function<int()> fixedBlocks (int n) { return [n] { return n; }; }

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

    // out[n] == wet[n - L] * mix + in[n - L] * (1 - mix), exactly, at every sample.
    size_t countMisaligned (const std::vector<std::vector<float>>& in, const std::vector<std::vector<float>>& wet,
                            const std::vector<std::vector<float>>& out, int latency, float mix)
    {
        size_t bad = 0;
        for (size_t c = 0; c < in.size(); ++c)
            for (size_t n = 0; n < in[c].size(); ++n)
            {
                const float w = delayedAt (wet[c], n, latency), d = delayedAt (in[c], n, latency);
                const float expected = mix == 1.0f ? w : (mix == 0.0f ? d : w * mix + d * (1.0f - mix));
                bad += out[c][n] != expected ? 1u : 0u;
            }
        return bad;
    }
} // namespace

TEST_CASE ("Alignment: out[n] = wet[n-L]*mix + in[n-L]*(1-mix) for any block sizes", "[engine][alignment]")
{
    const double rate = GENERATE (44100.0, 48000.0, 96000.0);
    const int channels = GENERATE (1, 2);
    const float mix = GENERATE (1.0f, 0.0f, 0.5f);
    const int maxBlock = 256;
    const int latency = static_cast<int> (0.012 * rate) + 3; // above the floor for 256-sample blocks

    pg::LatencyEngine engine;
    REQUIRE (engine.prepare (settingsFor (rate, maxBlock, channels), pgtest::simpleScript, "simple.lua", latency));
    engine.setMix (mix);
    const auto in = pgtest::noise (channels, 20000, 11);
    const auto wet = pgtest::simpleWet (in);

    SECTION ("fixed block sizes, including 1 and the maximum")
    {
        for (int block : { 1, 7, 64, maxBlock })
        {
            REQUIRE (engine.prepare (settingsFor (rate, maxBlock, channels), pgtest::simpleScript, "simple.lua", latency));
            const auto out = pgtest::run (engine, in, fixedBlocks (block), true);
            INFO ("block " << block << " rate " << rate << " channels " << channels << " mix " << mix);
            CHECK (countMisaligned (in, wet, out, latency, mix) == 0);
            CHECK (engine.getCounters().dropoutEvents == 0);
        }
    }
    SECTION ("random block sizes")
    {
        const auto out = pgtest::run (engine, in, randomBlocks (maxBlock, 5), true);
        CHECK (countMisaligned (in, wet, out, latency, mix) == 0);
        CHECK (engine.getCounters().dropoutEvents == 0);
    }
}

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

TEST_CASE ("A block larger than prepared is split, and a zero-length block is harmless", "[engine][robustness]")
{
    pg::LatencyEngine engine;
    // L must cover the host's real block: the wet of a 1000-frame block is ready only after it.
    const int latency = pg::LatencyEngine::latencyFloorFor (1000, 48000.0);
    REQUIRE (engine.prepare (settingsFor (48000.0, 64, 2), pgtest::simpleScript, "simple.lua", latency));
    CHECK (engine.getLatencyFloor() == pg::LatencyEngine::latencyFloorFor (64, 48000.0));
    const auto in = pgtest::noise (2, 6000, 8);
    const auto wet = pgtest::simpleWet (in);
    int k = 0;
    const auto out = pgtest::run (engine, in, [&k] { return (k++ % 3 == 0) ? 1000 : 64; }, true,
                                  [&engine] (size_t) { engine.processBlock (nullptr, 2, 0); });
    CHECK (countMisaligned (in, wet, out, latency, 1.0f) == 0);
    CHECK (engine.getLargestBlock() == 1000);
    CHECK (engine.getLatencyFloor() == latency); // the blocks really sent raise the floor
    CHECK (engine.clampLatency (0) == latency);
}

TEST_CASE ("NaN and Inf input are silence on both paths, and the output stays finite", "[engine][robustness]")
{
    pg::LatencyEngine engine;
    REQUIRE (engine.prepare (settingsFor (48000.0, 128, 1), pgtest::simpleScript, "simple.lua", 400));
    const int latency = engine.getLatencySamples();
    engine.setMix (0.5f);
    auto in = pgtest::noise (1, 4000, 2);
    auto clean = in;
    for (size_t i = 1000; i < 1100; ++i)
    {
        in[0][i] = (i % 3 == 0) ? std::numeric_limits<float>::quiet_NaN()
                                : (i % 3 == 1 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity());
        clean[0][i] = 0.0f;
    }
    const auto out = pgtest::run (engine, in, fixedBlocks (128), true);
    for (float v : out[0])
        REQUIRE (std::isfinite (v));
    CHECK (countMisaligned (clean, pgtest::simpleWet (clean), out, latency, 0.5f) == 0);
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

// ---- pauses, injected: the worker is held for a number of blocks of audio time --------------

namespace
{
    struct HeldRun
    {
        std::vector<std::vector<float>> in, out;
        pg::EngineCounters counters;
        int latency = 0, fade = 0;
    };

    HeldRun runWithPause (size_t holdBlocks, int latency, double seconds)
    {
        pg::LatencyEngine engine;
        REQUIRE (engine.prepare (settingsFor (48000.0, 128, 1), pgtest::simpleScript, "simple.lua", latency));
        HeldRun r;
        r.latency = engine.getLatencySamples();
        r.fade = engine.getDropoutFadeSamples();
        r.in = pgtest::noise (1, static_cast<size_t> (seconds * 48000.0), 21);
        r.out = pgtest::runWithHeldWorker (engine, r.in, 128, 100, holdBlocks);
        r.counters = engine.getCounters();
        return r;
    }
} // namespace

TEST_CASE ("A worker pause shorter than the slack never reaches the output", "[engine][pauses]")
{
    // Slack = L - one block - the dropout fade's look-ahead (the DSP's own time is nil here, as the
    // worker catches up at once): 960 - 128 - 48 = 784 samples. A worker held for h blocks is heard
    // iff its last held block starts later than the slack: (h - 1) x 128 > 784, so h = 7 is hidden
    // (a 14.7 ms stall past the deadline of the first held block) and h = 8 is not.
    const auto hidden = runWithPause (7, 960, 0.5);
    CHECK (hidden.latency == 960);
    CHECK (hidden.counters.dropoutEvents == 0);
    CHECK (countMisaligned (hidden.in, pgtest::simpleWet (hidden.in), hidden.out, 960, 1.0f) == 0); // identical to pause-free

    const auto heard = runWithPause (8, 960, 0.5);
    CHECK (heard.counters.dropoutEvents > 0); // so the bound above is exact, not loose
}

TEST_CASE ("A worker pause longer than the slack: a fade to dry fills the gap, then alignment is exact again", "[engine][pauses]")
{
    const auto r = runWithPause (50, 480, 1.0); // 133 ms held
    const int latency = r.latency;
    CHECK (r.counters.dropoutEvents > 0);
    CHECK (r.counters.dropoutFrames >= static_cast<uint64_t> (50 * 128 - latency - 256));

    const auto wet = pgtest::simpleWet (r.in);
    size_t dryFrames = 0, fadeFrames = 0, lastDry = 0, outside = 0;
    for (size_t n = 0; n < r.out[0].size(); ++n)
    {
        const float w = delayedAt (wet[0], n, latency), d = delayedAt (r.in[0], n, latency);
        const float y = r.out[0][n];
        if (y == w)
            continue;
        if (y == d)
        {
            ++dryFrames;
            lastDry = n;
            continue;
        }
        // Inside a fade, the output is between the wet and the dry signal at n - L: nothing
        // shifted, no hole. (After skipped input, the effect's one-sample memory holds the last
        // input it saw, so its first wet sample is off; it is still the sample at n - L.)
        if (y < std::min (w, d) - 1.0e-6f || y > std::max (w, d) + 1.0e-6f)
            ++outside;
        ++fadeFrames;
    }
    WARN ("dry frames " << dryFrames << ", fade frames " << fadeFrames << ", dropout frames counted " << r.counters.dropoutFrames);
    CHECK (dryFrames <= r.counters.dropoutFrames);
    CHECK (outside <= r.counters.dropoutEvents);
    CHECK (fadeFrames <= static_cast<size_t> (2 * r.fade + 2)); // one fade out, one fade in
    CHECK (fadeFrames >= static_cast<size_t> (r.fade));         // and there is a fade, not a cut
    CHECK (lastDry < r.out[0].size() - 24000);                  // aligned (wet) again well before the end
    for (size_t n = r.out[0].size() - 24000; n < r.out[0].size(); ++n)
        REQUIRE (r.out[0][n] == delayedAt (wet[0], n, latency));
}

TEST_CASE ("A worker stalled for seconds: no backlog is played late", "[engine][pauses]")
{
    const auto r = runWithPause (560, 480, 3.0); // 1.5 s held
    CHECK (r.counters.dropoutFrames >= static_cast<uint64_t> (1.4 * 48000));
    CHECK (r.counters.skippedFrames > 0);
    const auto wet = pgtest::simpleWet (r.in);
    for (size_t n = r.out[0].size() - 24000; n < r.out[0].size(); ++n)
        REQUIRE (r.out[0][n] == delayedAt (wet[0], n, r.latency));
}

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
            engine.requestFullCollection();
            ++forced;
        }
    });
    const auto pauses = engine.getPauseHistogram();
    // Whether these real pauses stay hidden at real-time pace depends on the machine: a figure, not
    // a check (the contract itself is proven with held workers above).
    WARN ("forced " << forced << " collections while running; worst " << pauses.maxSeconds * 1000.0 << " ms; dropouts "
          << engine.getCounters().dropoutEvents);
    CHECK (pauses.count >= static_cast<uint64_t> (forced));
}
