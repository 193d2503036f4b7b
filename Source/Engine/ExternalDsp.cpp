#include "ExternalDsp.h"

#include "Clock.h"
#include "Sha256.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <limits>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

#if defined(__linux__)
#include <climits>
#include <csignal>
#include <fcntl.h>
#include <linux/futex.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;
#endif

namespace pg
{
    namespace
    {
        const char* commandName (uint32_t command)
        {
            switch (command)
            {
                case external::hello:
                    return "hello";
                case external::prepare:
                    return "prepare";
                case external::process:
                    return "process";
                case external::collect:
                    return "collect";
                case external::stats:
                    return "stats";
                case external::quit:
                    return "quit";
                case external::collector:
                    return "collector";
                case external::saveState:
                    return "saveState";
                case external::loadState:
                    return "loadState";
                default:
                    return "?";
            }
        }

#if defined(__linux__)
        // The program's output as LuaDsp gives a script's: non-finite and subnormal samples are silence.
        void copySanitised (float* out, const float* in, size_t n) noexcept
        {
            for (size_t i = 0; i < n; ++i)
            {
                const float v = in[i];
                out[i] = std::isfinite (v) && std::abs (v) >= std::numeric_limits<float>::min() ? v : 0.0f;
            }
        }

        std::atomic_ref<uint32_t> word (uint32_t& w) { return std::atomic_ref<uint32_t> (w); }

        // Not FUTEX_PRIVATE: the word is shared with another process.
        void futexWake (uint32_t& w) { syscall (SYS_futex, &w, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0); }
        void futexWait (uint32_t& w, uint32_t expected, double seconds)
        {
            timespec ts { static_cast<time_t> (seconds), static_cast<long> ((seconds - static_cast<double> (static_cast<time_t> (seconds))) * 1.0e9) };
            syscall (SYS_futex, &w, FUTEX_WAIT, expected, &ts, nullptr, 0);
        }

        // A descriptor the child's dup2s cannot overwrite or alias (they target 2 and 3), close-on-exec.
        int aboveChildFds (int fdToMove)
        {
            if (fdToMove < 0 || fdToMove > external::fd)
                return fdToMove;
            const int moved = fcntl (fdToMove, F_DUPFD_CLOEXEC, 10);
            close (fdToMove);
            return moved;
        }
#endif
    } // namespace

    ExternalDsp::~ExternalDsp() { stop(); }

#if defined(__linux__)
    bool ExternalDsp::start (const Options& newOptions)
    {
        stop();
        options = newOptions;
        error.clear();
        childName.clear();
        stats = {};
        collecting = false;
        sharedMinor = 0;
        declaredMacros.clear();
        const auto& argv = options.program.argv;
        if (argv.empty() || argv[0].empty())
            return fail ("no DSP program was chosen");
        if (argv[0].front() != '/')
            return fail ("the DSP program " + argv[0] + " is not an absolute path (PATH is never searched)");
        // The program is opened once: its hash is of what this descriptor reads, and spawn runs
        // the file it holds, whatever the path names by then.
        programFd = open (argv[0].c_str(), O_RDONLY | O_CLOEXEC);
        if (programFd < 0)
            return fail ("cannot start " + argv[0] + ": " + std::strerror (errno));
        for (const auto& file : options.program.files)
            if ((file.path == argv[0] ? fileSha256Hex (programFd) : fileSha256Hex (file.path)) != file.sha256)
                return fail ("the DSP program's file " + file.path + " changed since it was allowed: allow it again to run it");
        if (options.afterFilesChecked)
            options.afterFilesChecked();
        options.maxChannels = std::clamp (options.maxChannels, 1, 64);
        options.maxFrames = std::clamp (options.maxFrames, 1, 1 << 16);

        blockBytes = external::ExternalBlock::sizeFor (options.maxChannels, options.maxFrames);
        memFd = aboveChildFds (static_cast<int> (syscall (SYS_memfd_create, "pauseguard-dsp", MFD_CLOEXEC)));
        if (memFd < 0 || ftruncate (memFd, static_cast<off_t> (blockBytes)) != 0)
            return fail (std::string ("cannot create the shared memory: ") + std::strerror (errno));
        void* mapped = mmap (nullptr, blockBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memFd, 0);
        if (mapped == MAP_FAILED)
            return fail (std::string ("cannot map the shared memory: ") + std::strerror (errno));
        madvise (mapped, blockBytes, MADV_DONTFORK); // a forked copy of the host never sees the block
        ownerPid = getpid();
        block = new (mapped) external::ExternalBlock {};
        block->magic = external::magic;
        block->versionMajor = external::versionMajor;
        block->versionMinor = external::versionMinor;
        block->audioOffset = static_cast<uint32_t> (external::ExternalBlock::audioStart());
        block->maxChannels = static_cast<uint32_t> (options.maxChannels);
        block->maxFrames = static_cast<uint32_t> (options.maxFrames);
        block->hostPid = static_cast<uint32_t> (ownerPid);
        audio = reinterpret_cast<float*> (static_cast<char*> (mapped) + external::ExternalBlock::audioStart());
        std::memcpy (block->parameters, parameters, sizeof (parameters)); // those given before start
        block->parameterCount = parameterCount;
        return spawn() && greet() && (options.initialState.empty() || loadState (options.initialState));
    }

