#pragma once

// A DSP that runs in a child process (ExternalProtocol.h): the host side. No JUCE here.
//
// A Dsp: not thread-safe, one thread owns it, as one owns a LuaDsp. Every call is bounded in time: a
// child that crashes, hangs, answers late or speaks another major protocol version makes the call
// return false with a message (getError), and is then stopped (SIGKILL) and reaped, never left a
// zombie. start() again restarts it. Linux only (memfd and futex); elsewhere start() fails with a
// message.
//
// What the child gets: the program's absolute path is run as it is (never searched on PATH), only
// if every file of the command still has the hash it was allowed with; descriptors 0 (/dev/null),
// 1 and 2 (one pipe, drained by a thread of this object), and 3 (the block); "/" as its working
// directory; an empty signal mask, default signal actions and the normal scheduling policy. It is
// watched and killed through a pidfd where the kernel has them. Its output samples are sanitised
// (non-finite and subnormal samples are 0), as LuaDsp sanitises a script's.
//
// The runtime has no small collector steps (hasCollectorSteps() is false): the engine's dynamic
// strategy runs only full collections; setIncrementalPacing and setGenerational do nothing. The
// host's parameters reach the child in the block (up to external::maxParameters; more are dropped).
// A child's declared parameters are its macros (getMacros).

#include "Dsp.h"
#include "WorkerPool.h"
#include "ExternalProtocol.h"
#include "PipeDrain.h"

