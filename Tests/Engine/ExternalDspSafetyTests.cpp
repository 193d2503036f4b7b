// The external DSP's safety (ExternalDsp.cpp): what a program may give the host (its output is
// sanitised), what it gets from the host (descriptors, signals, working directory), which file runs
// (an absolute path with the hash it was allowed with), the protocol's versions, and a program
// that never outlives its host.

#include "EngineHarness.h"
#include "ExternalDsp.h"
#include "Sha256.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace
{
    namespace fs = std::filesystem;

    pg::ExternalDsp::Options testChild (const char* mode, std::vector<std::string> extra = {})
    {
        pg::ExternalDsp::Options o;
        o.program = { PAUSEGUARD_TEST_CHILD, mode };
        o.program.argv.insert (o.program.argv.end(), extra.begin(), extra.end());
        return o;
    }

    bool processOnce (pg::ExternalDsp& dsp, std::vector<float>& x)
    {
        float* channels[] = { x.data() };
        return dsp.process (channels, 1, static_cast<int> (x.size()));
    }

    // A folder of the test's own, removed at its end.
    struct TemporaryFolder
    {
        TemporaryFolder() { fs::create_directories (path); }
        ~TemporaryFolder() { fs::remove_all (path); }
        fs::path path = fs::temp_directory_path() / ("pauseguard-trust-" + std::to_string (getpid()));
    };

    // The children of this process (the programs it adopted as a subreaper included).
    std::vector<pid_t> adoptedChildren()
    {
        std::vector<pid_t> pids;
        for (const auto& task : fs::directory_iterator ("/proc/self/task"))
        {
            std::ifstream children (task.path() / "children");
            for (pid_t p; children >> p;)
                pids.push_back (p);
        }
        return pids;
    }

    // A program that leaves a mark when it runs: a shell script that creates `mark`.
    std::string writeMarkingScript (const fs::path& script, const fs::path& mark)
    {
        std::ofstream (script) << "#!/bin/sh\ntouch '" << mark.string() << "'\n";
        fs::permissions (script, fs::perms::owner_all);
        return script.string();
    }
} // namespace

TEST_CASE ("External DSP: a program's NaN, Inf and subnormal output samples reach the host as 0", "[engine][external][safety]")
{
    pg::ExternalDsp dsp;
    REQUIRE (dsp.start (testChild ("non-finite")));
    REQUIRE (dsp.prepare (48000.0, 64, 1));
    std::vector<float> x (10, 1.0f);
    REQUIRE (processOnce (dsp, x));
    CHECK (x == std::vector<float> { 0.0f, 0.0f, 0.0f, 0.0f, 0.25f, 0.0f, 0.0f, 0.0f, 0.0f, 0.25f });
}

TEST_CASE ("External DSP: the child gets descriptors 0-3 only, no blocked or ignored signal, / as its folder; its stdout is its stderr",
           "[engine][external][safety]")
{
    // What a host might leave behind: a descriptor without close-on-exec, a blocked and an ignored signal.
    const int opened = open ("/dev/null", O_RDONLY);
    const int leaked = fcntl (opened, F_DUPFD, 20);
    close (opened);
    REQUIRE (leaked >= 20);
    sigset_t usr1, before;
    sigemptyset (&usr1);
    sigaddset (&usr1, SIGUSR1);
    pthread_sigmask (SIG_BLOCK, &usr1, &before);
    const auto previousUsr2 = std::signal (SIGUSR2, SIG_IGN);

    pg::ExternalDsp dsp;
    const bool started = dsp.start (testChild ("hygiene")) && dsp.prepare (48000.0, 64, 1);
    dsp.stop();
    pthread_sigmask (SIG_SETMASK, &before, nullptr);
    std::signal (SIGUSR2, previousUsr2);
    close (leaked);

    REQUIRE (started);
    const auto printed = dsp.takeStderr();
    CHECK_THAT (printed, Catch::Contains ("fds 0,1,2,3; blocked 0; ignored 0; cwd /\n"));
    CHECK_THAT (printed, Catch::Contains ("a line on stdout\n"));
}

