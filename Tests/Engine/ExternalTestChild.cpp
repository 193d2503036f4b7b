// A DSP program for the external DSP's tests, in C++: the protocol (ExternalProtocol.h) on one page.
//   pauseguard_test_child gain          halves its input (or multiplies it by the host's parameter
//                                       "gain"); writes one line on stderr at prepare
//   pauseguard_test_child late FILE     as gain, but answers its 100th process call 1 s late if FILE
//                                       does not exist (and creates it: a restart is on time)
//   pauseguard_test_child wrong-major   answers hello with protocol 99.0
//   pauseguard_test_child old-minor     answers hello with the host's major and minor 0 (and, as
//                                       a 2.0 client would not, declared parameters: to be ignored)
//   pauseguard_test_child declares      declares two parameters, rate (0.1-5 Hz) and depth (0-10 ms)
//   pauseguard_test_child non-finite    writes NaN, +Inf, -Inf, a subnormal and 0.25, over and over
//   pauseguard_test_child hygiene       at prepare: its open descriptors, blocked and ignored signals
//                                       and working directory on stderr, and a line on stdout
//   pauseguard_test_child counter       keeps a state: the number of process calls, which it writes
//                                       into each call's first sample (after the call is counted)
//   pauseguard_test_child chatty        writes 256 KB on stderr at prepare, before it answers
//   pauseguard_test_child slow-start MS sleeps MS ms before it maps the block (a host may die meanwhile)
// Every mode exits within 50 ms once its parent is no longer the host that started it.

#include "ExternalProtocol.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <limits>
#include <linux/futex.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

using namespace pg::external;

namespace
{
    // Exits when the host that started it is gone (its parent is then another process).
    void watchParent (pid_t host)
    {
        if (getppid() != host)
            _exit (3);
        std::thread ([host] {
            for (;;)
            {
                std::this_thread::sleep_for (std::chrono::milliseconds (10));
                if (getppid() != host)
                    _exit (3);
            }
        }).detach();
    }

    void reportHygiene()
    {
        std::string fds;
        if (DIR* dir = opendir ("/proc/self/fd"))
        {
            const int own = dirfd (dir);
            while (const dirent* e = readdir (dir))
                if (e->d_name[0] != '.' && std::atoi (e->d_name) != own)
                    fds += std::string (fds.empty() ? "" : ",") + e->d_name;
            closedir (dir);
        }
        sigset_t mask;
        sigprocmask (SIG_BLOCK, nullptr, &mask);
        int blocked = 0, ignored = 0;
        for (int s = 1; s < NSIG; ++s)
        {
            struct sigaction action
            {
            };
            blocked += sigismember (&mask, s) == 1 ? 1 : 0;
            if (sigaction (s, nullptr, &action) == 0 && action.sa_handler == SIG_IGN)
                ++ignored;
        }
        char cwd[PATH_MAX] = "?";
        [[maybe_unused]] const char* got = getcwd (cwd, sizeof (cwd));
        std::fprintf (stderr, "fds %s; blocked %d; ignored %d; cwd %s\n", fds.c_str(), blocked, ignored, cwd);
        std::fflush (stderr);
        std::printf ("a line on stdout\n");
        std::fflush (stdout);
    }

    void declareTwo (ExternalBlock& b)
    {
        b.declared[0] = { "rate", "Hz", 0.1f, 5.0f, 0.8f, 0 };
        b.declared[1] = { "depth", "ms", 0.0f, 10.0f, 3.0f, 0 };
        b.declaredCount = 2;
    }

    void writeNonFinite (float* x, uint32_t n)
    {
        const float pattern[] = { std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                                  -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::denorm_min() * 7.0f, 0.25f };
        for (uint32_t i = 0; i < n; ++i)
            x[i] = pattern[i % 5];
    }
} // namespace

