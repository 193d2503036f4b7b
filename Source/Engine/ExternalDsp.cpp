#include "ExternalDsp.h"

#include "Clock.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
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
                case external::hello: return "hello";
                case external::prepare: return "prepare";
                case external::process: return "process";
                case external::collect: return "collect";
                case external::stats: return "stats";
                case external::quit: return "quit";
                case external::collector: return "collector";
                default: return "?";
            }
        }

#if defined(__linux__)
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
        if (options.argv.empty() || options.argv[0].empty())
            return fail ("no DSP program was chosen");
        options.maxChannels = std::clamp (options.maxChannels, 1, 64);
        options.maxFrames = std::clamp (options.maxFrames, 1, 1 << 16);

        blockBytes = external::ExternalBlock::sizeFor (options.maxChannels, options.maxFrames);
        memFd = aboveChildFds (static_cast<int> (syscall (SYS_memfd_create, "pauseguard-dsp", MFD_CLOEXEC)));
        if (memFd < 0 || ftruncate (memFd, static_cast<off_t> (blockBytes)) != 0)
            return fail (std::string ("cannot create the shared memory: ") + std::strerror (errno));
        void* mapped = mmap (nullptr, blockBytes, PROT_READ | PROT_WRITE, MAP_SHARED, memFd, 0);
        if (mapped == MAP_FAILED)
            return fail (std::string ("cannot map the shared memory: ") + std::strerror (errno));
        block = new (mapped) external::ExternalBlock {};
        block->magic = external::magic;
        block->version = external::version;
        block->audioOffset = static_cast<uint32_t> (external::ExternalBlock::audioStart());
        block->maxChannels = static_cast<uint32_t> (options.maxChannels);
        block->maxFrames = static_cast<uint32_t> (options.maxFrames);
        audio = reinterpret_cast<float*> (static_cast<char*> (mapped) + external::ExternalBlock::audioStart());
        std::memcpy (block->parameters, parameters, sizeof (parameters)); // those given before start
        block->parameterCount = parameterCount;

        int pipeFds[2] = { -1, -1 };
        if (pipe2 (pipeFds, O_CLOEXEC) != 0)
            return fail (std::string ("cannot create the stderr pipe: ") + std::strerror (errno));
        stderrFd = pipeFds[0];
        pipeFds[1] = aboveChildFds (pipeFds[1]);
        fcntl (stderrFd, F_SETFL, fcntl (stderrFd, F_GETFL) | O_NONBLOCK);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init (&actions);
        posix_spawn_file_actions_adddup2 (&actions, memFd, external::fd); // (dup2 clears close-on-exec)
        posix_spawn_file_actions_adddup2 (&actions, pipeFds[1], STDERR_FILENO);
        std::vector<char*> args;
        for (auto& a : options.argv)
            args.push_back (a.data());
        args.push_back (nullptr);
        std::vector<std::string> envStrings { "PAUSEGUARD_FD=" + std::to_string (external::fd) };
        for (char** e = environ; e != nullptr && *e != nullptr; ++e)
            if (std::string_view (*e).rfind ("PAUSEGUARD_FD=", 0) != 0)
                envStrings.emplace_back (*e);
        std::vector<char*> env;
        for (auto& e : envStrings)
            env.push_back (e.data());
        env.push_back (nullptr);
        pid_t child = -1;
        const int spawned = posix_spawnp (&child, args[0], &actions, nullptr, args.data(), env.data());
        posix_spawn_file_actions_destroy (&actions);
        close (pipeFds[1]);
        if (spawned != 0)
            return fail ("cannot start " + options.argv[0] + ": " + std::strerror (spawned));
        pid = child;

        if (! exchange (external::hello, options.answerTimeoutSeconds))
            return false;
        childName = childMessage();
        if (block->status == external::wrongVersion || block->childVersion != external::version)
            return fail ("the DSP program speaks protocol version " + std::to_string (block->childVersion) + ", this host speaks version "
                         + std::to_string (external::version));
        if (block->status != external::ok)
            return fail ("the DSP program refused hello: " + childName);
        return true;
    }

    std::unique_ptr<Dsp> ExternalDsp::restarted() const
    {
        auto fresh = std::make_unique<ExternalDsp>();
        if (! fresh->start (options) || ! fresh->prepare (preparedWith.sampleRate, preparedWith.maxFrames, preparedWith.numChannels))
            return nullptr;
        return fresh;
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
                std::memcpy (channels[c] + offset, audio + static_cast<size_t> (c) * static_cast<size_t> (options.maxFrames), un * sizeof (float));
        }
        return true;
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
        if (exchange (external::collector, options.answerTimeoutSeconds) && block->status != external::ok
            && block->status != external::unknownCommand)
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
                return fail (gone.empty() ? "the DSP program did not answer " + std::string (commandName (command)) + " within "
                                                + std::to_string (static_cast<int> (timeoutSeconds * 1000.0)) + " ms"
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

    std::string ExternalDsp::exitDescription()
    {
        if (pid <= 0)
            return {};
        int status = 0;
        const pid_t reaped = waitpid (pid, &status, WNOHANG);
        if (reaped == -1 && errno == ECHILD && kill (pid, 0) != 0) // a host that ignores SIGCHLD reaps it itself
        {
            pid = -1;
            return "the DSP program exited";
        }
        if (reaped != pid)
            return {};
        pid = -1; // reaped
        if (WIFSIGNALED (status))
            return "the DSP program was killed by signal " + std::to_string (WTERMSIG (status)) + " (" + strsignal (WTERMSIG (status)) + ")";
        return "the DSP program exited with code " + std::to_string (WEXITSTATUS (status));
    }

    bool ExternalDsp::fail (const std::string& message)
    {
        drainStderr();
        error = message;
        shutDown (false); // no goodbye to a child that failed: killed at once
        return false;
    }

    void ExternalDsp::stop() { shutDown (true); }

    void ExternalDsp::shutDown (bool askToQuit)
    {
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
            kill (pid, SIGKILL);
            waitpid (pid, nullptr, 0);
            pid = -1;
        }
        drainStderr();
        if (block != nullptr)
            munmap (block, blockBytes);
        block = nullptr;
        audio = nullptr;
        if (memFd >= 0)
            close (memFd);
        if (stderrFd >= 0)
            close (stderrFd);
        memFd = stderrFd = -1;
        preparedChannels = preparedFrames = 0;
    }

    void ExternalDsp::drainStderr()
    {
        if (stderrFd < 0)
            return;
        char buffer[4096];
        for (ssize_t got; (got = read (stderrFd, buffer, sizeof (buffer))) > 0;)
        {
            stderrText.append (buffer, static_cast<size_t> (got));
            if (stderrText.size() > 65536)
                stderrText.erase (0, stderrText.size() - 65536);
        }
    }

    std::string ExternalDsp::takeStderr()
    {
        drainStderr();
        return std::exchange (stderrText, {});
    }
#else
    bool ExternalDsp::start (const Options&) { return fail ("a DSP program in its own process needs Linux"); }
    bool ExternalDsp::prepare (double, int, int) { return false; }
    void ExternalDsp::setAutomaticCollection (bool enabled) { hostCollects = ! enabled; }
    bool ExternalDsp::process (float* const*, int, int) { return false; }
    double ExternalDsp::fullCollection() { return -1.0; }
    double ExternalDsp::startFullCollection() { return -1.0; }
    double ExternalDsp::collect (uint32_t) { return -1.0; }
    bool ExternalDsp::refreshStats() { return false; }
    bool ExternalDsp::exchange (uint32_t, double) { return false; }
    std::string ExternalDsp::exitDescription() { return {}; }
    bool ExternalDsp::fail (const std::string& message)
    {
        error = message;
        return false;
    }
    void ExternalDsp::stop() {}
    void ExternalDsp::shutDown (bool) {}
    void ExternalDsp::drainStderr() {}
    std::string ExternalDsp::takeStderr() { return std::exchange (stderrText, {}); }
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
