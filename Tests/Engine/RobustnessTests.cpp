#include "EngineTesting.h"
#include "EngineHarness.h"
#include "LatencyEngine.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>

namespace
{
    size_t threadCount()
    {
#if defined(__linux__)
        size_t n = 0;
        for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator ("/proc/self/task"))
            ++n;
        return n;
#else
        return 0;
#endif
    }

    pg::EngineSettings settings (double rate = 48000.0, int block = 128)
    {
        pg::EngineSettings s;
        s.sampleRate = rate;
        s.maxBlockSize = block;
        s.numChannels = 2;
        return s;
    }
} // namespace

TEST_CASE ("Robustness: a script that throws after an hour of audio stops cleanly, with its line", "[engine][robustness][lua]")
{
    // One hour at 8 kHz in blocks of 4096: the script counts its samples and fails after 3600 s.
    const char* script = R"lua(
local seen = 0
function process(ch, n)
    seen = seen + n
    if seen > 3600 * 8000 then
        error(string.format("failed after %.0f s of audio", seen / 8000))
    end
end
)lua";
    pg::LatencyEngine e;
    REQUIRE (e.prepare (settings (8000.0, 4096), script, "late.lua", 8192));
    REQUIRE (e.waitUntilWarm (30.0)); // (the blocks of a warm-up would pass on dry, unseen by the script)
    pg::EngineTesting::setRenderDetection (e, false); // an hour of real time, simulated (a render would restart the script)
    std::vector<float> l (4096), r (4096);
    float* ch[] = { l.data(), r.data() };
    long blocks = 0;
    for (; blocks < (3600L * 8000) / 4096 + 8 && ! e.getCounters().scriptFailed; ++blocks)
    {
        std::fill (l.begin(), l.end(), 0.25f);
        std::fill (r.begin(), r.end(), 0.25f);
        e.processBlock (ch, 2, 4096);
        pg::EngineTesting::waitForWorker (e, 5.0);
    }
    CHECK (e.getCounters().scriptFailed);
    CHECK_THAT (e.getScriptError(), Catch::Contains ("late.lua:6:") && Catch::Contains ("failed after 3600 s"));
    // Afterwards: the delayed dry signal, exactly.
    for (int b = 0; b < 4; ++b)
    {
        std::fill (l.begin(), l.end(), 0.5f);
        std::fill (r.begin(), r.end(), 0.5f);
        e.processBlock (ch, 2, 4096);
        pg::EngineTesting::waitForWorker (e, 5.0);
    }
    for (float v : l)
        REQUIRE (v == 0.5f);
    CHECK (e.getCounters().dropoutEvents == 0);
}

TEST_CASE ("Robustness: a worker stalled longer than its FIFOs hold, then resuming", "[engine][robustness][pauses]")
{
    // The input FIFO holds about 2.7 s here: a 4 s stall overflows it. The output must stay the
    // delayed dry signal meanwhile, and be exactly aligned (wet) once the worker is back.
    pg::LatencyEngine e;
    const int latency = 480;
    pg::EngineSettings s = settings();
    REQUIRE (e.prepare (s, pgtest::simpleScript, "simple.lua", latency));
    const auto in = pgtest::noise (2, 48000 * 7, 12);
    const auto out = pgtest::runWithHeldWorker (e, in, 128, 50, 1500); // 4 s held
    const auto c = e.getCounters();
    CHECK (c.inputOverflowFrames > 0);
    CHECK (c.dropoutFrames >= static_cast<uint64_t> (3.9 * 48000));
    const auto wet = pgtest::simpleWet (in);
    size_t neither = 0;
    for (size_t n = 0; n < out[0].size(); ++n)
    {
        const float w = pgtest::delayedAt (wet[0], n, latency), d = pgtest::delayedAt (in[0], n, latency);
        neither += out[0][n] != w && out[0][n] != d ? 1u : 0u;
    }
    CHECK (neither <= static_cast<size_t> (2 * pg::EngineTesting::getDropoutFadeSamples (e) + 2)); // the fades to dry and back, and the effect's one-sample memory across a skip
    for (size_t n = out[0].size() - 48000; n < out[0].size(); ++n)
        REQUIRE (out[0][n] == pgtest::delayedAt (wet[0], n, latency));
}

TEST_CASE ("Robustness: destroying the engine while the worker is inside a long script call returns promptly", "[engine][robustness]")
{
    const auto threadsBefore = threadCount();
    const char* slow = "function process(ch, n)\n local x = 0\n for i = 1, 3e7 do x = x + i end\nend\n";
    const auto start = std::chrono::steady_clock::now();
    {
        pg::LatencyEngine e;
        pg::EngineSettings s = settings();
        s.luaLimits.callBudgetSeconds = 0.5;
        REQUIRE (e.prepare (s, slow, "slow.lua", 960));
        std::vector<float> l (128), r (128);
        float* ch[] = { l.data(), r.data() };
        e.processBlock (ch, 2, 128);
        std::this_thread::sleep_for (std::chrono::milliseconds (30)); // the worker is now in the loop
    }
    const double took = std::chrono::duration<double> (std::chrono::steady_clock::now() - start).count();
    CHECK (took < 1.0); // bounded by the script's call budget
    CHECK (threadCount() == threadsBefore);
}

TEST_CASE ("Robustness: destroying the engine during a long full collection returns promptly", "[engine][robustness][lua]")
{
    const auto threadsBefore = threadCount();
    double took = 0.0;
    {
        pg::LatencyEngine e;
        e.addScriptParameter ("garbage_kb", 64.0f);
        e.addScriptParameter ("live_heap_mb", 96.0f);
        REQUIRE (e.prepare (settings(), pgtest::readAsset ("BuiltinEffect.lua"), "BuiltinEffect.lua", 960, true));
        std::vector<float> l (128), r (128);
        float* ch[] = { l.data(), r.data() };
        pg::EngineTesting::requestFullCollection (e);
        e.processBlock (ch, 2, 128);
        std::this_thread::sleep_for (std::chrono::milliseconds (2));
        const auto start = std::chrono::steady_clock::now();
        e.release();
        took = std::chrono::duration<double> (std::chrono::steady_clock::now() - start).count();
    }
    CHECK (took < 0.5);
    CHECK (threadCount() == threadsBefore);
}
