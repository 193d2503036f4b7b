// The engine with a DSP program in place of a script (EngineSettings::dspProgram): the Go example
// (bin/pauseguard-example-go) and the C++ test child (ExternalTestChild.cpp), through the whole
// engine: prepare, the worker, the loader's restarts and release.

#include "EngineTesting.h"
#include "EngineHarness.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <unistd.h>

namespace
{
    pg::EngineSettings goSettings (int block, std::vector<std::string> extra = {})
    {
        auto s = pgtest::settingsFor (48000.0, block, 2);
        s.dspProgram = { PAUSEGUARD_GO_EXAMPLE, "-live-heap-mb", "2" };
        s.dspProgram.argv.insert (s.dspProgram.argv.end(), extra.begin(), extra.end());
        return s;
    }

    // This process's children, zombies included (from /proc: a reaped child is gone from it).
    std::vector<int> childProcesses()
    {
        std::vector<int> children;
        DIR* proc = opendir ("/proc");
        if (proc == nullptr)
            return children;
        while (const dirent* e = readdir (proc))
        {
            const int pid = std::atoi (e->d_name);
            if (pid <= 0)
                continue;
            std::ifstream stat ("/proc/" + std::string (e->d_name) + "/stat");
            std::string line;
            std::getline (stat, line);
            const auto close = line.rfind (')');
            if (close == std::string::npos)
                continue;
            char state = 0;
            int ppid = 0;
            if (std::sscanf (line.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid())
                children.push_back (pid);
        }
        closedir (proc);
        return children;
    }

    size_t misalignedFrom (const std::vector<std::vector<float>>& in, const std::vector<std::vector<float>>& out, int latency, size_t from)
    {
        const auto wet = pgtest::simpleWet (in);
        size_t bad = 0;
        for (size_t c = 0; c < in.size(); ++c)
            for (size_t n = from; n < in[c].size(); ++n)
                bad += out[c][n] != pgtest::delayedAt (wet[c], n, latency) ? 1u : 0u;
        return bad;
    }

    // Mono, 256-sample blocks at 48 kHz, with the C++ test child in this mode as the DSP.
    pg::EngineSettings testChildSettings (std::vector<std::string> modeAndArguments)
    {
        auto s = pgtest::settingsFor (48000.0, 256, 1);
        s.dspProgram = { PAUSEGUARD_TEST_CHILD };
        s.dspProgram.argv.insert (s.dspProgram.argv.end(), modeAndArguments.begin(), modeAndArguments.end());
        return s;
    }
} // namespace

TEST_CASE ("Engine with the Go example: alignment is exact in both strategies, at large and odd block sizes", "[engine][external][alignment]")
{
    for (const auto strategy : { pg::Strategy::deterministic, pg::Strategy::dynamic })
        for (const int block : { 1024, 777 })
        {
            pg::LatencyEngine engine;
            engine.setStrategy (strategy);
            engine.setOffline (true); // the host waits for the worker: every frame is wet
            REQUIRE (engine.prepare (goSettings (block), "", "", -1));
            CHECK (engine.getDspProcessId() > 0);
            CHECK (engine.getScriptName() == "pauseguard-example-go");
            const int latency = engine.getLatencySamples();
            const auto in = pgtest::noise (2, 48000, 41);
            int k = 0;
            const auto out = pgtest::run (
                engine, in, [&] { return (++k % 3 == 0) ? 1 : block; }, true);
            INFO ("strategy " << static_cast<int> (strategy) << ", block " << block << ", L " << latency);
            CHECK (pgtest::countMisaligned (in, pgtest::simpleWet (in), out, latency, 1.0f) == 0);
            const auto c = engine.getCounters();
            CHECK (c.dropoutFrames == 0);
            CHECK (c.runtime.reported);
            CHECK (c.runtime.heapBytes >= (uint64_t (2) << 20)); // the example's live heap
        }
}

TEST_CASE ("Engine with the Go example: kill -9 mid-play gives the delayed dry signal and a message, then a restart, exact again",
           "[engine][external][robustness]")
{
    pg::LatencyEngine engine;
    // In real time (the harness waits for the worker after each block, as an idle machine).
    REQUIRE (engine.prepare (goSettings (512), "", "", -1));
    const int latency = engine.getLatencySamples();
    const int firstPid = engine.getDspProcessId();
    REQUIRE (firstPid > 0);
    pgtest::consoleText (engine);

    const auto in = pgtest::noise (2, 48000 * 4, 42);
    const size_t killAt = 48000; // a block boundary (512 x 93.75 is not: the block holding it)
    size_t killBlockStart = 0, restartedBy = 0;
    bool killed = false;
    const auto out = pgtest::run (engine, in, pgtest::fixedBlocks (512), true, [&] (size_t pos) {
        if (! killed && pos >= killAt)
        {
            REQUIRE (kill (firstPid, SIGKILL) == 0);
            killed = true;
            killBlockStart = pos;
        }
        if (killed && restartedBy == 0)
        {
            // Audio time runs faster than real time here: give the backoff (0.25 s) real time.
            std::this_thread::sleep_for (std::chrono::milliseconds (2));
            const int pid = engine.getDspProcessId();
            if (pid > 0 && pid != firstPid)
                restartedBy = pos;
        }
    });
    REQUIRE (killed);
    REQUIRE (restartedBy > 0);
    INFO ("killed in the block at " << killBlockStart << ", restarted by " << restartedBy << ", L " << latency);

    // The chunks after the kill are the delayed dry signal, exactly.
    size_t notDry = 0;
    for (size_t c = 0; c < 2; ++c)
        for (size_t n = killBlockStart; n < killBlockStart + 4096; ++n)
            notDry += out[c][n + static_cast<size_t> (latency)] != in[c][n] ? 1u : 0u;
    CHECK (notDry == 0);
    // A message says why, and the restart was counted.
    const auto text = pgtest::consoleText (engine);
    CHECK_THAT (text, Catch::Contains ("killed by signal 9"));
    CHECK (engine.getCounters().dspRestarts >= 1);
    CHECK (engine.getScriptError().empty());
    // After the restart and its crossfade: exact again.
    CHECK (misalignedFrom (in, out, latency, restartedBy + static_cast<size_t> (latency + pg::EngineTesting::getCrossfadeSamples (engine) + 512)) == 0);
    CHECK (kill (firstPid, 0) != 0); // reaped: a zombie would still answer
}

TEST_CASE ("Engine with a program that never answers: prepare returns within its bound, the output is dry, nothing is left running",
           "[engine][external][robustness]")
{
    const auto before = childProcesses();
    {
        pg::LatencyEngine engine;
        engine.setOffline (true);
        auto s = pgtest::settingsFor (48000.0, 256, 2);
        s.dspProgram = { "/bin/sleep", "30" };
        const auto t0 = std::chrono::steady_clock::now();
        CHECK_FALSE (engine.prepare (s, "", "", -1));
        const auto took = std::chrono::steady_clock::now() - t0;
        CHECK (took < std::chrono::seconds (4)); // the hello's bound is 2 s
        CHECK_THAT (engine.getScriptError(), Catch::Contains ("did not answer hello"));
        const int latency = engine.getLatencySamples();
        const auto in = pgtest::noise (2, 8192, 43);
        const auto out = pgtest::run (engine, in, pgtest::fixedBlocks (256), true);
        CHECK (pgtest::countMisaligned (in, in, out, latency, 1.0f) == 0); // the delayed dry signal
        engine.release();
    }
    CHECK (childProcesses() == before); // every restart attempt was stopped and reaped
}

TEST_CASE ("Engine with a program: another major protocol version fails prepare with a clear error; its stderr reaches the console",
           "[engine][external]")
{
    pg::LatencyEngine engine;
    auto s = pgtest::settingsFor (44100.0, 64, 1);
    s.dspProgram = { PAUSEGUARD_TEST_CHILD, "wrong-major" };
    CHECK_FALSE (engine.prepare (s, "", "", -1));
    CHECK (engine.getScriptError() == "the DSP program speaks protocol 99.0, this host speaks 2.2: their major versions differ (build the program with a client of protocol 2)");

    s.dspProgram = { PAUSEGUARD_TEST_CHILD, "gain" };
    REQUIRE (engine.prepare (s, "", "", -1));
    CHECK (engine.getScriptError().empty());
    CHECK (engine.getScriptName() == "test child (gain)");
    engine.setOffline (true);
    const auto in = pgtest::noise (1, 4096, 44);
    pgtest::run (engine, in, pgtest::fixedBlocks (64), true);
    CHECK_THAT (pgtest::consoleText (engine), Catch::Contains ("prepared: 1 channels, 64 frames"));
    const int pid = engine.getDspProcessId();
    REQUIRE (pid > 0);
    engine.release();
    CHECK (engine.getDspProcessId() == 0);
    CHECK (kill (pid, 0) != 0); // release stopped and reaped it
}

TEST_CASE ("Engine with the Go example: with GOGC off, the dynamic strategy's collections alone bound the heap",
           "[engine][external][dynamic]")
{
    pg::LatencyEngine engine;
    engine.setOffline (true);
    engine.setStrategy (pg::Strategy::dynamic);
    pg::DynamicSettings d;
    d.scheduler.heapThresholdBytes = uint64_t (24) << 20;
    engine.setDynamicSettings (d);
    REQUIRE (engine.prepare (goSettings (512, { "-garbage-kb", "64" }), "", "", -1));
    // 3,000 chunks of 64 KB of garbage: 192 MB made, 8 x the threshold.
    const auto in = pgtest::noise (2, 512 * 50, 45);
    pgtest::run (engine, in, pgtest::fixedBlocks (512), true);
    const auto start = engine.getCounters();
    uint64_t largest = 0;
    for (int round = 0; round < 59; ++round)
    {
        pgtest::run (engine, in, pgtest::fixedBlocks (512), true);
        largest = std::max (largest, engine.getCounters().runtime.heapBytes);
    }
    const auto end = engine.getCounters();
    INFO ("largest heap " << largest / 1024 << " KB; engine collections " << end.fullCollections - start.fullCollections
                          << ", Go's " << end.runtime.collections - start.runtime.collections);
    CHECK (end.fullCollections - start.fullCollections >= 5);
    CHECK (end.runtime.collections - start.runtime.collections == end.fullCollections - start.fullCollections); // none by itself
    CHECK (largest < (uint64_t (24 + 8) << 20)); // the threshold + a chunk's garbage + the read's lag

    // Back to deterministic: Go collects by itself again, and the engine runs none.
    engine.setStrategy (pg::Strategy::deterministic);
    for (int round = 0; round < 20; ++round)
        pgtest::run (engine, in, pgtest::fixedBlocks (512), true);
    const auto after = engine.getCounters();
    CHECK (after.fullCollections == end.fullCollections);
    CHECK (after.runtime.collections > end.runtime.collections);
    INFO (engine.getScriptError());
    CHECK (engine.getScriptError().empty());
}

TEST_CASE ("Engine: loadProgram while playing crossfades from the script to the Go example and back, the latency kept",
           "[engine][external][alignment]")
{
    pg::LatencyEngine engine;
    engine.setOffline (true);
    const auto s = pgtest::settingsFor (48000.0, 512, 2);
    REQUIRE (engine.prepare (s, "function process(ch, n) for c = 1, #ch do local x = ch[c] for i = 1, n do x[i] = -x[i] end end end",
                             "invert.lua", -1));
    const int latency = engine.getLatencySamples();
    const auto in = pgtest::noise (2, 48000, 46);
    auto toProgram = [&] (pg::ProgramCommand program, const char* expectedName) {
        engine.loadProgram (std::move (program));
        // The loader starts it; the worker takes it at its next chunk. Play until it has.
        for (int tries = 0; tries < 400 && engine.getScriptName() != expectedName; ++tries)
        {
            pgtest::run (engine, pgtest::noise (2, 512, 47), pgtest::fixedBlocks (512), true);
            std::this_thread::sleep_for (std::chrono::milliseconds (5));
        }
        REQUIRE (engine.getScriptName() == expectedName);
    };
    toProgram ({ PAUSEGUARD_GO_EXAMPLE, "-live-heap-mb", "1" }, "pauseguard-example-go");
    CHECK (engine.getDspProcessId() > 0);
    auto out = pgtest::run (engine, in, pgtest::fixedBlocks (512), true);
    // The first L frames still hold what the engine played before this run.
    CHECK (misalignedFrom (in, out, latency, static_cast<size_t> (latency) + 1) == 0);
    CHECK (engine.getLatencySamples() == latency);

    const int pid = engine.getDspProcessId();
    toProgram ({}, "invert.lua");
    CHECK (engine.getDspProcessId() == 0);
    out = pgtest::run (engine, in, pgtest::fixedBlocks (512), true);
    size_t bad = 0;
    for (size_t c = 0; c < 2; ++c)
        for (size_t n = static_cast<size_t> (latency); n < in[c].size(); ++n)
            bad += out[c][n] != -in[c][n - static_cast<size_t> (latency)] ? 1u : 0u;
    CHECK (bad == 0);
    // The program's process was freed on the loader: stopped and reaped.
    for (int tries = 0; tries < 200 && kill (pid, 0) == 0; ++tries)
        std::this_thread::sleep_for (std::chrono::milliseconds (10));
    CHECK (kill (pid, 0) != 0);
}

TEST_CASE ("Engine with a program that answers late: the delayed dry signal and a message, then a restart, exact again",
           "[engine][external][robustness]")
{
    const auto marker = (std::filesystem::temp_directory_path() / ("pauseguard-late-child-" + std::to_string (getpid()))).string();
    std::remove (marker.c_str());
    pg::LatencyEngine engine; // in real time (the harness waits for the worker after each block, as an idle machine)
    auto s = testChildSettings ({ "late", marker });
    REQUIRE (engine.prepare (s, "", "", -1));
    const int latency = engine.getLatencySamples();
    const int firstPid = engine.getDspProcessId();
    pgtest::consoleText (engine);

    // One chunk per block: the child's 100th process call is the block at 99 x 256, answered 1 s late.
    const auto in = pgtest::noise (1, 256 * 600, 48);
    const size_t lateBlock = 99 * 256;
    size_t restartedBy = 0;
    const auto out = pgtest::run (engine, in, pgtest::fixedBlocks (256), true, [&] (size_t pos) {
        if (pos > lateBlock && restartedBy == 0)
        {
            std::this_thread::sleep_for (std::chrono::milliseconds (2)); // the backoff's real time
            if (const int pid = engine.getDspProcessId(); pid > 0 && pid != firstPid)
                restartedBy = pos;
        }
    });
    REQUIRE (restartedBy > 0);
    INFO ("restarted by " << restartedBy << ", L " << latency);
    // Before: wet (0.5 x). The late chunk: exactly dry. After the restart and its crossfade: wet.
    const auto frame = [&] (size_t n) { return out[0][n + static_cast<size_t> (latency)]; };
    size_t wrong = 0;
    for (size_t n = 0; n < lateBlock; ++n)
        wrong += frame (n) != 0.5f * in[0][n] ? 1u : 0u;
    for (size_t n = lateBlock; n < lateBlock + 256; ++n)
        wrong += frame (n) != in[0][n] ? 1u : 0u;
    const size_t settled = restartedBy + static_cast<size_t> (pg::EngineTesting::getCrossfadeSamples (engine) + 256);
    for (size_t n = settled; n + static_cast<size_t> (latency) < in[0].size(); ++n)
        wrong += frame (n) != 0.5f * in[0][n] ? 1u : 0u;
    CHECK (wrong == 0);
    CHECK_THAT (pgtest::consoleText (engine), Catch::Contains ("did not answer process within 500 ms"));
    CHECK (kill (firstPid, 0) != 0); // killed and reaped
    std::remove (marker.c_str());
}

TEST_CASE ("Engine: a program chosen while another plays that fails to start leaves the one playing, and its restarts, as they were",
           "[engine][external][robustness]")
{
    pg::LatencyEngine engine;
    engine.setOffline (true);
    auto s = testChildSettings ({ "gain" });
    REQUIRE (engine.prepare (s, "function process(ch, n) end", "quiet.lua", -1));
    const int latency = engine.getLatencySamples();
    const int firstPid = engine.getDspProcessId();
    REQUIRE (firstPid > 0);
    pgtest::consoleText (engine);
    const auto block = pgtest::noise (1, 256, 49);
    const auto playUntil = [&] (const std::function<bool()>& done) {
        for (int tries = 0; tries < 1000 && ! done(); ++tries)
        {
            pgtest::run (engine, block, pgtest::fixedBlocks (256), true);
            std::this_thread::sleep_for (std::chrono::milliseconds (5));
        }
        return done();
    };

    // Another major protocol version: refused by its hello, on the loader.
    engine.loadProgram ({ PAUSEGUARD_TEST_CHILD, "wrong-major" });
    std::string text;
    REQUIRE (playUntil ([&] { text += pgtest::consoleText (engine); return ! pg::EngineTesting::isLoading (engine) && text.find ("protocol 99.0") != std::string::npos; }));
    CHECK_THAT (text, Catch::Contains ("not started: the current DSP keeps playing"));
    CHECK (engine.getDspProcessId() == firstPid);
    CHECK (engine.getScriptName() == "test child (gain)");
    CHECK (engine.getScriptError().empty());
    const auto in = pgtest::noise (1, 48000, 50);
    auto out = pgtest::run (engine, in, pgtest::fixedBlocks (256), true);
    size_t wrong = 0;
    for (size_t n = static_cast<size_t> (latency); n < in[0].size(); ++n)
        wrong += out[0][n] != 0.5f * in[0][n - static_cast<size_t> (latency)] ? 1u : 0u;
    CHECK (wrong == 0);

    // A script loaded meanwhile is kept for later, not played.
    engine.loadScript ("function process(ch, n) for c = 1, #ch do local x = ch[c] for i = 1, n do x[i] = -x[i] end end end", "invert.lua");
    CHECK_THAT (pgtest::consoleText (engine), Catch::Contains ("a DSP program runs"));

    // The one playing dies: it is the one restarted, not the one that failed.
    REQUIRE (kill (firstPid, SIGKILL) == 0);
    REQUIRE (playUntil ([&] { const int pid = engine.getDspProcessId(); return pid > 0 && pid != firstPid; }));
    CHECK (engine.getScriptName() == "test child (gain)");
    CHECK (engine.getCounters().dspRestarts >= 1);

    // Back to the script: the one loaded last, without the program's runtime figures.
    CHECK (engine.getCounters().runtime.reported);
    engine.loadProgram ({});
    REQUIRE (playUntil ([&] { return engine.getScriptName() == "invert.lua"; }));
    CHECK (engine.getDspProcessId() == 0);
    CHECK_FALSE (engine.getCounters().runtime.reported);
    out = pgtest::run (engine, in, pgtest::fixedBlocks (256), true);
    wrong = 0;
    for (size_t n = static_cast<size_t> (latency); n < in[0].size(); ++n)
        wrong += out[0][n] != -in[0][n - static_cast<size_t> (latency)] ? 1u : 0u;
    CHECK (wrong == 0);
}

TEST_CASE ("Engine: a program choice that fails to start has its reason on the console by the time it is no longer pending",
           "[engine][external][robustness]")
{
    // What the plugin relies on to drop a failed choice and show why in the same message-thread
    // tick. The control thread polls as fast as it can, so a line queued after the choice is
    // dropped is found missing in some of the tries.
    pg::LatencyEngine engine;
    engine.setOffline (true);
    REQUIRE (engine.prepare (testChildSettings ({ "gain" }), "function process(ch, n) end", "quiet.lua", -1));
    pgtest::consoleText (engine);
    int missing = 0, tries = 0;
    for (; tries < 40; ++tries)
    {
        engine.loadProgram ({ "/bin/false" });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds (10);
        while (engine.isProgramChoicePending() && std::chrono::steady_clock::now() < deadline)
        {
        }
        REQUIRE_FALSE (engine.isProgramChoicePending());
        if (pgtest::consoleText (engine).find ("exited with code 1") == std::string::npos)
            ++missing;
    }
    INFO (missing << " of " << tries << " failed choices were no longer pending before their reason was on the console");
    CHECK (missing == 0);
    CHECK (engine.getScriptName() == "test child (gain)");
}

TEST_CASE ("Engine with a program: the host's parameters reach it, automation included", "[engine][external][parameters]")
{
    pg::LatencyEngine engine;
    const int gain = engine.addScriptParameter ("gain", 0.25f);
    engine.setOffline (true);
    auto s = testChildSettings ({ "gain" });
    REQUIRE (engine.prepare (s, "", "", -1));
    const int latency = engine.getLatencySamples();
    const auto in = pgtest::noise (1, 48000, 51);
    const size_t changeAt = 100 * 256;
    const auto out = pgtest::run (engine, in, pgtest::fixedBlocks (256), true, [&] (size_t pos) {
        if (pos == changeAt)
            engine.setScriptParameter (gain, 1.0f);
    });
    // Each chunk is played at the gain of its time: 0.25 before the change, 1 from a block after
    // it, and in between one switch from 0.25 to 1.
    size_t wrong = 0, switchedAt = 0;
    for (size_t n = 0; n + static_cast<size_t> (latency) < in[0].size(); ++n)
    {
        const float y = out[0][n + static_cast<size_t> (latency)];
        const bool quarter = y == 0.25f * in[0][n], whole = y == in[0][n];
        if (switchedAt == 0 && whole && ! quarter)
            switchedAt = n;
        if (n < changeAt)
            wrong += quarter ? 0u : 1u;
        else if (n >= changeAt + 256 || switchedAt != 0)
            wrong += whole ? 0u : 1u;
        else
            wrong += quarter ? 0u : 1u;
    }
    INFO ("switched at " << switchedAt);
    CHECK (wrong == 0);
    CHECK (switchedAt >= changeAt);
    CHECK (switchedAt <= changeAt + 256);
}

TEST_CASE ("Engine with the Go example: the host's output_db scales its output (pauseguard.Params)", "[engine][external][parameters]")
{
    pg::LatencyEngine engine;
    engine.addScriptParameter ("output_db", -6.0f);
    engine.setOffline (true);
    REQUIRE (engine.prepare (goSettings (512), "", "", -1));
    const int latency = engine.getLatencySamples();
    const auto in = pgtest::noise (2, 24000, 52);
    const auto out = pgtest::run (engine, in, pgtest::fixedBlocks (512), true);
    const auto wet = pgtest::simpleWet (in);
    const double g = std::pow (10.0, -6.0 / 20.0);
    size_t wrong = 0;
    for (size_t c = 0; c < 2; ++c)
        for (size_t n = static_cast<size_t> (latency); n < in[c].size(); ++n)
        {
            const double expected = g * static_cast<double> (wet[c][n - static_cast<size_t> (latency)]);
            wrong += std::abs (static_cast<double> (out[c][n]) - expected) > 1.0e-6 * (1.0 + std::abs (expected)) ? 1u : 0u;
        }
    CHECK (wrong == 0);
}

TEST_CASE ("Engine with a program that answers late while the host renders: waited for, exact, no restart",
           "[engine][external][robustness][render]")
{
    const auto marker = (std::filesystem::temp_directory_path() / ("pauseguard-late-render-" + std::to_string (getpid()))).string();
    std::remove (marker.c_str());
    pg::LatencyEngine engine;
    engine.setOffline (true); // no wall-clock budget fails a call while rendering: only a hang would
    auto s = testChildSettings ({ "late", marker });
    REQUIRE (engine.prepare (s, "", "", -1));
    const int latency = engine.getLatencySamples();
    const int pid = engine.getDspProcessId();
    pgtest::consoleText (engine);
    const auto in = pgtest::noise (1, 256 * 200, 49); // the 100th call is answered 1 s late
    const auto out = pgtest::run (engine, in, pgtest::fixedBlocks (256), true);
    size_t wrong = 0;
    for (size_t n = 0; n + static_cast<size_t> (latency) < in[0].size(); ++n)
        wrong += out[0][n + static_cast<size_t> (latency)] != 0.5f * in[0][n] ? 1u : 0u;
    CHECK (wrong == 0);
    CHECK (engine.getDspProcessId() == pid);
    CHECK_THAT (pgtest::consoleText (engine), ! Catch::Contains ("did not answer"));
    CHECK (engine.getCounters().unprocessedFrames == 0);
    std::remove (marker.c_str());
}

TEST_CASE ("Engine with the Go example killed while the host renders: started again at once, its chunk run again, exact",
           "[engine][external][robustness][render]")
{
    pg::LatencyEngine engine;
    engine.setOffline (true);
    REQUIRE (engine.prepare (goSettings (512), "", "", -1));
    const int latency = engine.getLatencySamples();
    const int firstPid = engine.getDspProcessId();
    REQUIRE (firstPid > 0);
    pgtest::consoleText (engine);
    const auto in = pgtest::noise (2, 48000 * 2, 44);
    bool killed = false;
    const auto out = pgtest::run (engine, in, pgtest::fixedBlocks (512), true, [&] (size_t pos) {
        if (! killed && pos >= 48000)
        {
            REQUIRE (kill (firstPid, SIGKILL) == 0);
            killed = true;
        }
    });
    REQUIRE (killed);
    const auto text = pgtest::consoleText (engine);
    INFO (text);
    CHECK_THAT (text, Catch::Contains ("killed by signal 9") && Catch::Contains ("started again, its chunk run again"));
    CHECK (engine.getDspProcessId() != firstPid);
    CHECK (engine.getCounters().dspRestarts == 1);
    CHECK (engine.getCounters().unprocessedFrames == 0);
    // The example's state starts over with the new process: one frame of its memory differs.
    const auto wet = pgtest::simpleWet (in);
    size_t firstBad = in[0].size(), bad = 0;
    for (size_t n = 0; n < in[0].size(); ++n)
        for (size_t c = 0; c < 2; ++c)
            if (out[c][n] != pgtest::delayedAt (wet[c], n, latency))
            {
                firstBad = std::min (firstBad, n);
                ++bad;
            }
    INFO ("first frame off: " << firstBad << " (L " << latency << "), " << bad << " samples off");
    CHECK (bad <= 2);
    CHECK (kill (firstPid, 0) != 0); // reaped
}

TEST_CASE ("Engine with a program that keeps failing: restarts back off and stop after 5 with a message; retryProgram tries again",
           "[engine][external][robustness]")
{
    pg::LatencyEngine engine;
    engine.setOffline (true);
    auto s = pgtest::settingsFor (48000.0, 256, 2);
    s.dspProgram = { "/bin/false" }; // exits at once, every time
    CHECK_FALSE (engine.prepare (s, "", "", -1));
    std::string text;
    const auto waitFor = [&] (auto condition, double seconds) {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double> (seconds);
        while (! condition() && std::chrono::steady_clock::now() < end)
        {
            text += pgtest::consoleText (engine);
            std::this_thread::sleep_for (std::chrono::milliseconds (20));
        }
        text += pgtest::consoleText (engine);
        return condition();
    };
    // 0.25 + 0.5 + 1 + 2 + 4 s of backoff, then no more.
    REQUIRE (waitFor ([&] { return engine.areProgramRestartsStopped(); }, 30.0));
    CHECK (engine.getCounters().dspRestarts == 5);
    CHECK_THAT (text, Catch::Contains ("failed 6 times in a row: restarts stopped"));
    std::this_thread::sleep_for (std::chrono::milliseconds (300));
    CHECK (engine.getCounters().dspRestarts == 5);

    CHECK (engine.retryProgram());
    REQUIRE (waitFor ([&] { return engine.getCounters().dspRestarts == 6; }, 5.0));
    CHECK_FALSE (engine.areProgramRestartsStopped());
    engine.release();
}

TEST_CASE ("Engine with a program: its state set before prepare is loaded, and getProgramState saves it between chunks",
           "[engine][external][state]")
{
    pg::LatencyEngine engine;
    engine.setOffline (true);
    const auto s = testChildSettings ({ "counter" });
    engine.setProgramState ("count=1000");
    REQUIRE (engine.prepare (s, "", "", -1));
    // No audio yet: no chunk to save it before, so the latest known state after the wait.
    CHECK (engine.getProgramState (0.05) == "count=1000");

    pgtest::run (engine, pgtest::noise (1, 2048, 47), pgtest::fixedBlocks (256), true); // 8 chunks counted
    std::atomic<bool> playing { true };
    std::thread audio ([&] {
        while (playing)
            pgtest::run (engine, pgtest::noise (1, 2048, 48), pgtest::fixedBlocks (256), true);
    });
    const auto saved = engine.getProgramState (5.0);
    playing = false;
    audio.join();
    INFO (saved);
    REQUIRE (saved.rfind ("count=", 0) == 0);
    CHECK (std::stoul (saved.substr (6)) > 1000); // it went on from the state it was given
    engine.release();
}