TEST_CASE ("External DSP: a child that writes 256 KB on stderr before it answers is not blocked by a full pipe",
           "[engine][external][safety]")
{
    pg::ExternalDsp dsp;
    REQUIRE (dsp.start (testChild ("chatty")));
    REQUIRE (dsp.prepare (48000.0, 64, 1));
    dsp.stop();
    CHECK (dsp.takeStderr().size() == 65536); // the last 64 KB are kept
}

TEST_CASE ("External DSP: protocol versions: an older minor is served with what it has; another major is refused",
           "[engine][external][safety]")
{
    // 2.0: every answer carries every figure, so the host never asks for stats. The test child counts
    // its answers in pauseCount.
    pg::ExternalDsp old;
    REQUIRE (old.start (testChild ("old-minor")));
    CHECK (old.getSharedMinor() == 0);
    REQUIRE (old.prepare (48000.0, 64, 1));
    std::vector<float> x (64, 1.0f);
    REQUIRE (processOnce (old, x));
    std::this_thread::sleep_for (std::chrono::milliseconds (150));
    REQUIRE (processOnce (old, x));
    CHECK (old.getStats().pauseCount == 4); // hello, prepare, two process calls

    // 2.1 and later: the host asks for the pause figures ten times a second.
    pg::ExternalDsp current;
    REQUIRE (current.start (testChild ("gain")));
    CHECK (current.getSharedMinor() == pg::external::versionMinor);
    REQUIRE (current.prepare (48000.0, 64, 1));
    REQUIRE (processOnce (current, x));
    std::this_thread::sleep_for (std::chrono::milliseconds (150));
    REQUIRE (processOnce (current, x));
    CHECK (current.getStats().pauseCount == 6); // hello, prepare, process, stats, process, stats

    pg::ExternalDsp other;
    CHECK_FALSE (other.start (testChild ("wrong-major")));
    CHECK_THAT (other.getError(), Catch::Contains ("major versions differ"));
    CHECK_FALSE (other.isRunning());
}

TEST_CASE ("External DSP: only an absolute path runs, and only while every file has the hash it was allowed with",
           "[engine][external][safety][trust]")
{
    TemporaryFolder folder;
    const auto mark = folder.path / "ran";
    const auto script = writeMarkingScript (folder.path / "dsp.sh", mark);
    pg::ExternalDsp dsp;
    pg::ExternalDsp::Options o;

    // Allowed as it is: it runs (and, being no DSP, exits at once).
    o.program = pg::ProgramCommand ({ script }, { { script, *pg::fileSha256Hex (script) } });
    CHECK_FALSE (dsp.start (o));
    CHECK (fs::exists (mark));
    fs::remove (mark);

    // Changed since: nothing starts.
    std::ofstream (script, std::ios::app) << "# one more line\n";
    CHECK_FALSE (dsp.start (o));
    CHECK_THAT (dsp.getError(), Catch::Contains ("changed since it was allowed"));
    CHECK_FALSE (fs::exists (mark));

    // A relative path, or a bare name (PATH is never searched, an empty entry included): nothing starts.
    const auto previousPath = std::string (std::getenv ("PATH") != nullptr ? std::getenv ("PATH") : "");
    const auto previousFolder = fs::current_path();
    fs::current_path (folder.path);
    setenv ("PATH", (":" + folder.path.string()).c_str(), 1);
    for (const auto& name : { std::string ("dsp.sh"), std::string ("./dsp.sh") })
    {
        o.program = pg::ProgramCommand ({ name }, { { script, *pg::fileSha256Hex (script) } });
        CHECK_FALSE (dsp.start (o));
        CHECK_THAT (dsp.getError(), Catch::Contains ("is not an absolute path"));
    }
    fs::current_path (previousFolder);
    setenv ("PATH", previousPath.c_str(), 1);
    CHECK_FALSE (fs::exists (mark));
}

