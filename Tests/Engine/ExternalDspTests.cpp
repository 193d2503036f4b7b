// The external DSP (ExternalDsp.cpp): a child process over shared memory, with the Go example
// (bin/pauseguard-example-go) and a C++ test child (ExternalTestChild.cpp).

#include "EngineHarness.h"
#include "ExternalDsp.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <pthread.h>
#include <sched.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>

namespace
{
    pg::ExternalDsp::Options goExample (std::vector<std::string> extra = {})
    {
        pg::ExternalDsp::Options o;
        o.program = { PAUSEGUARD_GO_EXAMPLE };
        o.program.argv.insert (o.program.argv.end(), extra.begin(), extra.end());
        o.maxChannels = 2;
        o.maxFrames = 512;
        return o;
    }

    // Runs `in` through dsp in blocks of the given sizes (cycled); false if a call failed.
    bool processAll (pg::ExternalDsp& dsp, std::vector<std::vector<float>>& io, std::initializer_list<int> sizes, size_t from = 0)
    {
        std::vector<float*> ptrs (io.size());
        const std::vector<int> blocks (sizes);
        size_t k = 0;
        for (size_t pos = from; pos < io[0].size(); ++k)
        {
            const auto n = std::min<size_t> (static_cast<size_t> (blocks[k % blocks.size()]), io[0].size() - pos);
            for (size_t c = 0; c < io.size(); ++c)
                ptrs[c] = io[c].data() + pos;
            if (! dsp.process (ptrs.data(), static_cast<int> (io.size()), static_cast<int> (n)))
                return false;
            pos += n;
        }
        return true;
    }

    bool processExited (pid_t pid) { return pid > 0 && kill (pid, 0) != 0; }
} // namespace

TEST_CASE ("External DSP: the Go example processes exactly, in blocks of any size", "[engine][external]")
{
    pg::ExternalDsp dsp;
    REQUIRE (dsp.start (goExample ({ "-live-heap-mb", "4" })));
    CHECK (dsp.getChildName() == "pauseguard-example-go");
    REQUIRE (dsp.prepare (48000.0, 512, 2));
    const auto in = pgtest::noise (2, 20000, 31);
    auto io = in;
    REQUIRE (processAll (dsp, io, { 128, 1, 511, 512, 97, 1500 })); // 1500: more than prepared, in pieces
    const auto expected = pgtest::simpleWet (in);
    size_t wrong = 0;
    for (size_t c = 0; c < 2; ++c)
        for (size_t i = 0; i < in[c].size(); ++i)
            wrong += io[c][i] != expected[c][i] ? 1u : 0u;
    CHECK (wrong == 0);
    // The Go runtime's own figures arrive with the answers: a 4 MB live heap, and its collections.
    CHECK (dsp.getStats().heapBytes >= (size_t (4) << 20));
    CHECK (dsp.getStats().collections > 0);
    CHECK (dsp.getStats().pauseCount > 0);
    CHECK (dsp.getStats().pauseP50Seconds <= dsp.getStats().pauseP99Seconds);
    CHECK (dsp.getStats().pauseP99Seconds <= dsp.getStats().pauseMaxSeconds);
    const pid_t pid = dsp.getPid();
    dsp.stop();
    CHECK_FALSE (dsp.isRunning());
    CHECK (processExited (pid)); // quit, and reaped: no zombie (a zombie still answers kill 0)
}

TEST_CASE ("External DSP: kill -9 mid-play fails the call with a message; a restart is exact again", "[engine][external]")
{
    pg::ExternalDsp dsp;
    REQUIRE (dsp.start (goExample ({ "-live-heap-mb", "1" })));
    REQUIRE (dsp.prepare (48000.0, 256, 2));
    auto io = pgtest::noise (2, 4096, 32);
    REQUIRE (processAll (dsp, io, { 256 }));
    const pid_t pid = dsp.getPid();
    REQUIRE (kill (pid, SIGKILL) == 0);
    auto after = pgtest::noise (2, 256, 33);
    const auto untouched = after;
    std::vector<float*> ptrs { after[0].data(), after[1].data() };
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE (dsp.process (ptrs.data(), 2, 256));
    CHECK (std::chrono::steady_clock::now() - t0 < std::chrono::seconds (1)); // within the call budget
    CHECK (after == untouched); // the caller keeps its input (the engine plays dry)
    CHECK_THAT (dsp.getError(), Catch::Contains ("killed by signal 9"));
    CHECK_FALSE (dsp.isRunning());
    CHECK (processExited (pid));

    REQUIRE (dsp.start (goExample ({ "-live-heap-mb", "1" })));
    REQUIRE (dsp.prepare (48000.0, 256, 2));
    const auto in = pgtest::noise (2, 4096, 34);
    auto io2 = in;
    REQUIRE (processAll (dsp, io2, { 256, 33 }));
    CHECK (io2 == pgtest::simpleWet (in));
}