#include <cstdint>
#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace pg
{
    class ExternalDsp final : public Dsp
    {
    public:
        struct Options
        {
            ProgramCommand program; // argv[0] an absolute path; files checked against their hashes
            int maxChannels = 8;
            int maxFrames = 4096;
            double answerTimeoutSeconds = 2.0; // hello, prepare, collect, stats, quit
            double callBudgetSeconds = 0.5; // one process call
            std::string initialState; // not empty: loaded after hello (a state saveState gave)
            // The processing thread's real-time (SCHED_FIFO) priority, asked of the program in
            // PAUSEGUARD_RT_PRIORITY (0: the normal policy): the pool's own, so that the thread
            // waiting for an answer never waits behind ordinary processes. The program is held to
            // it by RLIMIT_RTTIME: SIGXCPU after this long at real-time priority without blocking
            // (the Go SDK then goes back to the normal policy), SIGKILL after twice as long.
            int realtimePriority = WorkerPool::realtimePriority;
            double realtimeLimitSeconds = 2.0;
            std::function<void()> afterFilesChecked; // (a test's: runs between the files' check and the start)
        };

        ExternalDsp() = default;
        ~ExternalDsp() override;
        ExternalDsp (const ExternalDsp&) = delete;
        ExternalDsp& operator= (const ExternalDsp&) = delete;

        // Starts the program and greets it: false (and stopped) if a file of it changed, it cannot
        // start, does not answer hello in time, or speaks another major protocol version.
        bool start (const Options& options);
        // With setAutomaticCollection (false) first, the child's automatic collector is off from
        // the start: only fullCollection() runs it.
        bool prepare (double sampleRate, int maxFrames, int numChannels) override;
        // Replaces n frames of numChannels channels in place (more than prepared: in pieces). False
        // if the child failed (the buffers are then left as they were).
        bool process (float* const* channels, int numChannels, int numFrames) override;
        // A full collection in the child: its duration as this side measured it (the exchange
        // included; the child's own figure is getStats().collectSeconds), or < 0 on failure.
        double fullCollection() override;
        // Before prepare, or at any time after it (the child's DSP state is kept).
        // A cycle in the child that runs beside the next process calls (none if one runs already).
        double startFullCollection() override;
        bool isCollecting() const noexcept override { return collecting; }
        void setAutomaticCollection (bool enabled) override;
        void setIncrementalPacing (int, int, int = 0) override {}
        void setGenerational() override {}
        double collectorStep (bool* cycleFinished = nullptr) override;
        bool hasCollectorSteps() const noexcept override { return false; }
        bool collectsConcurrently() const noexcept override { return true; }
        bool runsOnCallingThread() const noexcept override { return false; }
        size_t heapBytes() const noexcept override { return static_cast<size_t> (stats.heapBytes); }
        RuntimeFigures runtimeFigures() const noexcept override;
        // Real-time safe: no allocation (a name longer than 27 bytes is cut).
        void setParameter (const char* name, double value) override;
        bool isReady() const noexcept override { return pid > 0 && preparedFrames > 0 && error.empty(); }
        // The child's stderr, by line (an unfinished last line waits for its end, up to 64 KB).
        std::vector<std::string> takePrinted() override;
        // The parameters the child declared (minor 2): the host's macro knobs 1 to 8, named and
        // ranged by the program (the child maps each knob's 0..1 to its range itself).
        const std::vector<ScriptMacro>& getMacros() const noexcept override { return declaredMacros; }
        // The program's state (minor 2; none before): bytes of its own that the session keeps, saved
        // between process calls and loaded back into a new start (Options::initialState). False
        // (the child stopped, getError) if it failed.
        bool saveState (std::string& state);
        bool loadState (const std::string& state);
        // Asks for the runtime's figures (they also arrive with every answer).
        bool refreshStats();
        const external::RuntimeStats& getStats() const noexcept { return stats; }

        // Asks the child to quit, waits a short time, then kills it; reaps it. Safe to call twice.
        void stop();
        bool isRunning() const noexcept { return pid > 0; }
        pid_t getPid() const noexcept { return pid; }
        const std::string& getError() const noexcept override { return error; }
        const std::string& getChildName() const noexcept { return childName; }
        // The minor version both sides speak (the lower of the two), once hello was answered.
        int getSharedMinor() const noexcept { return sharedMinor; }
        const Options& getOptions() const noexcept { return options; }
        // The same program started again (a new process) and prepared as this one was.
        std::unique_ptr<Dsp> restarted() const override;
        // What the child wrote on stdout and stderr since the last call (up to 64 KB are kept in
        // between; the pipe is drained all the time, so a child never blocks writing).
        std::string takeStderr();

    private:
        uint32_t post (uint32_t command); // writes the command and wakes the child; its sequence number
        bool exchange (uint32_t command, double timeoutSeconds);
        double collect (uint32_t flags); // the collect command: its round trip, or < 0
        std::string childMessage() const; // the response's message
        bool fail (const std::string& message); // records, kills the child, returns false
        void shutDown (bool askToQuit); // quit (if asked), then SIGKILL if still there; reaps; frees
        std::string exitDescription(); // why the child is gone, if it is
        bool spawn(); // starts the child on the block made by start
        // What spawn runs: the checked descriptor (by a link of the program's name, removed with
        // this), or a script's path.
        struct FileToRun
        {
            FileToRun (int programFd, const std::string& programPath);
            ~FileToRun();
            FileToRun (const FileToRun&) = delete;
            FileToRun& operator= (const FileToRun&) = delete;
            std::string path, folder;
        };
        bool greet(); // hello, and the versions compared
        void readDeclaredParameters();
        size_t stateCapacity() const noexcept; // the audio area's bytes
        void refreshStatsWhenDue(); // minor >= 1: the child's stats on request, now and then
        bool signalChild (int signal) noexcept;
        bool reapIfExited (int& status, bool wait) noexcept; // true once reaped (status set)

        Options options;
        pid_t pid = -1;
        pid_t ownerPid = -1; // the process that started the child (a forked copy must not touch it)
        int pidFd = -1; // the child's pidfd, or -1 where the kernel has none
        int memFd = -1;
        int programFd = -1; // the program, opened once to be checked and run (start to spawn)
        int sharedMinor = 0;
        int64_t statsDueNanos = 0;
        PipeDrain stderrDrain;
        external::ExternalBlock* block = nullptr;
        size_t blockBytes = 0;
        float* audio = nullptr;
        int preparedChannels = 0, preparedFrames = 0; // 0 once the program has stopped
        struct PrepareArguments
        {
            double sampleRate = 0.0;
            int maxFrames = 0, numChannels = 0;
        } preparedWith; // the last prepare's, kept after a stop: restarted() repeats it
        bool hostCollects = false;
        bool collecting = false; // as the last answer said
        std::string partialLine; // takePrinted: stderr after its last newline
        std::vector<ScriptMacro> declaredMacros;
        external::RuntimeStats stats {};
        external::Parameter parameters[external::maxParameters] {}; // as given, copied to each new block
        uint32_t parameterCount = 0;
        std::string error, childName;
    };
} // namespace pg