TEST_CASE ("External DSP: a compiled program swapped for another file after its check is not run: the checked one is",
           "[engine][external][safety][trust]")
{
    // The program is opened once, hashed through that descriptor, and run from it: a file moved
    // over its path between the check and the start (a test hook runs there) changes nothing. No
    // link or folder made to run it is left behind.
    TemporaryFolder folder;
    // The folder for the link that runs it: this test's own (other tests start programs meanwhile).
    const auto runtime = folder.path / "runtime";
    fs::create_directories (runtime);
    const char* previousRuntime = std::getenv ("XDG_RUNTIME_DIR");
    const std::string previous = previousRuntime != nullptr ? previousRuntime : "";
    setenv ("XDG_RUNTIME_DIR", runtime.c_str(), 1);
    const auto program = folder.path / "dsp";
    fs::copy_file (PAUSEGUARD_TEST_CHILD, program);
    fs::permissions (program, fs::perms::owner_all);
    const auto mark = folder.path / "ran";
    const auto other = writeMarkingScript (folder.path / "other.sh", mark);

    pg::ExternalDsp::Options o;
    o.program = pg::ProgramCommand ({ program.string(), "gain" }, { { program.string(), *pg::fileSha256Hex (program.string()) } });
    o.afterFilesChecked = [&] { fs::rename (other, program); };
    pg::ExternalDsp dsp;
    CHECK (dsp.start (o)); // the test child greets
    INFO (dsp.getError());
    std::string name;
    std::getline (std::ifstream ("/proc/" + std::to_string (dsp.getPid()) + "/comm"), name);
    CHECK (name == "dsp"); // its process name is the program's, as ps and top show it
    CHECK (dsp.prepare (48000.0, 64, 1));
    std::vector<float> x (64, 1.0f);
    CHECK (processOnce (dsp, x));
    dsp.stop();
    CHECK_FALSE (fs::exists (mark));
    CHECK (fs::is_empty (runtime)); // no link or folder left behind
    if (previousRuntime != nullptr)
        setenv ("XDG_RUNTIME_DIR", previous.c_str(), 1);
    else
        unsetenv ("XDG_RUNTIME_DIR");

    // Its next start checks the file the path names now, and refuses it.
    o.afterFilesChecked = nullptr;
    CHECK_FALSE (dsp.start (o));
    CHECK_THAT (dsp.getError(), Catch::Contains ("changed since it was allowed"));
    CHECK_FALSE (fs::exists (mark));
}

