#pragma once

// The engine's implementation, behind LatencyEngine (LatencyEngine.h is the interface, and says
// what each call does). Internal: not installed. No JUCE here.
//
// Threads:
//   audio   processBlock(): dry delay line, input FIFO producer, output FIFO consumer.
//   worker  a thread of the process's WorkerPool, one at a time: owns the Dsp (a Lua script, or
//           a DSP program in its own process), runs it (and, through it, the collector).
//   loader  ScriptLoader's thread: compiles, warms and profiles scripts, and restarts a DSP
//           program that failed.
//   control prepare()/release()/requestLatency()/setters/statistics: any non-audio thread.

#include "CollectorScheduler.h"
#include "CyclePhases.h"
#include "EngineTypes.h"
#include "LatencyEngine.h"
#include "LatencyCrossfade.h"
#include "Dsp.h"
#include "Profiler.h"
#include "Realtime.h"
#include "RenderPace.h"
#include "ScriptLoader.h"
#include "SpscRing.h"
#include "Stats.h"
#include "WorkerPool.h"
#include "Trace/Trace.h"

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pg
{
    // The engine behind LatencyEngine's interface (see LatencyEngine.h for what each call does).
    class EngineCore
    {
    public:
        static constexpr int maxChannels = LatencyEngine::maxChannels;
        static constexpr int maxScriptParameters = LatencyEngine::maxScriptParameters;
        static constexpr double offlineWaitSeconds = LatencyEngine::offlineWaitSeconds;
        static constexpr int maxBufferedBlock = LatencyEngine::maxBufferedBlock;

        EngineCore();
        ~EngineCore();
        EngineCore (const EngineCore&) = delete;
        EngineCore& operator= (const EngineCore&) = delete;

        int addScriptParameter (const char* name, float initialValue);

        // Tests and simulations: the DSP that prepare makes in place of the script (not warmed on
        // the loader). Before prepare; not with a DSP program.
        void setDspFactory (std::function<std::unique_ptr<Dsp>()> factory) { dspFactory = std::move (factory); }

        bool prepare (const EngineSettings& settings, std::string_view scriptSource, std::string_view scriptName,
                      int latencySamples, bool profile = false, double profileBudgetSeconds = 0.4);

        void release();

        bool takeProfile (ProfileResult& result);
        ProfileResult getProfile() const;
        bool waitForProfile (double timeoutSeconds) const;
        void profileInBackground (double budgetSeconds = 0.4);
        bool hasProfiled() const;

        void processBlock (float* const* channels, int numChannels, int numFrames) noexcept PG_NONBLOCKING;

        void setOffline (bool isOffline) noexcept { hostOffline.store (isOffline, std::memory_order_relaxed); }
        bool isOffline() const noexcept
        {
            return hostOffline.load (std::memory_order_relaxed) || rendering.load (std::memory_order_relaxed);
        }
        bool isRenderDetected() const noexcept { return rendering.load (std::memory_order_relaxed); }
        void setRenderDetection (bool enabled) noexcept { renderDetection.store (enabled, std::memory_order_relaxed); }

        static int latencyFloorFor (int blockSize, double sampleRate) noexcept;
        int getLatencyFloor() const noexcept;
        int getLargestBlock() const noexcept
        {
            const int sent = largestBlock.load (std::memory_order_relaxed);
            return sent > 0 ? sent : announcedRealtimeBlock;
        }
        int getDropoutFadeSamples() const noexcept { return dropoutFade; }

        void requestLatency (int samples) noexcept;
        int getLatencySamples() const noexcept;
        int clampLatency (int samples) const noexcept;

        void setMix (float zeroToOne) noexcept { mixTarget.store (zeroToOne, std::memory_order_relaxed); }
        void setOutputGain (float linear) noexcept { outputGainTarget.store (linear, std::memory_order_relaxed); }
        void setBypassed (bool b) noexcept { bypassed.store (b, std::memory_order_relaxed); }
        void setScriptParameter (int index, float value) noexcept;
        void setStrategy (Strategy s) noexcept { strategy.store (s, std::memory_order_release); }
        Strategy getStrategy() const noexcept { return strategy.load (std::memory_order_acquire); }
        Strategy getAppliedStrategy() const noexcept { return appliedStrategy.load (std::memory_order_acquire); }
        void setPacing (int pausePercent, int stepMultiplierPercent) noexcept;
        void setDynamicSettings (const DynamicSettings& s) noexcept;
        void setTransportPlaying (bool playing) noexcept
        {
            if (transportPlaying.load (std::memory_order_relaxed) != playing) // (a store every block would dirty the line)
                transportPlaying.store (playing, std::memory_order_relaxed);
        }

        int getWantedDynamicLatency() const noexcept { return wantedDynamicLatency.load (std::memory_order_acquire); }
        int getMeasuredLatency() const noexcept { return measuredLatency.load (std::memory_order_acquire); }
        int getCrossfadeSamples() const noexcept { return latencyFade.getMaximumSamples(); }

        bool isPrepared() const noexcept { return prepared.load (std::memory_order_acquire); }
        double getSampleRate() const noexcept { return settings.sampleRate; }
        int getMaxBlockSize() const noexcept { return settings.maxBlockSize; }

        EngineCounters getCounters() const noexcept;
        DurationHistogram::Snapshot getProcessingHistogram() const noexcept { return processingTimes.snapshot(); }
        DurationHistogram::Snapshot getLatenessHistogram() const noexcept { return lateness.snapshot(); }
        DurationHistogram::Snapshot getPauseHistogram() const noexcept { return pauses.snapshot(); }
        DurationHistogram::Snapshot getResponseHistogram() const noexcept { return responseTimes.snapshot(); }
        void resetStatistics() noexcept { pendingStatsReset.store (true, std::memory_order_release); }
        std::string getScriptError() const;

        void loadScript (std::string source, std::string name, bool profile = false);
        void loadProgram (ProgramCommand program, bool profile = false);
        std::string getScriptName() const;
        std::vector<ScriptMacro> getScriptMacros() const;
        bool popConsoleLine (ConsoleLine& line) noexcept { return console.pop (line) || loaderConsole.pop (line); }
        int getDspProcessId() const noexcept { return dspProcessId.load (std::memory_order_acquire); }
        int getTraceInstance() const noexcept { return instanceId; }
        ProgramCommand getActiveProgram() const;
        bool retryProgram();
        void setProgramState (std::string state);
        std::string getProgramState (double timeoutSeconds);
        bool areRestartsStopped() const noexcept { return restartsStopped.load (std::memory_order_acquire); }
        bool isProgramChoicePending() const;
        bool isLoading() const { return loader.isBusy(); }
        bool isWarming() const noexcept { return warmingJobs.load (std::memory_order_acquire) > 0; }
        bool waitUntilWarm (double timeoutSeconds) const;

        void requestFullCollection() noexcept { pendingCollection.store (true, std::memory_order_release); }
        void injectWorkerPause (double seconds) noexcept { pendingPause.store (seconds, std::memory_order_release); }
        void holdWorker (bool hold) noexcept;
        bool waitForWorker (double timeoutSeconds) const noexcept;

    private:
        struct BlockStamp
        {
            uint64_t firstRingPos = 0;
            int64_t arrivalNanos = 0;
            int32_t blockSize = 0;
            int32_t latency = 0;
        };

        struct Gap // input frames [absStart, absEnd) were dropped; later frames map to ring pos a - offsetAfter
        {
            uint64_t absStart = 0, absEnd = 0;
            int64_t offsetAfter = 0;
        };

        enum class RunKind
        {
            preRoll,
            wet,
            missing,
            transition
        };
        struct Run
        {
            RunKind kind;
            uint64_t ringPos;
            int length;
            int available = 0; // wet: frames delivered from ringPos on, without a gap (beyond length too)
        };

        WorkerPool::Ran runOnPool() noexcept;
        int64_t deadlineNanos (const BlockStamp& stamp, uint64_t ringPos) const noexcept;
        void runCollectorOnWorker (double chunkSeconds, double now);
        AdapterSettings adapterSettings() const noexcept;
        void measureResponse (const BlockStamp& stamp, double responseSeconds) noexcept;
        static void applyCollectorMode (Dsp& target, Strategy s, int pausePercent, int stepMultiplierPercent);
        void fullCollectionOnWorker (double now, bool forced);
        void applyStrategyOnWorker();
        void configureCollector (Strategy s);
        void configureCollector (Dsp& target, Strategy s);
        bool startProgram(); // control thread, in prepare: the DSP program, started (or kept) and prepared
        void dspFailedOnWorker(); // the DSP failed: its error kept, and a program restarted
        bool restartDspForRenderOnWorker();
        void reportUnprocessedOnWorker (uint64_t from, int n, const char* why);
        void saveProgramStateOnWorker(); // a state request answered (before a chunk)
        std::string latestProgramState() const;
        void scheduleRestart (int attempt) noexcept;
        std::optional<ScriptLoader::Job> dueRestartOnLoader();
        void publishRuntimeFigures() noexcept;
        bool programChosen() const; // a DSP program is chosen and started (activeProgram)
        void setRestartPlan (std::optional<ScriptLoader::Job> plan);
        static ScriptLoader::Job restartJobFrom (ScriptLoader::Job job);
        void takeReadyScriptOnWorker();
        void onLoaderOutcome (ScriptLoader::Outcome&& outcome);
        ScriptLoader::Job loaderJob (std::string source, std::string name, bool profile, bool deliver, bool warm = false);
        void crossfadeIncomingOnWorker (int nch, int n);
        void consoleFromWorker (ConsoleLine::Kind kind, const std::string& text) noexcept;
        void clearStatistics() noexcept;
        int renderAt (int latencySamples, float& wetGain, float* const* out, int nch, int n, float mixStep, float outputGainStep,
                      uint64_t* firstMissing = nullptr) noexcept;
        void traceOnAudio (trace::Kind kind, int64_t at, uint64_t ringPos, int frames, int value, int64_t due = 0) noexcept;
        void traceOnWorker (const trace::Event& e) const noexcept;
        void takeLatencyRequestOnAudio() noexcept;
        void waitForOutputOnAudio (int nFrames) noexcept;
        WorkerPool::Ran processAvailableOnWorker();
        void stopWorker();
        void startWorker();
        void setScriptFailed (const std::string& message);
        void pushParametersToScript();

        // audio-thread helpers
        bool mapToRing (uint64_t abs, uint64_t& ringPos, int& runLength) const noexcept;
        Run classify (int64_t abs, int maxLength, uint64_t lo, uint64_t hi) const noexcept;
        void recordDroppedInput (uint64_t absStart, int n) noexcept;
        void processPrepared (float* const* channels, int numChannels, int numFrames) noexcept PG_NONBLOCKING;
        void leaveAudioThread() noexcept; // control: clears `prepared`, then waits until no audio call is inside

        EngineSettings settings;
        const int instanceId = trace::Recorder::global().newInstanceId(); // this engine's number in the trace
        int chunkMax = 512;
        std::atomic<bool> prepared { false };
        std::atomic<int> audioCallsInside { 0 }; // processBlock calls in progress (see leaveAudioThread)

        // ---- shared (atomics) -------------------------------------------------------------------
        // Grouped by the thread that writes them, a cache line apart: the audio thread reads no
        // line that the worker writes every chunk, except the rings' positions and their data.
        SampleRing inputRing; // audio -> worker
        SampleRing outputRing; // worker -> audio; ring positions equal the input's
        SpscQueue<BlockStamp> stamps;
        // written by the audio thread
        alignas (64) std::atomic<uint64_t> audioNeededRingPos { 0 }; // the oldest frame it still needs
        std::atomic<int> publishedLatency { 0 };
        std::atomic<int> largestBlock { 0 }; // the largest block sent in real time since prepare
        std::atomic<bool> rendering { false }; // the pace of the calls says the host renders (RenderPace)
        std::atomic<bool> transportPlaying { true }; // (from the host's play head)
        // written by the control thread, read by the audio thread
        alignas (64) std::atomic<int> requestedLatency { -1 };
        std::atomic<float> mixTarget { 1.0f };
        std::atomic<float> outputGainTarget { 1.0f };
        std::atomic<bool> bypassed { false };
        std::atomic<bool> hostOffline { false }; // the host says it renders (setOffline)
        std::atomic<bool> renderDetection { true };
        // written by the control thread, read by the worker
        std::atomic<double> pendingPause { 0.0 };
        std::atomic<bool> pendingCollection { false };
        std::atomic<bool> workerHeld { false };
        std::atomic<bool> pendingStatsReset { false };
        std::atomic<Strategy> strategy { Strategy::deterministic };
        // written by the worker
        alignas (64) std::atomic<uint64_t> outputValidFrom { 0 }; // positions below were skipped
        std::atomic<Strategy> appliedStrategy { Strategy::deterministic };
        std::atomic<int> wantedDynamicLatency { 0 };
        std::atomic<int> measuredLatency { 0 };
        // control
        std::atomic<int64_t> measureFromNanos { 0 }; // responses of chunks that arrived before are not measured
        std::atomic<int> profiledDynamicStart { 0 }; // the newest profile's dynamic start (0: none)
        int profiledDynamicSeen = 0; // worker: the one it has taken
        std::atomic<int> pacingPause { 200 }, pacingStepMul { 100 };
        // dynamic settings, each an atomic so that any thread may set them
        std::atomic<double> budgetFraction { 0.25 }, intervalSeconds { 5.0 }, silenceHoldSeconds { 0.25 };
        std::atomic<double> safetyFactor { 1.5 }, dynamicMaxLatencySeconds { 0.1 };
        std::atomic<uint64_t> heapThresholdBytes { uint64_t (384) << 20 };
        std::atomic<float> silenceThreshold { 0.001f };

        struct ScriptParameter
        {
            const char* name = nullptr;
            std::atomic<float> value { 0.0f };
        };
        std::array<ScriptParameter, maxScriptParameters> scriptParameters;
        int numScriptParameters = 0;

        // counters: each written by one thread
        std::atomic<uint64_t> dropoutFrames { 0 }, dropoutEvents { 0 }, inputOverflowFrames { 0 }; // audio
        std::atomic<uint64_t> skippedFrames { 0 }, chunksProcessed { 0 }, framesProcessed { 0 }; // worker
        std::atomic<uint64_t> unprocessedFrames { 0 }; // worker
        std::atomic<uint64_t> heapBytes { 0 }; // worker
        std::atomic<uint64_t> fullCollections { 0 }, forcedCollections { 0 }, incrementalSteps { 0 }; // worker
        std::atomic<uint64_t> adaptiveGrowths { 0 }, adaptiveShrinks { 0 }; // worker
        std::atomic<double> collectorSeconds { 0.0 }; // worker
        std::atomic<double> workerLoadPercent { 0.0 }; // worker
        std::atomic<bool> scriptFailed { false };
        std::array<std::atomic<char>, 512> scriptError {};
        DurationHistogram processingTimes, lateness, pauses, responseTimes; // worker

        // ---- audio thread only --------------------------------------------------------------
        std::shared_ptr<trace::TraceBuffer> audioLane; // set by prepare while tracing (nullptr: off)
        SampleRing dryLine; // written and read by the audio thread; positions = absolute time
        uint64_t audioTime = 0;
        uint64_t inputWritePos = 0;
        uint64_t outputReadPos = 0;
        int latency = 0;
        float mixCurrent = 1.0f;
        float outputGainCurrent = 1.0f; // on the wet signal, at the output stage
        int crossfadeSamples = 240; // a script swap's crossfade (the worker's), and a latency fade's nominal length
        int dropoutFade = 48; // wet <-> delayed dry when the worker is late (set by prepare)
        float wetGain = 1.0f, fadeWetGain = 1.0f; // that fade's gain, at L and at the previous L
        int fadeFromLatency = 0; // crossfade from the previous L after a change
        LatencyCrossfade latencyFade;
        std::vector<float> fadeScratch;
        std::array<float*, maxChannels> fadePtrs {};
        std::array<Gap, 8> gaps {};
        int numGaps = 0;
        int64_t baseOffset = 0;
        RenderPace renderPace;
        // set by prepare: the block the floor assumes until one is sent in real time (the announced
        // maximum, or 0 if it is more than any real-time host sends)
        int announcedRealtimeBlock = 0;

        // script loading: control thread, loader thread and worker (never the audio thread)
        struct ReadyScript
        {
            std::unique_ptr<Dsp> dsp;
            std::string name;
        };
        mutable std::mutex scriptLock;
        std::string runningName;
        std::string currentSource, currentName; // control thread: the script prepare or loadScript gave last
        bool profileAsked = false; // control thread: for that script
        std::vector<ScriptMacro> runningMacros;
        std::atomic<ReadyScript*> readyScript { nullptr }; // loader -> worker
        std::atomic<uint64_t> generation { 0 }; // prepare counts; a stale job's outcome is dropped
        std::atomic<int> warmingJobs { 0 }; // loader jobs warming `dsp` in place: the worker waits
        SpscQueue<ConsoleLine> console; // worker -> control thread
        SpscQueue<ConsoleLine> loaderConsole; // loader -> control thread
        mutable std::mutex profileLock;
        mutable std::condition_variable profileDone;
        ProfileResult profile; // the newest complete one
        bool profileFresh = false; // not taken yet
        bool profileRunning = false;

        // ---- worker only --------------------------------------------------------------------
        std::unique_ptr<Dsp> dsp; // a LuaDsp, or an ExternalDsp when settings.dspProgram is set
        std::unique_ptr<Dsp> incoming; // a new script, crossfading in
        std::function<std::unique_ptr<Dsp>()> dspFactory; // control thread: see setDspFactory
        int64_t takenOverNanos = 0; // when the running DSP took over
        int renderRestartsFailed = 0; // a render's restarts of the DSP that failed in a row (prepare resets it)
        int incomingFadeDone = 0;
        std::string incomingName;
        std::vector<float> incomingScratch;
        std::array<float*, maxChannels> incomingPtrs {};
        std::vector<float> scratch;
        std::array<float*, maxChannels> scratchPtrs {};
        BlockStamp currentStamp {};
        bool haveStamp = false;
        Strategy workerStrategy = Strategy::deterministic;
        int workerPause = 200, workerStepMul = 100;
        CollectorScheduler scheduler;
        LatencyAdapter adapter;
        int64_t chunkCollectorNanos = 0; // the collector's time in the chunk being run (for the trace)
        CyclePhases phases; // deterministic: this instance's collection cycles, spread
        int phaseRank = 0; // (control thread, in prepare) its rank among instances
        bool phasesStarted = false;
        void spreadCycleOnWorker (double now);
        size_t heapAfterLastFull = 0;
        bool awaitingCollection = false; // a concurrent runtime's cycle was running at the last chunk
        double lastFullAt = -1.0e9, lastFullSeconds = 0.0, silentSince = -1.0, collectorCredit = 0.0;

        // The worker is the process's pool: a thread of it runs this engine's chunks.
        std::shared_ptr<WorkerPool> pool = WorkerPool::shared();
        std::atomic<WorkerPool::Slot*> poolSlot { nullptr };
        int64_t loadWindowStart = 0, loadBusyNanos = 0; // this engine's share of the pool's time
        // A DSP program that failed: the loader starts it again, after a backoff that doubles with
        // each attempt in a row (0.25 s, 0.5 s, ...), maxRestartsInARow times; then restarts stop.
        mutable std::mutex planLock;
        std::optional<ScriptLoader::Job> restartPlan; // control thread writes, loader copies (planLock)
        // planLock: the program the engine runs (prepare's settings.dspProgram, or a loadProgram's
        // once it started; empty: the script), and a loadProgram's choice until its outcome.
        ProgramCommand activeProgram;
        struct Proposal
        {
            uint64_t job = 0; // the loader's job number
            ProgramCommand program;
            std::optional<ScriptLoader::Job> plan;
        };
        std::optional<Proposal> proposal;
        std::mutex outcomeLock; // held while an outcome is published: prepare and release pass it once
        std::atomic<int64_t> nextRestartNanos { 0 }; // 0: none due
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
        std::atomic<uint64_t> dspRestarts { 0 };
        std::atomic<int> dspProcessId { 0 };
        std::atomic<bool> runningProgram { false }; // the worker's DSP is a program (the worker's view)

        // A DSP program's own figures (worker)
        std::atomic<bool> runtimeReported { false };
        std::atomic<uint64_t> runtimeHeap { 0 }, runtimeCollections { 0 }, runtimePauseCount { 0 };
        std::atomic<double> runtimePauseP50 { 0.0 }, runtimePauseP99 { 0.0 }, runtimePauseMax { 0.0 };

        ScriptLoader loader { [this] (ScriptLoader::Outcome&& o) { onLoaderOutcome (std::move (o)); },
                              [this] { return dueRestartOnLoader(); } }; // last: first to stop
    };
} // namespace pg