TEST_CASE ("External DSP: a program that never answers is stopped within the bound, and reaped", "[engine][external]")
{
    pg::ExternalDsp dsp;
    pg::ExternalDsp::Options o;
    o.program = { "/bin/sleep", "30" };
    o.answerTimeoutSeconds = 0.5;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE (dsp.start (o));
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK (took >= std::chrono::milliseconds (500));
    CHECK (took < std::chrono::seconds (3));
    CHECK_THAT (dsp.getError(), Catch::Contains ("did not answer hello within 500 ms"));
    CHECK_FALSE (dsp.isRunning());
    CHECK (waitpid (-1, nullptr, WNOHANG) <= 0); // no child of ours is left to reap
}

TEST_CASE ("External DSP: another major protocol version, a missing program or a crash at start give a clear error", "[engine][external]")
{
    pg::ExternalDsp dsp;
    pg::ExternalDsp::Options o;
    o.program = { PAUSEGUARD_TEST_CHILD, "wrong-major" };
    CHECK_FALSE (dsp.start (o));
    CHECK (dsp.getError() == "the DSP program speaks protocol 99.0, this host speaks 2.2: their major versions differ (build the program with a client of protocol 2)");

    o.program = { "/nonexistent/dsp-program" };
    CHECK_FALSE (dsp.start (o));
    CHECK_THAT (dsp.getError(), Catch::Contains ("cannot start /nonexistent/dsp-program"));

    o.program = { "/bin/false" }; // exits at once with code 1
    CHECK_FALSE (dsp.start (o));
    CHECK (dsp.getError() == "the DSP program exited with code 1");

    o.program = {};
    CHECK_FALSE (dsp.start (o));
    CHECK (dsp.getError() == "no DSP program was chosen");
}

TEST_CASE ("External DSP: a client in C++ from the protocol header alone; its stderr reaches the host", "[engine][external]")
{
    pg::ExternalDsp dsp;
    pg::ExternalDsp::Options o;
    o.program = { PAUSEGUARD_TEST_CHILD, "gain" };
    REQUIRE (dsp.start (o));
    CHECK (dsp.getChildName() == "test child (gain)");
    REQUIRE (dsp.prepare (44100.0, 64, 1));
    std::vector<std::vector<float>> io { { 1.0f, -0.5f, 0.25f } };
    REQUIRE (processAll (dsp, io, { 3 }));
    CHECK (io[0] == std::vector<float> { 0.5f, -0.25f, 0.125f });
    dsp.stop();
    CHECK (dsp.takeStderr() == "prepared: 1 channels, 64 frames\n");
}

TEST_CASE ("External DSP: with the host collecting, Go's automatic collector is off and the heap stays bounded", "[engine][external]")
{
    // 64 KB of garbage per call, 3,000 calls: 192 MB made in all.
    pg::ExternalDsp dsp;
    REQUIRE (dsp.start (goExample ({ "-live-heap-mb", "2", "-garbage-kb", "64" })));
    dsp.setAutomaticCollection (false);
    REQUIRE (dsp.prepare (48000.0, 128, 1));
    REQUIRE (dsp.refreshStats());
    const auto cyclesAtStart = dsp.getStats().collections;
    std::vector<std::vector<float>> io { std::vector<float> (128, 0.1f) };
    uint64_t largestHeap = 0, collectionsAsked = 0;
    for (int call = 1; call <= 3000; ++call)
    {
        REQUIRE (processAll (dsp, io, { 128 }));
        largestHeap = std::max<uint64_t> (largestHeap, dsp.getStats().heapBytes);
        if (call % 300 == 0)
        {
            REQUIRE (dsp.fullCollection() >= 0.0);
            ++collectionsAsked;
        }
    }
    INFO ("largest heap " << largestHeap / 1024 << " KB");
    CHECK (dsp.getStats().collections - cyclesAtStart == collectionsAsked); // none by itself
    CHECK (largestHeap < (uint64_t (40) << 20)); // 300 calls of garbage + the live heap
    CHECK (largestHeap > (uint64_t (16) << 20)); // it did grow between collections
}