// Timed by the wall clock from the host's death, the program's start-up included: a sanitized
// program takes about a second just to start, so the sanitizer runs leave this out ([pauses]).
TEST_CASE ("External DSP: a program exits within 100 ms when its host dies, whenever it dies", "[engine][external][safety][pauses]")
{
    // The test process adopts the orphans (a subreaper), so that it sees the program exit.
    REQUIRE (prctl (PR_SET_CHILD_SUBREAPER, 1) == 0);
    double slowest = 0.0;
    int orphans = 0;
    for (const char* program : { PAUSEGUARD_TEST_CHILD, PAUSEGUARD_GO_EXAMPLE })
        for (const int dieAfterMicroseconds : { 0, 200, 1000, 3000, 10000, 30000, 200000 })
        {
            const auto after = std::to_string (dieAfterMicroseconds);
            std::vector<std::string> words { PAUSEGUARD_TEST_HOST, after, program };
            if (program == std::string (PAUSEGUARD_GO_EXAMPLE))
                words.insert (words.end(), { "-live-heap-mb", "1" });
            std::vector<char*> argv;
            for (auto& w : words)
                argv.push_back (w.data());
            argv.push_back (nullptr);
            pid_t host = -1;
            REQUIRE (posix_spawn (&host, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
            REQUIRE (waitpid (host, nullptr, 0) == host);
            const auto died = std::chrono::steady_clock::now();
            // The host's program, if it had started one, is ours now: it must exit by itself.
            for (pid_t orphan; (orphan = waitpid (-1, nullptr, WNOHANG)) >= 0;)
            {
                const double waited = std::chrono::duration<double> (std::chrono::steady_clock::now() - died).count();
                if (orphan > 0)
                {
                    ++orphans;
                    slowest = std::max (slowest, waited);
                    continue;
                }
                if (waited > 2.0)
                {
                    FAIL_CHECK ("a program outlived its host by 2 s (" << program << ", host died after " << after << " us)");
                    for (const pid_t adopted : adoptedChildren())
                        kill (adopted, SIGKILL);
                }
                std::this_thread::sleep_for (std::chrono::microseconds (500));
            }
        }
    while (waitpid (-1, nullptr, WNOHANG) > 0)
    {
    }
    prctl (PR_SET_CHILD_SUBREAPER, 0);
    INFO ("slowest exit after its host: " << slowest * 1000.0 << " ms, " << orphans << " programs started");
    CHECK (orphans >= 4);
    CHECK (slowest < 0.1);
}

TEST_CASE ("External DSP: a 2.2 child's declared parameters are its macros; an older minor's are ignored", "[engine][external][versions]")
{
    pg::ExternalDsp dsp;
    REQUIRE (dsp.start (testChild ("declares")));
    const auto& macros = dsp.getMacros();
    REQUIRE (macros.size() == 2);
    CHECK (macros[0].name == "rate");
    CHECK (macros[0].min == Approx (0.1));
    CHECK (macros[0].max == Approx (5.0));
    CHECK (macros[1].name == "depth");
    CHECK (macros[1].max == Approx (10.0));

    pg::ExternalDsp old;
    REQUIRE (old.start (testChild ("old-minor")));
    CHECK (old.getMacros().empty());
}

// Two guards, each enough alone: the block is not mapped in a fork (MADV_DONTFORK), and stop() in
// a process other than the one that started the child touches nothing.
TEST_CASE ("External DSP: a forked copy of the host leaves the program alone", "[engine][external][safety]")
{
    pg::ExternalDsp dsp;
    REQUIRE (dsp.start (testChild ("gain")));
    REQUIRE (dsp.prepare (48000.0, 64, 1));
    const pid_t copy = fork();
    REQUIRE (copy >= 0);
    if (copy == 0)
    {
        dsp.stop(); // the copy's: it must neither post quit nor kill the parent's child
        _exit (0);
    }
    REQUIRE (waitpid (copy, nullptr, 0) == copy);
    CHECK (dsp.isRunning());
    std::vector<float> x (64, 1.0f);
    CHECK (processOnce (dsp, x)); // it still answers
    CHECK (x[0] == 0.5f);
}

TEST_CASE ("External DSP: a 2.2 child's state is saved and loaded into a new start; a bad one is refused with its message",
           "[engine][external][state]")
{
    pg::ExternalDsp dsp;
    REQUIRE (dsp.start (testChild ("counter")));
    REQUIRE (dsp.prepare (48000.0, 64, 1));
    std::vector<float> x (8, 0.0f);
    for (int call = 0; call < 3; ++call)
        REQUIRE (processOnce (dsp, x));
    std::string state;
    REQUIRE (dsp.saveState (state));
    CHECK (state == "count=3");

    pg::ExternalDsp restored;
    auto o = testChild ("counter");
    o.initialState = state;
    REQUIRE (restored.start (o));
    REQUIRE (restored.prepare (48000.0, 64, 1));
    REQUIRE (processOnce (restored, x));
    CHECK (x[0] == 4.0f); // it goes on counting from the saved state

    o.initialState = "rubbish";
    CHECK_FALSE (restored.start (o));
    CHECK (restored.getError() == "the DSP program refused its saved state: not a counter's state: rubbish");

    pg::ExternalDsp stateless; // a child that keeps none saves an empty state
    REQUIRE (stateless.start (testChild ("gain")));
    REQUIRE (stateless.saveState (state));
    CHECK (state.empty());
}