    size_t ExternalDsp::stateCapacity() const noexcept { return blockBytes - external::ExternalBlock::audioStart(); }

    bool ExternalDsp::saveState (std::string& state)
    {
        state.clear();
        if (! isRunning() || sharedMinor < 2)
            return isRunning(); // a child before 2.2 keeps no state
        if (! exchange (external::saveState, options.answerTimeoutSeconds))
            return false;
        if (block->status != external::ok)
            return fail ("the DSP program failed to save its state: " + childMessage());
        state.assign (reinterpret_cast<const char*> (audio), std::min<size_t> (block->stateBytes, stateCapacity()));
        return true;
    }

    bool ExternalDsp::loadState (const std::string& state)
    {
        if (! isRunning())
            return false;
        if (sharedMinor < 2 || state.empty())
            return true;
        if (state.size() > stateCapacity())
            return fail ("the DSP program's saved state is larger than its shared memory");
        std::memcpy (audio, state.data(), state.size());
        block->stateBytes = static_cast<uint32_t> (state.size());
        if (! exchange (external::loadState, options.answerTimeoutSeconds))
            return false;
        if (block->status != external::ok)
            return fail ("the DSP program refused its saved state: " + childMessage());
        return true;
    }

    // A compiled program runs from the descriptor its hash was read through: through a link named
    // as the program (its process name, as `ps` shows it, is the name exec is given) in a private
    // folder, to this process's /proc entry for the descriptor (the child closes its own copies
    // before it runs). A script runs by its path: its interpreter opens it by the name it is given.
    ExternalDsp::FileToRun::FileToRun (int programFd, const std::string& programPath)
        : path (programPath)
    {
        constexpr char elf[4] = { 0x7f, 'E', 'L', 'F' };
        char magic[4] {};
        if (pread (programFd, magic, sizeof (magic), 0) != sizeof (magic) || std::memcmp (magic, elf, sizeof (elf)) != 0)
            return;
        const std::string descriptor = "/proc/" + std::to_string (getpid()) + "/fd/" + std::to_string (programFd);
        const char* runtime = std::getenv ("XDG_RUNTIME_DIR");
        std::string pattern = std::string (runtime != nullptr && runtime[0] == '/' ? runtime : "/tmp") + "/pauseguard-run-XXXXXX";
        if (access (descriptor.c_str(), F_OK) != 0 || mkdtemp (pattern.data()) == nullptr)
            return;
        folder = pattern;
        const auto slash = programPath.find_last_of ('/');
        const std::string link = folder + "/" + programPath.substr (slash == std::string::npos ? 0 : slash + 1);
        if (symlink (descriptor.c_str(), link.c_str()) == 0)
            path = link;
    }

    ExternalDsp::FileToRun::~FileToRun()
    {
        if (folder.empty())
            return;
        if (path.rfind (folder, 0) == 0)
            unlink (path.c_str());
        rmdir (folder.c_str());
    }