TEST_CASE ("External DSP: a concurrent collection runs beside the process calls, one cycle per start", "[engine][external]")
{
    pg::ExternalDsp dsp;
    REQUIRE (dsp.start (goExample ({ "-live-heap-mb", "32", "-garbage-kb", "0" })));
    dsp.setAutomaticCollection (false);
    REQUIRE (dsp.prepare (48000.0, 256, 2));
    REQUIRE (dsp.refreshStats());
    const auto before = dsp.getStats().collections;
    REQUIRE (dsp.startFullCollection() >= 0.0);
    // The chunks go on meanwhile, exact (one stream, from the prepare on).
    const auto in = pgtest::noise (2, 256 * 4000, 35);
    auto io = in;
    std::vector<float*> ptrs (2);
    size_t pos = 0;
    int callsDuring = 0;
    for (; dsp.isCollecting() && pos + 256 <= in[0].size(); pos += 256, ++callsDuring)
    {
        ptrs = { io[0].data() + pos, io[1].data() + pos };
        REQUIRE (dsp.process (ptrs.data(), 2, 256));
        std::this_thread::sleep_for (std::chrono::milliseconds (1));
    }
    CHECK_FALSE (dsp.isCollecting());
    const auto wet = pgtest::simpleWet (in);
    size_t wrong = 0;
    for (size_t c = 0; c < 2; ++c)
        for (size_t i = 0; i < pos; ++i)
            wrong += io[c][i] != wet[c][i] ? 1u : 0u;
    CHECK (wrong == 0);
    REQUIRE (dsp.refreshStats());
    INFO (callsDuring << " process calls during the cycle");
    CHECK (dsp.getStats().collections - before == 1);
    CHECK (dsp.getStats().collectSeconds > 0.0);
}

namespace
{
    // The scheduling policy and real-time priority of each of a process's threads (fields 41 and
    // 40 of /proc/PID/task/TID/stat).
    std::vector<std::pair<int, int>> threadPolicies (pid_t pid)
    {
        std::vector<std::pair<int, int>> policies;
        const auto tasks = "/proc/" + std::to_string (pid) + "/task";
        for (const auto& task : std::filesystem::directory_iterator (tasks))
        {
            std::ifstream in (task.path() / "stat");
            std::string stat ((std::istreambuf_iterator<char> (in)), std::istreambuf_iterator<char>());
            std::istringstream fields (stat.substr (stat.rfind (')') + 2)); // from field 3 on
            std::string field;
            int priority = 0;
            for (int n = 3; n <= 41 && fields >> field; ++n)
            {
                if (n == 40)
                    priority = std::stoi (field);
                if (n == 41)
                    policies.emplace_back (std::stoi (field), priority);
            }
        }
        return policies;
    }

    std::string limitLine (pid_t pid, const std::string& name)
    {
        std::ifstream in ("/proc/" + std::to_string (pid) + "/limits");
        for (std::string line; std::getline (in, line);)
            if (line.rfind (name, 0) == 0)
                return line;
        return {};
    }

    bool systemAllowsRealtime()
    {
        bool allowed = false;
        std::thread ([&] {
            sched_param p {};
            p.sched_priority = pg::WorkerPool::realtimePriority;
            allowed = pthread_setschedparam (pthread_self(), SCHED_FIFO, &p) == 0;
        }).join();
        return allowed;
    }
} // namespace

TEST_CASE ("External DSP: the Go program's processing thread runs at the pool's real-time priority and its runtime at the lowest, held by RLIMIT_RTTIME", "[engine][external]")
{
    pg::ExternalDsp dsp;
    auto options = goExample();
    options.realtimeLimitSeconds = 1.5;
    REQUIRE (dsp.start (options));
    REQUIRE (dsp.prepare (48000.0, 128, 1));
    std::vector<std::vector<float>> io { std::vector<float> (128, 0.1f) };
    REQUIRE (processAll (dsp, io, { 128 }));

    const auto limits = limitLine (dsp.getPid(), "Max realtime timeout");
    INFO (limits);
    CHECK (limits.find ("1500000") != std::string::npos); // soft, in us
    CHECK (limits.find ("3000000") != std::string::npos); // hard: SIGKILL

    const auto policies = threadPolicies (dsp.getPid());
    const auto at = [&policies] (int policy, int priority) { return std::count (policies.begin(), policies.end(), std::make_pair (policy, priority)); };
    if (! systemAllowsRealtime())
    {
        WARN ("this system does not allow SCHED_FIFO: the program's threads stay at the normal policy");
        CHECK (at (SCHED_OTHER, 0) == static_cast<long> (policies.size()));
        return;
    }
    // The processing thread at the pool's priority; the runtime's other threads (its collector's)
    // at the lowest real-time priority, above ordinary processes.
    CHECK (at (SCHED_FIFO, pg::WorkerPool::realtimePriority) == 1);
    CHECK (at (SCHED_FIFO, 1) == static_cast<long> (policies.size()) - 1);

    SECTION ("asked for the normal policy, every thread keeps it")
    {
        options.realtimePriority = 0;
        REQUIRE (dsp.start (options));
        REQUIRE (dsp.prepare (48000.0, 128, 1));
        REQUIRE (processAll (dsp, io, { 128 }));
        for (const auto& [policy, priority] : threadPolicies (dsp.getPid()))
            CHECK (policy == SCHED_OTHER);
    }
}
