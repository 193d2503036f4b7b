// The audio side (AudioSide.cpp): its one pass over the input, its rings' wrap,
// blocks of any size, and prepare against a concurrent processBlock.

#include "EngineHarness.h"
#include "LatencyEngine.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <atomic>
#include <chrono>
#include <limits>
#include <thread>
#include <utility>

using pgtest::countMisaligned;
using pgtest::delayedAt;
using pgtest::fixedBlocks;
using pgtest::settingsFor;

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
    const auto out = pgtest::run (
        engine, in, [&k] { return (k++ % 3 == 0) ? 1000 : 64; }, true,
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

TEST_CASE ("The input pass: subnormal samples are silence, the largest and smallest normal ones pass, on both paths", "[engine][robustness]")
{
    // The worker flushes subnormal results to zero, so the wet path is checked with normal values
    // whose effect output stays normal; the dry path (mix 0) with the smallest normal values too.
    const float mix = GENERATE (0.5f, 0.0f);
    pg::LatencyEngine engine;
    REQUIRE (engine.prepare (settingsFor (48000.0, 64, 1), pgtest::simpleScript, "simple.lua", 400));
    const int latency = engine.getLatencySamples();
    engine.setMix (mix);
    auto in = pgtest::noise (1, 4000, 5);
    auto clean = in;
    constexpr float smallest = std::numeric_limits<float>::min(), largest = std::numeric_limits<float>::max();
    const float kept[] = { largest, -largest, mix == 0.0f ? smallest : 4.0f * smallest, mix == 0.0f ? -smallest : -4.0f * smallest };
    const float silenced[] = { std::numeric_limits<float>::denorm_min(), -1.0e-40f, 1.0e-39f };
    for (size_t i = 0; i < 4; ++i)
        in[0][1000 + i] = clean[0][1000 + i] = kept[i];
    for (size_t i = 0; i < 3; ++i)
    {
        in[0][2000 + i] = silenced[i];
        clean[0][2000 + i] = 0.0f;
    }
    const auto out = pgtest::run (engine, in, fixedBlocks (64), true);
    INFO ("mix " << mix);
    CHECK (countMisaligned (clean, pgtest::simpleWet (clean), out, latency, mix) == 0);
}

TEST_CASE ("The rings wrap inside blocks of odd sizes: wet and dry stay exact over many wraps", "[engine][alignment]")
{
    for (const float mix : { 1.0f, 0.0f })
    {
        pg::LatencyEngine engine;
        auto settings = settingsFor (48000.0, 256, 2);
        settings.maxLatencySeconds = 0.02; // small rings: a wrap every few dozen blocks
        REQUIRE (engine.prepare (settings, pgtest::simpleScript, "simple.lua", 700));
        engine.setMix (mix);
        const int latency = engine.getLatencySamples();
        const auto in = pgtest::noise (2, 60000, 11);
        const int sizes[] = { 97, 1, 255, 128, 33, 256, 7 };
        size_t k = 0;
        const auto out = pgtest::run (
            engine, in, [&] { return sizes[k++ % 7]; }, true);
        INFO ("mix " << mix);
        CHECK (countMisaligned (in, pgtest::simpleWet (in), out, latency, mix) == 0);
    }
}

TEST_CASE ("prepare and release while another thread is inside processBlock: it passes audio through, then plays exact", "[engine][robustness]")
{
    pg::LatencyEngine engine;
    REQUIRE (engine.prepare (settingsFor (48000.0, 128, 2), pgtest::simpleScript, "simple.lua", 600));
    std::atomic<bool> stop { false }, nonFinite { false };
    std::atomic<long> calls { 0 };
    std::thread audio ([&] {
        std::vector<float> left (700), right (700);
        float* ptrs[] = { left.data(), right.data() };
        for (unsigned k = 0; ! stop.load(); ++k)
        {
            const int n = 1 + static_cast<int> ((k * 37u) % 700u); // larger than some preparations: split
            for (int i = 0; i < n; ++i)
                left[static_cast<size_t> (i)] = right[static_cast<size_t> (i)] = std::sin (0.01f * static_cast<float> (k * 700u + static_cast<unsigned> (i)));
            engine.processBlock (ptrs, 2, n);
            for (int i = 0; i < n; ++i)
                if (! std::isfinite (left[static_cast<size_t> (i)]) || ! std::isfinite (right[static_cast<size_t> (i)]))
                    nonFinite.store (true);
            calls.fetch_add (1);
        }
    });
    const std::pair<double, int> preparations[] = { { 44100.0, 64 }, { 48000.0, 512 }, { 96000.0, 128 } };
    for (int i = 0; i < 30; ++i)
    {
        const auto [rate, block] = preparations[i % 3];
        REQUIRE (engine.prepare (settingsFor (rate, block, 2), pgtest::simpleScript, "simple.lua", -1));
        std::this_thread::sleep_for (std::chrono::milliseconds (3));
        if (i % 4 == 3)
            engine.release();
    }
    stop.store (true);
    audio.join();
    CHECK (calls.load() > 30);
    CHECK_FALSE (nonFinite.load());

    // A call while the engine is not prepared (released, or being prepared) passes its audio
    // through untouched.
    engine.release();
    std::vector<float> left (300), right (300);
    for (size_t i = 0; i < left.size(); ++i)
        left[i] = right[i] = std::sin (0.02f * static_cast<float> (i)) * 0.7f;
    const auto leftIn = left, rightIn = right;
    float* ptrs[] = { left.data(), right.data() };
    engine.processBlock (ptrs, 2, 300);
    CHECK (left == leftIn);
    CHECK (right == rightIn);

    REQUIRE (engine.prepare (settingsFor (48000.0, 128, 2), pgtest::simpleScript, "simple.lua", 600));
    const auto in = pgtest::noise (2, 8000, 12);
    const auto out = pgtest::run (engine, in, fixedBlocks (128), true);
    CHECK (countMisaligned (in, pgtest::simpleWet (in), out, engine.getLatencySamples(), 1.0f) == 0);
}

TEST_CASE ("The output gain is applied at the output stage with the mix: a step lands in the block it is set, not L later",
           "[engine][audio][automation]")
{
    pg::LatencyEngine e;
    REQUIRE (e.prepare (pgtest::settingsFor (48000.0, 128, 1), pgtest::simpleScript, "simple.lua", 960));
    const auto in = pgtest::noise (1, 128 * 60, 31);
    const auto wet = pgtest::simpleWet (in);
    const size_t stepBlock = 20; // set at the start of this block: heard from it on
    const float gain = 0.25f;
    const auto out = pgtest::run (e, in, pgtest::fixedBlocks (128), true, [&] (size_t pos) {
        if (pos == stepBlock * 128)
            e.setOutputGain (gain);
    });
    size_t before = 0, after = 0;
    for (size_t n = 960; n < stepBlock * 128; ++n)
        before += out[0][n] != pgtest::delayedAt (wet[0], n, 960) ? 1u : 0u;
    for (size_t n = (stepBlock + 1) * 128; n < out[0].size(); ++n) // after the block's ramp
        after += out[0][n] != pgtest::delayedAt (wet[0], n, 960) * gain ? 1u : 0u;
    CHECK (before == 0);
    CHECK (after == 0);
}