    bool ExternalDsp::spawn()
    {
        int pipeFds[2] = { -1, -1 };
        if (pipe2 (pipeFds, O_CLOEXEC) != 0)
            return fail (std::string ("cannot create the stderr pipe: ") + std::strerror (errno));
        pipeFds[1] = aboveChildFds (pipeFds[1]);
        stderrDrain.start (pipeFds[0]);

        // Descriptors 0-3 only, "/" as the working directory (a relative argument names nothing of
        // the host's), and (dup2 clears close-on-exec) the block as descriptor 3.
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init (&actions);
        posix_spawn_file_actions_addopen (&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2 (&actions, pipeFds[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2 (&actions, pipeFds[1], STDERR_FILENO);
        posix_spawn_file_actions_adddup2 (&actions, memFd, external::fd);
        posix_spawn_file_actions_addclosefrom_np (&actions, external::fd + 1);
        posix_spawn_file_actions_addchdir_np (&actions, "/");
        // An empty signal mask, every signal's default action, the normal scheduling policy.
        posix_spawnattr_t attributes;
        posix_spawnattr_init (&attributes);
        sigset_t none, all;
        sigemptyset (&none);
        sigfillset (&all);
        posix_spawnattr_setsigmask (&attributes, &none);
        posix_spawnattr_setsigdefault (&attributes, &all);
        sched_param normal {};
        posix_spawnattr_setschedpolicy (&attributes, SCHED_OTHER);
        posix_spawnattr_setschedparam (&attributes, &normal);
        posix_spawnattr_setflags (&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSCHEDULER);

        std::vector<char*> args;
        for (auto& a : options.program.argv)
            args.push_back (a.data());
        args.push_back (nullptr);
        std::vector<std::string> envStrings { "PAUSEGUARD_FD=" + std::to_string (external::fd) };
        if (options.realtimePriority > 0)
            envStrings.push_back ("PAUSEGUARD_RT_PRIORITY=" + std::to_string (options.realtimePriority));
        for (char** e = environ; e != nullptr && *e != nullptr; ++e)
            if (std::string_view (*e).rfind ("PAUSEGUARD_FD=", 0) != 0 && std::string_view (*e).rfind ("PAUSEGUARD_RT_PRIORITY=", 0) != 0)
                envStrings.emplace_back (*e);
        std::vector<char*> env;
        for (auto& e : envStrings)
            env.push_back (e.data());
        env.push_back (nullptr);
        pid_t child = -1;
        const FileToRun file (programFd, options.program.argv[0]);
        const int spawned = posix_spawn (&child, file.path.c_str(), &actions, &attributes, args.data(), env.data());
        posix_spawnattr_destroy (&attributes);
        posix_spawn_file_actions_destroy (&actions);
        close (pipeFds[1]);
        close (programFd); // (the child has run it: posix_spawn returns once it has)
        programFd = -1;
        if (spawned != 0)
            return fail ("cannot start " + options.program.argv[0] + ": " + std::strerror (spawned));
        pid = child;
        pidFd = static_cast<int> (syscall (SYS_pidfd_open, child, 0)); // -1 on a kernel without (before 5.3)
        // Before hello: a program raises its priority only once it has been greeted (the Go SDK does).
        const auto limit = static_cast<rlim_t> (std::max (0.001, options.realtimeLimitSeconds) * 1e6);
        const rlimit realtimeTime { limit, 2 * limit };
        prlimit (child, RLIMIT_RTTIME, &realtimeTime, nullptr);
        return true;
    }

    bool ExternalDsp::greet()
    {
        if (! exchange (external::hello, options.answerTimeoutSeconds))
            return false;
        childName = childMessage();
        const auto spoken = std::to_string (block->childMajor) + "." + std::to_string (block->childMinor);
        const auto ours = std::to_string (external::versionMajor) + "." + std::to_string (external::versionMinor);
        if (block->status == external::wrongVersion || block->childMajor != external::versionMajor)
            return fail ("the DSP program speaks protocol " + spoken + ", this host speaks " + ours + ": their major versions differ (build the program with a client of protocol " + std::to_string (external::versionMajor) + ")");
        if (block->status != external::ok)
            return fail ("the DSP program refused hello: " + childName);
        sharedMinor = std::min<int> (block->childMinor, external::versionMinor);
        if (sharedMinor >= 2)
            readDeclaredParameters();
        return true;
    }

    std::unique_ptr<Dsp> ExternalDsp::restarted() const
    {
        auto fresh = std::make_unique<ExternalDsp>();
        if (! fresh->start (options) || ! fresh->prepare (preparedWith.sampleRate, preparedWith.maxFrames, preparedWith.numChannels))
            return nullptr;
        return fresh;
    }

    void ExternalDsp::readDeclaredParameters()
    {
        const auto count = std::min<uint32_t> (block->declaredCount, external::maxDeclared);
        for (uint32_t i = 0; i < count; ++i)
        {
            const auto& d = block->declared[i];
            ScriptMacro m;
            m.name.assign (d.name, strnlen (d.name, sizeof (d.name)));
            m.min = d.min;
            m.max = d.max;
            m.unit.assign (d.unit, strnlen (d.unit, sizeof (d.unit)));
            if (std::isfinite (d.defaultValue))
                m.defaultValue = std::clamp<double> (d.defaultValue, std::min (m.min, m.max), std::max (m.min, m.max));
            if (! m.name.empty() && std::isfinite (m.min) && std::isfinite (m.max))
                declaredMacros.push_back (std::move (m));
        }
    }

    bool ExternalDsp::prepare (double sampleRate, int maxFrames, int numChannels)
    {
        if (! isRunning())
            return fail (error.empty() ? "the DSP program is not running" : error);
        preparedWith = { sampleRate, maxFrames, numChannels };
        preparedChannels = std::clamp (numChannels, 1, options.maxChannels);
        preparedFrames = std::clamp (maxFrames, 1, options.maxFrames);
        block->sampleRate = sampleRate;
        block->channels = static_cast<uint32_t> (preparedChannels);
        block->frames = static_cast<uint32_t> (preparedFrames);
        block->flags = hostCollects ? external::hostCollects : 0u;
        if (! exchange (external::prepare, options.answerTimeoutSeconds))
            return false;
        if (block->status != external::ok)
            return fail ("the DSP program failed to prepare: " + childMessage());
        return true;
    }

    bool ExternalDsp::process (float* const* channels, int numChannels, int numFrames)
    {
        if (! isRunning() || preparedFrames == 0)
        {
            if (error.empty())
                error = "the DSP program is not prepared";
            return false;
        }
        const int nch = std::min (numChannels, preparedChannels);
        for (int offset = 0; offset < numFrames; offset += preparedFrames)
        {
            const int n = std::min (preparedFrames, numFrames - offset);
            const auto un = static_cast<size_t> (n);
            for (int c = 0; c < preparedChannels; ++c)
            {
                float* dst = audio + static_cast<size_t> (c) * static_cast<size_t> (options.maxFrames);
                if (c < nch)
                    std::memcpy (dst, channels[c] + offset, un * sizeof (float));
                else
                    std::fill (dst, dst + un, 0.0f);
            }
            block->channels = static_cast<uint32_t> (preparedChannels);
            block->frames = static_cast<uint32_t> (n);
            if (! exchange (external::process, processBudget (options.callBudgetSeconds)))
                return false;
            if (block->status != external::ok)
                return fail ("the DSP program failed to process: " + childMessage());
            for (int c = 0; c < nch; ++c)
                copySanitised (channels[c] + offset, audio + static_cast<size_t> (c) * static_cast<size_t> (options.maxFrames), un);
        }
        refreshStatsWhenDue();
        return true;
    }

    // From minor 1 a child may leave its pause figures as they were when it answers process: they
    // are asked for ten times a second.
    void ExternalDsp::refreshStatsWhenDue()
    {
        if (sharedMinor < 1)
            return;
        const int64_t now = nowNanos();
        if (now < statsDueNanos)
            return;
        statsDueNanos = now + 100'000'000;
        refreshStats();
    }

    double ExternalDsp::fullCollection() { return collect (0u); }
    double ExternalDsp::startFullCollection() { return collect (external::concurrent); }

    double ExternalDsp::collect (uint32_t flags)
    {
        const double t0 = nowSeconds();
        if (! isRunning())
            return -1.0;
        block->flags = flags;
        if (! exchange (external::collect, options.answerTimeoutSeconds))
            return -1.0;
        if (block->status != external::ok)
        {
            fail ("the DSP program failed to collect: " + childMessage());
            return -1.0;
        }
        return nowSeconds() - t0;
    }

    void ExternalDsp::setAutomaticCollection (bool enabled)
    {
        hostCollects = ! enabled;
        if (! isRunning() || preparedFrames == 0)
            return; // prepare sends it
        block->flags = hostCollects ? external::hostCollects : 0u;
        // A client without the command keeps the mode its prepare gave it (the next prepare sends this one).
        if (exchange (external::collector, options.answerTimeoutSeconds) && block->status != external::ok && block->status != external::unknownCommand)
            fail ("the DSP program refused to change its collector: " + childMessage());
    }

    bool ExternalDsp::refreshStats() { return isRunning() && exchange (external::stats, options.answerTimeoutSeconds); }

    uint32_t ExternalDsp::post (uint32_t command)
    {
        block->command = command;
        const uint32_t seq = block->requestSeq + 1;
        word (block->requestSeq).store (seq, std::memory_order_release);
        futexWake (block->requestSeq);
        return seq;
    }

    std::string ExternalDsp::childMessage() const { return std::string (block->message, strnlen (block->message, sizeof (block->message))); }

    bool ExternalDsp::exchange (uint32_t command, double timeoutSeconds)
    {
        const uint32_t seq = post (command);
        const double deadline = nowSeconds() + timeoutSeconds;
        for (;;)
        {
            const uint32_t answered = word (block->responseSeq).load (std::memory_order_acquire);
            if (answered == seq)
                break;
            const double left = deadline - nowSeconds();
            if (left <= 0.0)
            {
                const auto gone = exitDescription();
                return fail (gone.empty() ? "the DSP program did not answer " + std::string (commandName (command)) + " within " + std::to_string (static_cast<int> (timeoutSeconds * 1000.0)) + " ms"
                                          : gone);
            }
            if (const auto gone = exitDescription(); ! gone.empty())
                return fail (gone);
            futexWait (block->responseSeq, answered, std::min (left, 0.02)); // wakes to look at the child
        }
        stats = block->stats;
        collecting = block->collecting != 0;
        return true;
    }

    bool ExternalDsp::signalChild (int signal) noexcept
    {
        if (pidFd >= 0)
            return syscall (SYS_pidfd_send_signal, pidFd, signal, nullptr, 0) == 0;
        return kill (pid, signal) == 0;
    }

    // Reaps the child if it exited (or, with wait, once it has). A host that ignores SIGCHLD reaps
    // its children itself: the child is then gone without a status (0 is given).
    bool ExternalDsp::reapIfExited (int& status, bool wait) noexcept
    {
        status = 0;
        siginfo_t info {};
        const int how = WEXITED | (wait ? 0 : WNOHANG);
        int waited = 0;
        do
            waited = pidFd >= 0 ? waitid (static_cast<idtype_t> (P_PIDFD), static_cast<id_t> (pidFd), &info, how)
                                : waitid (P_PID, static_cast<id_t> (pid), &info, how);
        while (waited != 0 && errno == EINTR);
        if (waited != 0)
            return errno == ECHILD && ! signalChild (0);
        if (info.si_pid == 0)
            return false; // still running
        status = info.si_code == CLD_EXITED ? W_EXITCODE (info.si_status, 0) : info.si_status;
        return true;
    }

    std::string ExternalDsp::exitDescription()
    {
        if (pid <= 0)
            return {};
        int status = 0;
        if (! reapIfExited (status, false))
            return {};
        pid = -1; // reaped
        if (WIFSIGNALED (status))
            return "the DSP program was killed by signal " + std::to_string (WTERMSIG (status)) + " (" + strsignal (WTERMSIG (status)) + ")";
        return "the DSP program exited with code " + std::to_string (WEXITSTATUS (status));
    }

    bool ExternalDsp::fail (const std::string& message)
    {
        error = message;
        shutDown (false); // no goodbye to a child that failed: killed at once
        return false;
    }

    void ExternalDsp::stop() { shutDown (true); }

    void ExternalDsp::shutDown (bool askToQuit)
    {
        if (ownerPid > 0 && ownerPid != getpid())
        {
            // A forked copy of the host: the child and the block are the parent's (and the block
            // is not mapped here). Forget them without a word to the child.
            pid = pidFd = memFd = programFd = -1;
            block = nullptr;
            audio = nullptr;
            return;
        }
        if (askToQuit && pid > 0 && block != nullptr)
        {
            post (external::quit);
            const double deadline = nowSeconds() + std::min (options.answerTimeoutSeconds, 0.2);
            while (pid > 0 && nowSeconds() < deadline)
            {
                if (! exitDescription().empty())
                    break;
                futexWait (block->responseSeq, word (block->responseSeq).load(), 0.01);
            }
        }
        if (pid > 0)
        {
            signalChild (SIGKILL);
            int status = 0;
            reapIfExited (status, true);
            pid = -1;
        }
        if (pidFd >= 0)
            close (pidFd);
        pidFd = -1;
        stderrDrain.stop(); // (the child is gone: its end of the pipe is closed)
        if (block != nullptr)
            munmap (block, blockBytes);
        block = nullptr;
        audio = nullptr;
        if (memFd >= 0)
            close (memFd);
        memFd = -1;
        if (programFd >= 0)
            close (programFd);
        programFd = -1;
        preparedChannels = preparedFrames = 0;
    }

    std::string ExternalDsp::takeStderr() { return stderrDrain.take(); }
#else
    bool ExternalDsp::start (const Options&)
    {
        return fail ("a DSP program in its own process needs Linux");
    }
    bool ExternalDsp::prepare (double, int, int) { return false; }
    void ExternalDsp::setAutomaticCollection (bool enabled) { hostCollects = ! enabled; }
    bool ExternalDsp::process (float* const*, int, int) { return false; }
    double ExternalDsp::fullCollection() { return -1.0; }
    double ExternalDsp::startFullCollection() { return -1.0; }
    double ExternalDsp::collect (uint32_t) { return -1.0; }
    bool ExternalDsp::refreshStats() { return false; }
    bool ExternalDsp::exchange (uint32_t, double) { return false; }
    bool ExternalDsp::spawn() { return false; }
    bool ExternalDsp::greet() { return false; }
    void ExternalDsp::readDeclaredParameters() {}
    size_t ExternalDsp::stateCapacity() const noexcept { return 0; }
    bool ExternalDsp::saveState (std::string& state)
    {
        state.clear();
        return false;
    }
    bool ExternalDsp::loadState (const std::string&) { return false; }
    void ExternalDsp::refreshStatsWhenDue() {}
    bool ExternalDsp::signalChild (int) noexcept { return false; }
    bool ExternalDsp::reapIfExited (int&, bool) noexcept { return false; }
    std::string ExternalDsp::exitDescription() { return {}; }
    bool ExternalDsp::fail (const std::string& message)
    {
        error = message;
        return false;
    }
    void ExternalDsp::stop() {}
    void ExternalDsp::shutDown (bool) {}
    std::string ExternalDsp::takeStderr() { return {}; }
#endif

    void ExternalDsp::setParameter (const char* name, double value)
    {
        if (name == nullptr)
            return;
        constexpr size_t room = sizeof (external::Parameter::name) - 1;
        uint32_t i = 0;
        while (i < parameterCount && std::strncmp (parameters[i].name, name, room) != 0)
            ++i;
        if (i == parameterCount)
        {
            if (parameterCount == external::maxParameters)
                return;
            std::strncpy (parameters[i].name, name, room);
            parameters[i].name[room] = '\0';
            ++parameterCount;
        }
        parameters[i].value = static_cast<float> (value);
        if (block != nullptr)
        {
            block->parameters[i] = parameters[i];
            block->parameterCount = parameterCount;
        }
    }

    double ExternalDsp::collectorStep (bool* cycleFinished)
    {
        if (cycleFinished != nullptr)
            *cycleFinished = false;
        return 0.0;
    }

    RuntimeFigures ExternalDsp::runtimeFigures() const noexcept
    {
        RuntimeFigures f;
        f.reported = stats.collections > 0 || stats.heapBytes > 0;
        f.heapBytes = stats.heapBytes;
        f.collections = stats.collections;
        f.pauseCount = stats.pauseCount;
        f.pauseP50Seconds = stats.pauseP50Seconds;
        f.pauseP99Seconds = stats.pauseP99Seconds;
        f.pauseMaxSeconds = stats.pauseMaxSeconds;
        return f;
    }

    std::vector<std::string> ExternalDsp::takePrinted()
    {
        partialLine += takeStderr();
        std::vector<std::string> lines;
        size_t start = 0;
        for (size_t nl; (nl = partialLine.find ('\n', start)) != std::string::npos; start = nl + 1)
            lines.push_back (partialLine.substr (start, nl - start));
        partialLine.erase (0, start);
        if (partialLine.size() > 65536) // a line that never ends
        {
            lines.push_back (std::move (partialLine));
            partialLine.clear();
        }
        return lines;
    }
} // namespace pg
