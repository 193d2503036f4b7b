#include "EngineTesting.h"
#include "EngineHarness.h"
#include "LatencyEngine.h"
#include "LuaDsp.h"

#include <catch2/catch.hpp>

#if PAUSEGUARD_HAVE_RT_AUDIT
#include "RealtimeAudit.h"
#endif

namespace
{
    pg::EngineSettings settings()
    {
        pg::EngineSettings s;
        s.sampleRate = 48000.0;
        s.maxBlockSize = 128;
        s.numChannels = 2;
        s.luaLimits.memoryLimitBytes = size_t (512) << 20;
        return s;
    }

    void addMacros (pg::LatencyEngine& e)
    {
        static const char* const names[] = { "macro1", "macro2", "macro3", "macro4", "macro5", "macro6", "macro7", "macro8" };
        for (const char* n : names)
            e.addScriptParameter (n, 0.5f);
    }

    // The script run directly, offline, in 128-frame chunks: the reference wet signal. (No call
    // budget to speak of: under a sanitizer on a loaded machine a hoarder's call may take seconds.)
    std::vector<std::vector<float>> reference (const std::string& source, const std::vector<std::vector<float>>& in)
    {
        pg::LuaDspLimits limits;
        limits.callBudgetSeconds = 60.0;
        pg::LuaDsp dsp (limits);
        for (const char* n : { "macro1", "macro2", "macro3", "macro4", "macro5", "macro6", "macro7", "macro8" })
            dsp.setParameter (n, 0.5);
        REQUIRE (dsp.load (source, "ref.lua"));
        REQUIRE (dsp.prepare (48000.0, 128, 2));
        auto out = in;
        for (size_t pos = 0; pos < in[0].size(); pos += 128)
        {
            float* ch[] = { out[0].data() + pos, out[1].data() + pos };
            REQUIRE (dsp.process (ch, 2, 128));
        }
        return out;
    }

    std::string gainScript (double gain)
    {
        return "function process(ch, n)\n for c = 1, #ch do local x = ch[c] for i = 1, n do x[i] = x[i] * " + std::to_string (gain) + " end end\nend\n";
    }
} // namespace

TEST_CASE ("Every example script loads, sounds, and runs aligned and real-time safe", "[engine][scripts]")
{
    const char* examples[] = { "Examples/CleanTilt.lua", "Examples/TypicalTremolo.lua", "Examples/PathologicalHoarder.lua",
                               "Examples/MusicalChorus.lua" };
    for (const char* name : examples)
    {
        INFO (name);
        const auto source = pgtest::readAsset (name);
        REQUIRE_FALSE (source.empty());
        pg::LatencyEngine e;
        addMacros (e);
        auto s = settings();
        s.luaLimits.callBudgetSeconds = 60.0; // offline: what is checked is the sound, not the speed
        REQUIRE (e.prepare (s, source, name, 960));
        REQUIRE (e.waitUntilWarm (30.0)); // (the blocks of the warm-up would pass on dry)
        auto in = pgtest::noise (2, 128 * 300, 4);
        for (auto& ch : in)
            for (auto& v : ch)
                v *= 0.3f;
        const auto wet = reference (source, in);

        auto out = in;
        uint64_t audited = 0;
        for (size_t pos = 0; pos < in[0].size(); pos += 128)
        {
            float* ch[] = { out[0].data() + pos, out[1].data() + pos };
#if PAUSEGUARD_HAVE_RT_AUDIT
            pgtest::ScopedRealtimeAudit audit;
            e.processBlock (ch, 2, 128);
            audited += audit.counts().total();
#else
            e.processBlock (ch, 2, 128);
#endif
            pg::EngineTesting::waitForWorker (e, 10.0);
        }
        CHECK (audited == 0);
        CHECK (e.getScriptError().empty());
        size_t bad = 0;
        double energy = 0.0;
        for (size_t c = 0; c < 2; ++c)
            for (size_t n = 0; n < out[c].size(); ++n)
            {
                bad += out[c][n] != pgtest::delayedAt (wet[c], n, 960) ? 1u : 0u;
                energy += static_cast<double> (out[c][n]) * out[c][n];
            }
        CHECK (bad == 0);
        CHECK (energy / static_cast<double> (out[0].size()) > 1.0e-3); // it makes sound
    }
}

