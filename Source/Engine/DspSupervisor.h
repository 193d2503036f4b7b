#pragma once

// The engine's supervision of its DSP: the script or DSP program the worker runs, and everything
// around it. The loader thread (ScriptLoader) compiles, warms and profiles scripts and starts
// programs; a new one crossfades in on the worker; one that fails plays the delayed dry signal,
// and a program is restarted after a backoff, with its saved state. Also the script's
// parameters, the console, and the profile. Internal: not installed. No JUCE here.
//
// Threads: the control thread (prepare's steps, loadScript, loadProgram, getters); the loader
// (onLoaderOutcome, dueRestartOnLoader); the worker (…OnWorker, one pool thread at a time).
// Never the audio thread.

#include "Dsp.h"
#include "EngineTypes.h"
#include "LatencyEngine.h"
#include "Profiler.h"
#include "ScriptLoader.h"
#include "SpscRing.h"

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pg
{
    class EngineControl;

    class DspSupervisor
    {
    public:
        static constexpr int maxChannels = LatencyEngine::maxChannels;
        static constexpr int maxScriptParameters = LatencyEngine::maxScriptParameters;

        explicit DspSupervisor (EngineControl& owner);
        ~DspSupervisor();
        DspSupervisor (const DspSupervisor&) = delete;
        DspSupervisor& operator= (const DspSupervisor&) = delete;

        // Control thread, at destruction, after the worker stopped: the loader stops.
        void shutdown();

        // ---- control thread -----------------------------------------------------------------
        int addScriptParameter (const char* name, float initialValue);
        void setScriptParameter (int index, float value) noexcept; // any thread
        // Tests and simulations: the DSP that prepare makes in place of the script (not warmed on
        // the loader). Before prepare; not with a DSP program.
        // Any thread: the restart backoff's first step (0.25 s; it doubles up to 8 s). Tests shorten it.
        void setFirstBackoff (double seconds) noexcept { firstBackoffSeconds.store (seconds, std::memory_order_relaxed); }
        void setDspFactory (std::function<std::unique_ptr<Dsp>()> factory) { dspFactory = std::move (factory); }

        // prepare's steps, in order, with the worker stopped: the loader's jobs cancelled; the
        // program chosen (settings.dspProgram: empty for the script); the DSP made and prepared
        // (its name in `name`); once its collector is configured, its start recorded; the job that
        // warms or profiles it (submitted once the worker runs).
        void cancelJobs();
        void choose (const ProgramCommand& program);
        bool startDsp (std::string_view scriptSource, std::string_view scriptName, std::string& name);
        void started (bool ok, const std::string& name);
        std::optional<ScriptLoader::Job> warmUpJob (std::string_view scriptSource, std::string_view scriptName, bool ok, bool profile,
                                                    double profileBudgetSeconds);
        void submit (ScriptLoader::Job job) { loader.submit (std::move (job)); }
        // release's: a program's process goes with the engine's resources.
        void release();

        void loadScript (std::string source, std::string name, bool profile);
        void loadProgram (ProgramCommand program, bool profile);
        bool takeProfile (ProfileResult& result);
        ProfileResult getProfile() const;
        bool waitForProfile (double timeoutSeconds) const;
        void profileInBackground (double budgetSeconds);
        bool hasProfiled() const { return profileAsked; }
        std::string getScriptName() const;
        std::vector<ScriptMacro> getScriptMacros() const;
        bool popConsoleLine (ConsoleLine& line) noexcept { return console.pop (line) || loaderConsole.pop (line) || controlConsole.pop (line); }
        int getDspProcessId() const noexcept { return dspProcessId.load (std::memory_order_acquire); }
        ProgramCommand getActiveProgram() const;
        bool retryProgram();
        void setProgramState (std::string state);
        std::string getProgramState (double timeoutSeconds);
        bool areRestartsStopped() const noexcept { return restartsStopped.load (std::memory_order_acquire); }
        bool isProgramChoicePending() const;
        bool isLoading() const { return loader.isBusy(); }
        bool isWarming() const noexcept { return warmingJobs.load (std::memory_order_acquire) > 0; }
        bool waitUntilWarm (double timeoutSeconds) const;
        std::string getScriptError() const;
        void addCountersTo (EngineCounters& c) const noexcept;

        // ---- worker -------------------------------------------------------------------------
        Dsp& dsp() const noexcept { return *running; }
        Dsp* incomingDsp() const noexcept { return incoming.get(); }
        bool isRunningProgram() const noexcept { return runningProgram.load (std::memory_order_relaxed); }
        void takeReadyScriptOnWorker();
        void pushParametersToScript();
        void feedIncomingOnWorker (float* const* input, int nch, int n);
        void saveProgramStateIfAskedOnWorker();
        Dsp& prepareForChunkOnWorker (bool rendering);
        void crossfadeIncomingOnWorker (float* const* io, int nch, int n);
        void takePrintedOnWorker();
        bool restartDspForRenderOnWorker();
        void dspFailedOnWorker(); // the DSP failed: its error kept, and a program restarted
        void publishRuntimeFigures() noexcept;
        void consoleFromWorker (ConsoleLine::Kind kind, const std::string& text) noexcept;

    private:
        struct ReadyScript
        {
            std::unique_ptr<Dsp> dsp;
            std::string name;
        };
        struct Proposal
        {
            uint64_t job = 0; // the loader's job number
            ProgramCommand program;
            std::optional<ScriptLoader::Job> plan;
        };

        ScriptLoader::Job loaderJob (std::string source, std::string name, bool profile, bool deliver, bool warm = false);
        void onLoaderOutcome (ScriptLoader::Outcome&& outcome);
        void publishOutcomeProfile (const ScriptLoader::Outcome& o);
        ConsoleLine failureLine (const ScriptLoader::Outcome& o, bool choice, bool restarting) const;
        void takeOverOnWorker();
        bool startProgram(); // control thread, in prepare: the DSP program, started (or kept) and prepared
        void saveProgramStateOnWorker(); // a state request answered (before a chunk)
        std::string latestProgramState() const;
        void scheduleRestart (int attempt) noexcept;
        std::optional<ScriptLoader::Job> dueRestartOnLoader();
        bool programChosen() const; // a DSP program is chosen and started (activeProgram)
        void setRestartPlan (std::optional<ScriptLoader::Job> plan);
        static ScriptLoader::Job restartJobFrom (ScriptLoader::Job job);
        void setScriptFailed (const std::string& message);
        void dropReadyScript() noexcept;

        EngineControl& engine;

        // ---- the DSP: the worker's (the control thread's while it is stopped) ----------------
        std::unique_ptr<Dsp> running; // a LuaDsp, or an ExternalDsp when a DSP program is chosen
        std::unique_ptr<Dsp> incoming; // a new script, crossfading in
        std::function<std::unique_ptr<Dsp>()> dspFactory; // control thread: see setDspFactory
        int64_t takenOverNanos = 0; // when the running DSP took over
        int renderRestartsFailed = 0; // a render's restarts of the DSP that failed in a row (prepare resets it)
        int crossfadeSamples = 240; // a script swap's crossfade (prepare: the latency fade's nominal length)
        int incomingFadeDone = 0;
        std::string incomingName;
        std::vector<float> incomingScratch;
        std::array<float*, maxChannels> incomingPtrs {};

        struct ScriptParameter
        {
            const char* name = nullptr;
            std::atomic<float> value { 0.0f };
        };
        std::array<ScriptParameter, maxScriptParameters> scriptParameters;
        int numScriptParameters = 0;

        std::atomic<bool> scriptFailed { false };
        std::array<std::atomic<char>, 512> scriptError {};
        std::atomic<uint64_t> dspRestarts { 0 };
        std::atomic<int> dspProcessId { 0 };
        std::atomic<bool> runningProgram { false }; // the worker's DSP is a program (the worker's view)
        // A DSP program's own figures (worker)
        std::atomic<bool> runtimeReported { false };
        std::atomic<uint64_t> runtimeHeap { 0 }, runtimeCollections { 0 }, runtimePauseCount { 0 };
        std::atomic<double> runtimePauseP50 { 0.0 }, runtimePauseP99 { 0.0 }, runtimePauseMax { 0.0 };

        // ---- script loading: control thread, loader thread and worker -------------------------
        mutable std::mutex scriptLock;
        std::string runningName; // scriptLock
        std::vector<ScriptMacro> runningMacros; // scriptLock
        std::string currentSource, currentName; // control thread: the script prepare or loadScript gave last
        bool profileAsked = false; // control thread: for that script
        std::atomic<ReadyScript*> readyScript { nullptr }; // loader -> worker
        std::atomic<uint64_t> generation { 0 }; // prepare counts; a stale job's outcome is dropped
        std::atomic<int> warmingJobs { 0 }; // loader jobs warming the running DSP in place: the worker waits
        SpscQueue<ConsoleLine> console; // worker -> control thread
        SpscQueue<ConsoleLine> loaderConsole; // loader -> control thread
        SpscQueue<ConsoleLine> controlConsole; // the control thread's own lines (each queue has one writer)
        mutable std::mutex profileLock;
        mutable std::condition_variable profileDone;
        ProfileResult profile; // the newest complete one
        bool profileFresh = false; // not taken yet
        bool profileRunning = false;

        // ---- programs: restarts and their backoff ---------------------------------------------
        // A DSP program that failed: the loader starts it again, after a backoff that doubles with
        // each attempt in a row (0.25 s, 0.5 s, ...), maxRestartsInARow times; then restarts stop.
        mutable std::mutex planLock;
        std::optional<ScriptLoader::Job> restartPlan; // control thread writes, loader copies (planLock)
        // planLock: the program the engine runs (prepare's settings.dspProgram, or a loadProgram's
        // once it started; empty: the script), and a loadProgram's choice until its outcome.
        ProgramCommand activeProgram;
        std::optional<Proposal> proposal;
        std::mutex outcomeLock; // held while an outcome is published: prepare and release pass it once
        std::atomic<int64_t> nextRestartNanos { 0 }; // 0: none due
        std::atomic<double> firstBackoffSeconds { 0.25 }; // the backoff's first step (tests shorten it)
        std::atomic<int> restartAttempts { 0 };
        std::atomic<bool> restartsStopped { false }; // maxRestartsInARow attempts failed: until retryProgram
        static constexpr int maxRestartsInARow = 5;
        // A DSP program's state (protocol 2.2): the latest known, as set or as the worker saved
        // it when asked (stateRequests ahead of stateAnswers), loaded by every start and restart.
        mutable std::mutex stateLock;
        std::condition_variable stateSaved;
        std::string programState; // stateLock
        std::atomic<uint32_t> stateRequests { 0 }; // control thread counts
        std::atomic<uint32_t> stateAnswers { 0 }; // worker counts

        ScriptLoader loader { [this] (ScriptLoader::Outcome&& o) { onLoaderOutcome (std::move (o)); },
                              [this] { return dueRestartOnLoader(); } }; // last: first to stop
    };
} // namespace pg