int main (int argc, char** argv)
{
    const std::string mode = argc > 1 ? argv[1] : "gain";
    const std::string argument = argc > 2 ? argv[2] : "";
    struct stat st
    {
    };
    if (std::getenv ("PAUSEGUARD_FD") == nullptr || fstat (fd, &st) != 0)
        return 2;
    if (mode == "slow-start")
    {
        const pid_t parent = getppid();
        for (int ms = 0; ms < std::atoi (argument.c_str()); ms += 5) // (its parent watched meanwhile)
        {
            usleep (5000);
            if (getppid() != parent)
                return 3;
        }
    }
    void* mem = mmap (nullptr, static_cast<size_t> (st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED)
        return 2;
    auto* b = static_cast<ExternalBlock*> (mem);
    watchParent (static_cast<pid_t> (b->hostPid));
    auto* audio = reinterpret_cast<float*> (static_cast<char*> (mem) + b->audioOffset);
    uint32_t seen = 0, processCalls = 0;
    uint32_t counted = 0; // counter mode's state
    for (;;)
    {
        const uint32_t seq = std::atomic_ref<uint32_t> (b->requestSeq).load (std::memory_order_acquire);
        if (seq == seen)
        {
            timespec ts { 0, 100'000'000 };
            syscall (SYS_futex, &b->requestSeq, FUTEX_WAIT, seen, &ts, nullptr, 0);
            continue;
        }
        seen = seq;
        b->status = ok;
        const uint32_t command = b->command;
        if (command == hello)
        {
            b->childMajor = mode == "wrong-major" ? 99 : versionMajor;
            b->childMinor = mode == "old-minor" || mode == "wrong-major" ? 0 : versionMinor;
            b->status = mode == "wrong-major" || b->versionMajor != versionMajor ? wrongVersion : ok;
            std::snprintf (b->message, sizeof (b->message), "test child (%s)", mode.c_str());
            if (mode == "declares" || mode == "old-minor")
                declareTwo (*b);
        }
        else if (command == prepare)
        {
            std::fprintf (stderr, "prepared: %u channels, %u frames\n", b->channels, b->frames);
            if (mode == "hygiene")
                reportHygiene();
            if (mode == "chatty")
                for (int i = 0; i < 256; ++i)
                    std::fprintf (stderr, "%01023d\n", i);
            std::fflush (stderr);
        }
        else if (command == process)
        {
            float gain = 0.5f; // or the host's parameter "gain"
            for (uint32_t i = 0; i < std::min<uint32_t> (b->parameterCount, maxParameters); ++i)
                if (std::strcmp (b->parameters[i].name, "gain") == 0)
                    gain = b->parameters[i].value;
            for (uint32_t c = 0; c < b->channels; ++c)
                for (uint32_t i = 0; i < b->frames; ++i)
                    audio[c * b->maxFrames + i] *= gain;
            if (mode == "counter")
                audio[0] = static_cast<float> (++counted);
            if (mode == "non-finite")
                for (uint32_t c = 0; c < b->channels; ++c)
                    writeNonFinite (audio + c * b->maxFrames, b->frames);
            if (mode == "late" && ++processCalls == 100 && ! std::ifstream (argument).good())
            {
                std::ofstream (argument) << "late once\n";
                std::this_thread::sleep_for (std::chrono::seconds (1));
            }
        }
        else if (command == saveState)
            b->stateBytes = mode == "counter" ? static_cast<uint32_t> (std::snprintf (reinterpret_cast<char*> (audio), 64, "count=%u", counted)) : 0u;
        else if (command == loadState && mode == "counter")
        {
            const std::string state (reinterpret_cast<const char*> (audio), b->stateBytes);
            if (state.rfind ("count=", 0) != 0)
            {
                b->status = failed;
                std::snprintf (b->message, sizeof (b->message), "not a counter's state: %s", state.c_str());
            }
            else
                counted = static_cast<uint32_t> (std::stoul (state.substr (6)));
        }
        b->stats.heapBytes = 65536; // a runtime's figures: a heap that never changes
        ++b->stats.pauseCount; // (counts the answers: the host's stats requests show in it)
        std::atomic_ref<uint32_t> (b->responseSeq).store (seq, std::memory_order_release);
        syscall (SYS_futex, &b->responseSeq, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
        if (command == quit)
            return 0;
    }
}