TEST_CASE ("A script that fails is not loaded, says why, and the running one keeps playing", "[engine][scripts]")
{
    struct Case
    {
        std::string source;
        const char* message;
    };
    const Case cases[] = {
        { "function process(ch, n)\n  local = 1\nend\n", "broken.lua:2:" },
        { "function process(ch, n)\n  error('not today')\nend\n", "broken.lua:2: not today" },
        { "function process(ch, n)\n  while true do end\nend\n", "time budget" },
        { "local t = {}\nfunction process(ch, n)\n  while true do t[#t + 1] = {1, 2, 3} end\nend\n", "out of memory" },
    };
    for (const auto& c : cases)
    {
        INFO (c.source);
        pg::LatencyEngine e;
        auto s = settings();
        s.luaLimits.memoryLimitBytes = size_t (32) << 20;
        s.luaLimits.callBudgetSeconds = std::string_view (c.message) == "time budget" ? 0.1 : 10.0;
        REQUIRE (e.prepare (s, pgtest::simpleScript, "simple.lua", 480));
        const auto in = pgtest::noise (2, 128 * 200, 8);
        const auto out = pgtest::run (
            e, in, [] { return 128; }, true, [&] (size_t pos) {
            if (pos == 128 * 50)
                e.loadScript (c.source, "broken.lua"); });
        while (pg::EngineTesting::isLoading (e)) // the loader compiles, prepares and runs it off the worker
            std::this_thread::sleep_for (std::chrono::milliseconds (1));
        // The simple effect all along, exactly.
        const auto wet = pgtest::simpleWet (in);
        size_t bad = 0;
        for (size_t n = 0; n < out[0].size(); ++n)
            bad += out[0][n] != pgtest::delayedAt (wet[0], n, 480) ? 1u : 0u;
        CHECK (bad == 0);
        CHECK (e.getScriptName() == "simple.lua");
        CHECK_FALSE (e.getCounters().scriptFailed);
        bool reported = false;
        pg::ConsoleLine line;
        while (e.popConsoleLine (line))
            reported = reported || (line.kind == pg::ConsoleLine::error && std::string (line.text).find (c.message) != std::string::npos);
        CHECK (reported);
    }
}

TEST_CASE ("A reload crossfades without a click, and print reaches the console", "[engine][scripts]")
{
    pg::LatencyEngine e;
    REQUIRE (e.prepare (settings(), gainScript (0.9), "a.lua", 480));
    std::vector<std::vector<float>> in (2, std::vector<float> (48000));
    for (size_t n = 0; n < in[0].size(); ++n)
        in[0][n] = in[1][n] = 0.8f * static_cast<float> (std::sin (2.0 * 3.141592653589793 * 330.0 * static_cast<double> (n) / 48000.0));
    const auto out = pgtest::run (
        e, in, [] { return 128; }, true, [&] (size_t pos) {
        if (pos == 128 * 100)
        {
            e.loadScript ("print('hello from b', 42)\n" + gainScript (0.2), "b.lua");
            while (pg::EngineTesting::isLoading (e)) // the loader compiles and warms it; the worker swaps it in at its next chunk
                std::this_thread::sleep_for (std::chrono::milliseconds (1));
        } });
    float ownStep = 0.0f, worst = 0.0f;
    for (size_t n = 1000; n < 128 * 100; ++n)
        ownStep = std::max (ownStep, std::abs (out[0][n] - out[0][n - 1]));
    for (size_t n = 128 * 100; n < out[0].size(); ++n)
        worst = std::max (worst, std::abs (out[0][n] - out[0][n - 1]));
    CHECK (worst <= ownStep * 1.001f);
    CHECK (e.getScriptName() == "b.lua");
    // The end is script b, exactly.
    const size_t last = out[0].size() - 1;
    CHECK (out[0][last] == static_cast<float> (static_cast<double> (in[0][last - 480]) * 0.2));

    std::vector<std::string> lines;
    pg::ConsoleLine line;
    while (e.popConsoleLine (line))
        lines.emplace_back (line.text);
    CHECK (std::find (lines.begin(), lines.end(), "hello from b\t42") != lines.end());
    CHECK (std::find (lines.begin(), lines.end(), "b.lua loaded") != lines.end());
}

TEST_CASE ("Macros map the host's knobs to the script's names and ranges", "[engine][scripts]")
{
    pg::LatencyEngine e;
    addMacros (e);
    const char* script = "macros = { { name = 'level', min = 0.0, max = 2.0 } }\n"
                         "function process(ch, n, p)\n for c = 1, #ch do for i = 1, n do ch[c][i] = p.level end end\nend\n";
    REQUIRE (e.prepare (settings(), script, "macro.lua", 256));
    const auto macros = e.getScriptMacros();
    REQUIRE (macros.size() == 1);
    CHECK (macros[0].name == "level");
    e.setScriptParameter (0, 0.25f); // macro1 -> level = 0.5
    const auto out = pgtest::run (
        e, pgtest::noise (2, 128 * 20, 1), [] { return 128; }, true);
    CHECK (out[0].back() == 0.5f);
}
