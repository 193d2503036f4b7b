// The worker (ChunkWorker.cpp): pauses injected by holding it for a number of blocks, and the
// blocks that come while the loader warms the script up after prepare.

#include "EngineTesting.h"
#include "EngineHarness.h"
#include "LatencyEngine.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

using pgtest::countMisaligned;
using pgtest::delayedAt;
using pgtest::settingsFor;

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
        r.fade = pg::EngineTesting::getDropoutFadeSamples (engine);
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
    CHECK (fadeFrames >= static_cast<size_t> (r.fade)); // and there is a fade, not a cut
    CHECK (lastDry < r.out[0].size() - 24000); // aligned (wet) again well before the end
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

// ---- the warm-up: prepare returns at once, and the loader builds the script's live heap ------

namespace
{
    // The simple effect, after a warm-up that spins in the script for a while (p.profiling is set
    // only while the loader warms it): the loader holds the script for about 0.4 s here.
    std::string slowWarmUpScript()
    {
        return std::string ("local function spin() local x = 0 for i = 1, 20000000 do x = x + i end return x end\n") +
               pgtest::simpleScript + "\nlocal inner = process\n" +
               "function process(ch, n, p) if p.profiling == 1 then spin() end return inner(ch, n, p) end\n";
    }

    pg::EngineSettings slowWarmUpSettings()
    {
        auto settings = settingsFor (48000.0, 128, 1);
        settings.luaLimits.callBudgetSeconds = 60.0;
        return settings;
    }

    float sineAt (size_t n) { return 0.5f * static_cast<float> (std::sin (2.0 * 3.14159265358979 * 440.0 * static_cast<double> (n) / 48000.0)); }
} // namespace

TEST_CASE ("While the script warms up, the input passes on dry and in time; then the script fades in", "[engine][warmup]")
{
    // A host on an idle machine: from its second call (when the pace says it plays, not renders)
    // it waits for the worker after each block, as in time as a worker can be. Before, the worker
    // took no chunk during the warm-up and every block of it was a dropout (the second block's
    // wait lasted the whole warm-up).
    constexpr int block = 128, latency = 960;
    pg::LatencyEngine e;
    REQUIRE (e.prepare (slowWarmUpSettings(), slowWarmUpScript(), "slow-warm.lua", latency));
    pg::EngineTesting::setRenderDetection (e, false); // blocks back to back: not a render
    REQUIRE (pg::EngineTesting::isWarming (e));
    std::vector<float> in, out;
    size_t blocksWhileWarming = 0, blocksAfter = 0;
    std::vector<float> buffer (block);
    float* channels[] = { buffer.data() };
    while (blocksAfter < 200 && in.size() < 48000u * 60u)
    {
        for (int i = 0; i < block; ++i)
            buffer[static_cast<size_t> (i)] = sineAt (in.size() + static_cast<size_t> (i));
        in.insert (in.end(), buffer.begin(), buffer.end());
        e.processBlock (channels, 1, block);
        out.insert (out.end(), buffer.begin(), buffer.end());
        if (in.size() == block)
            continue; // the first call: the worker waits for the pace of the next
        REQUIRE (pg::EngineTesting::waitForWorker (e, 10.0));
        if (pg::EngineTesting::isWarming (e))
            ++blocksWhileWarming; // the worker answered this block while the loader still held the script
        else
            ++blocksAfter;
    }
    const auto counters = e.getCounters();
    WARN ("blocks answered during the warm-up: " << blocksWhileWarming << "; passed on dry: " << counters.warmUpDryFrames << " frames");
    REQUIRE (blocksWhileWarming >= 3);
    CHECK (counters.dropoutEvents == 0);
    const size_t dry = static_cast<size_t> (counters.warmUpDryFrames);
    CHECK (dry >= blocksWhileWarming * block);
    CHECK (counters.skippedFrames == 0);

    // The frames of the warm-up come out exactly as they went in, L later.
    size_t wrongDry = 0;
    for (size_t p = 0; p < dry; ++p)
        wrongDry += out[p + latency] != in[p] ? 1u : 0u;
    CHECK (wrongDry == 0);
    // The script starts at the first frame after them, from its initial state; 100 ms later (past
    // the crossfade) the output is exactly its effect.
    size_t wrongWet = 0;
    for (size_t p = dry + 4800; p + latency < out.size(); ++p)
    {
        const float wet = static_cast<float> (0.5 * static_cast<double> (in[p]) + 0.25 * static_cast<double> (in[p - 1]));
        wrongWet += out[p + latency] != wet ? 1u : 0u;
    }
    CHECK (wrongWet == 0);
    REQUIRE (out.size() > dry + latency + 4800 + 1000);
    // In between, no jump: the largest step from one sample to the next stays within the sine's
    // own (0.029; from dry to wet without a fade the step would be about 0.13).
    float sineStep = 0.0f, outStep = 0.0f;
    for (size_t n = 1; n < in.size(); ++n)
        sineStep = std::max (sineStep, std::abs (in[n] - in[n - 1]));
    for (size_t n = latency + 1; n < out.size(); ++n)
        outStep = std::max (outStep, std::abs (out[n] - out[n - 1]));
    WARN ("largest step: sine " << sineStep << ", output " << outStep);
    CHECK (outStep <= 1.05f * sineStep);
}

TEST_CASE ("A render that starts while the script warms up waits for it: exact from its first block", "[engine][warmup][render]")
{
    // A host that goes offline right after prepare (an export started at once): the audio thread
    // waits for the worker, which waits for the warm-up. Nothing is passed on dry.
    constexpr int block = 128, latency = 960;
    pg::LatencyEngine e;
    REQUIRE (e.prepare (slowWarmUpSettings(), slowWarmUpScript(), "slow-warm.lua", latency));
    e.setOffline (true);
    REQUIRE (pg::EngineTesting::isWarming (e));
    std::vector<std::vector<float>> in (1, std::vector<float> (48000));
    for (size_t n = 0; n < in[0].size(); ++n)
        in[0][n] = sineAt (n);
    auto out = in;
    for (size_t pos = 0; pos < out[0].size(); pos += block)
    {
        float* channels[] = { out[0].data() + pos };
        e.processBlock (channels, 1, block);
    }
    CHECK (countMisaligned (in, pgtest::simpleWet (in), out, latency, 1.0f) == 0);
    CHECK (e.getCounters().warmUpDryFrames == 0);
    CHECK (e.getCounters().dropoutEvents == 0);
}
