#pragma once

// The latency engine: the managed DSP runs on a worker thread, decoupled from the audio thread by
// lock-free FIFOs, and the audio thread plays its output exactly L samples late. No JUCE here.
//
// Threads:
//   audio   processBlock(): dry delay line, input FIFO producer, output FIFO consumer.
//   worker  a thread of the process's WorkerPool, one at a time: owns the LuaDsp, runs the
//           script (and, through it, the collector).
//   control prepare()/release()/requestLatency()/setters/statistics: any non-audio thread.

#include "CollectorScheduler.h"
#include "LatencyCrossfade.h"
#include "LuaDsp.h"
#include "Profiler.h"
#include "Realtime.h"
#include "ScriptLoader.h"
#include "SpscRing.h"
#include "Stats.h"
#include "WorkerPool.h"

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pg
{
    struct EngineSettings
    {
        double sampleRate = 48000.0;
        int maxBlockSize = 512;
        int numChannels = 2;
        double maxLatencySeconds = 1.0; // the largest L this preparation supports
        LuaDspLimits luaLimits {};
    };

    enum class Strategy
    {
        deterministic, // fixed L; Lua's automatic collector runs inside the script
        dynamic        // the engine schedules the collector; L adapts to measured response times
    };

    // How the dynamic strategy runs the collector and chooses L. Any thread may set it.
    struct DynamicSettings
    {
        SchedulerSettings scheduler {};
        double safetyFactor = 1.5;
        double maxLatencySeconds = 0.1;
        float silenceThreshold = 0.001f; // linear peak; below it the input counts as silent
    };

    struct EngineCounters
    {
        uint64_t dropoutFrames = 0;      // frames played from the dry path because wet was late
        uint64_t dropoutEvents = 0;      // audio blocks that had at least one such frame
        uint64_t inputOverflowFrames = 0;
        uint64_t skippedFrames = 0;      // stale input the worker skipped after a long stall
        uint64_t chunksProcessed = 0;
        uint64_t fullCollections = 0;        // all full collections the engine ran (dynamic, or forced by a test)
        uint64_t forcedCollections = 0;      // those forced by the heap threshold
        uint64_t incrementalSteps = 0;       // basic steps run by the dynamic scheduler
        double collectorSeconds = 0.0;       // total time in collector calls made by the engine
        uint64_t adaptiveGrowths = 0, adaptiveShrinks = 0;
        int wantedDynamicLatency = 0;
        uint64_t framesProcessed = 0;
        uint64_t heapBytes = 0;
        double workerLoadPercent = 0.0; // the worker's busy share of wall time over the last ~0.5 s
        int latencySamples = 0;
        bool scriptFailed = false;
    };

    // A line for the editor's console: the script's print output, and script events.
    struct ConsoleLine
    {
        enum Kind : int32_t
        {
            print,
            info,
            error
        };
        Kind kind = print;
        char text[252] {};
    };

    class LatencyEngine
    {
    public:
        static constexpr int maxChannels = 8;
        static constexpr int maxScriptParameters = 16;

        LatencyEngine();
        ~LatencyEngine();
        LatencyEngine (const LatencyEngine&) = delete;
        LatencyEngine& operator= (const LatencyEngine&) = delete;

        // Control thread, before prepare. `name` must be a string literal (it outlives the engine).
        int addScriptParameter (const char* name, float initialValue);

        // prepare() and release() must not run while another thread is inside processBlock(): a
        // host stops its audio callback around them (JUCE: prepareToPlay, releaseResources).
        //
        // Control thread. Not real-time, but fast (no profile here): stops the worker, allocates,
        // compiles and prepares the script (a script that fails leaves the engine running with the
        // delayed dry signal and the error kept), then starts the worker. Returns false if the
        // script failed. L is latencySamples raised to the floor (latencySamples < 0: the floor, or
        // 10 ms if more). profile: the auto latency is measured on the loader thread, in the
        // background; takeProfile() gives it when it is done (the engine does not apply it).
        bool prepare (const EngineSettings& settings, std::string_view scriptSource, std::string_view scriptName,
                      int latencySamples, bool profile = false, double profileBudgetSeconds = 0.4);

        // Control thread. Stops the worker; processBlock() is a pass-through until the next prepare.
        void release();

        // Control thread: the newest complete profile, once (then false until another completes).
        bool takeProfile (ProfileResult& result);
        // Control thread: the newest complete profile (complete = false if none yet).
        ProfileResult getProfile() const;
        // Control thread: waits until a profile asked for has completed. False on timeout or if none runs.
        bool waitForProfile (double timeoutSeconds) const;
        // Control thread, after prepare: profiles the running script in the background (as prepare
        // does when asked), unless a profile of it has already run or is running.
        void profileInBackground (double budgetSeconds = 0.4);
        // Control thread: a profile of the current script has run or is running.
        bool hasProfiled() const;

        // Audio thread. Wait-free in real time: no allocation, no lock, no Lua, no blocking syscall.
        // Offline (setOffline (true)) it waits for the worker, a bounded time, so that the output
        // is complete. Processes any numFrames in place (larger than prepared: in pieces).
        void processBlock (float* const* channels, int numChannels, int numFrames) noexcept PG_NONBLOCKING;

        // Any thread: the host renders offline (JUCE's isNonRealtime()). processBlock then waits for
        // the worker in each block (up to offlineWaitSeconds), and the engine wants no latency change.
        void setOffline (bool isOffline) noexcept { offline.store (isOffline, std::memory_order_relaxed); }
        bool isOffline() const noexcept { return offline.load (std::memory_order_relaxed); }
        static constexpr double offlineWaitSeconds = 5.0;

        // The smallest latency a block size allows: the block, the dropout fade's look-ahead (1 ms),
        // and the worker's minimum slack to run a chunk (2 ms + a quarter of the block).
        static int latencyFloorFor (int blockSize, double sampleRate) noexcept;
        // Any thread: the floor for the largest of the prepared block size and the blocks really
        // sent. Every latency the engine takes is raised to it.
        int getLatencyFloor() const noexcept;
        // Any thread: the largest block processBlock has been given since prepare.
        int getLargestBlock() const noexcept { return largestBlock.load (std::memory_order_relaxed); }
        // The dropout fade's length (and look-ahead): wet to delayed dry and back, never a hard switch.
        int getDropoutFadeSamples() const noexcept { return dropoutFade; }

        // Any thread. The new latency (raised to the floor) is taken by the audio thread at its next
        // block, or, if a latency crossfade is running, when it ends (a request back to the
        // previous latency reverses it from its current gain at once).
        void requestLatency (int samples) noexcept;
        // Any thread: the latency the audio thread is using (or will use once a request lands).
        int getLatencySamples() const noexcept;
        int clampLatency (int samples) const noexcept;

        // Any thread. Lock-free.
        void setMix (float zeroToOne) noexcept { mixTarget.store (zeroToOne, std::memory_order_relaxed); }
        void setBypassed (bool b) noexcept { bypassed.store (b, std::memory_order_relaxed); }
        void setScriptParameter (int index, float value) noexcept;
        void setStrategy (Strategy s) noexcept { strategy.store (s, std::memory_order_release); }
        Strategy getStrategy() const noexcept { return strategy.load (std::memory_order_acquire); }
        // The strategy the worker runs now (it takes a requested one at its next chunk).
        Strategy getAppliedStrategy() const noexcept { return appliedStrategy.load (std::memory_order_acquire); }
        // Deterministic strategy: Lua's incremental pacing (pause and step multiplier, in %).
        void setPacing (int pausePercent, int stepMultiplierPercent) noexcept;
        void setDynamicSettings (const DynamicSettings& s) noexcept;
        // Audio thread (from the host's play head). Stopped transport is a natural break.
        void setTransportPlaying (bool playing) noexcept { transportPlaying.store (playing, std::memory_order_relaxed); }

        // Any thread: the latency the dynamic strategy wants now (0 before prepare). The control
        // thread applies it (requestLatency + the host's notification) when the strategy is dynamic.
        int getWantedDynamicLatency() const noexcept { return wantedDynamicLatency.load (std::memory_order_acquire); }
        // Any thread: the latency that the deterministic strategy's responses at real-time pace
        // (a chunk's arrival to its output) have called for since prepare or the last script swap:
        // one block + the safety factor x the longest response, on the adapter's grid; 0 before
        // any. It only grows. Chunks that arrived before the script's warm-up ended are left out.
        // The plugin's auto latency is the larger of this and the profile's.
        int getMeasuredLatency() const noexcept { return measuredLatency.load (std::memory_order_acquire); }
        // The longest a latency change's crossfade lasts (nominally a tenth of it: see
        // LatencyCrossfade): from then on the output is exactly at the new L.
        int getCrossfadeSamples() const noexcept { return latencyFade.getMaximumSamples(); }

        bool isPrepared() const noexcept { return prepared.load (std::memory_order_acquire); }
        double getSampleRate() const noexcept { return settings.sampleRate; }
        int getMaxBlockSize() const noexcept { return settings.maxBlockSize; }

        // Any thread. Lock-free snapshots.
        EngineCounters getCounters() const noexcept;
        DurationHistogram::Snapshot getProcessingHistogram() const noexcept { return processingTimes.snapshot(); }
        DurationHistogram::Snapshot getLatenessHistogram() const noexcept { return lateness.snapshot(); }
        DurationHistogram::Snapshot getPauseHistogram() const noexcept { return pauses.snapshot(); }
        // Arrival of a chunk's input to the delivery of its output.
        DurationHistogram::Snapshot getResponseHistogram() const noexcept { return responseTimes.snapshot(); }
        // Resets every histogram and counter, from any thread (the worker clears them at its next chunk).
        void resetStatistics() noexcept { pendingStatsReset.store (true, std::memory_order_release); }
        // The script's error, empty if none.
        std::string getScriptError() const;

        // Control thread, after prepare: the loader thread compiles `source`, prepares it, builds its
        // live heap (and profiles it if `profile`), then the worker crossfades from the running
        // script to it; a script that fails never replaces a working one (it is reported on the
        // console instead). Before prepare it does nothing: prepare takes the script.
        void loadScript (std::string source, std::string name, bool profile = false);
        // Control thread: the name of the script the worker runs, and the macros it declares.
        std::string getScriptName() const;
        std::vector<LuaDsp::MacroSpec> getScriptMacros() const;
        // Control thread: the next console line, if any.
        bool popConsoleLine (ConsoleLine& line) noexcept { return console.pop (line) || loaderConsole.pop (line); }
        // Control thread: true while the loader thread compiles, warms or profiles a script.
        bool isLoading() const { return loader.isBusy(); }
        // Any thread: the loader is building the live heap of the script prepare gave (in real
        // time; prepare starts it). The worker takes no chunk meanwhile, so a host that plays at
        // once gets the delayed dry signal, counted as dropouts, until it is done. The script's
        // prepare() is called again after it: the script must reset its DSP state there.
        bool isWarming() const noexcept { return warmingJobs.load (std::memory_order_acquire) > 0; }
        // Control thread: waits until the warm-up is done. False on timeout.
        bool waitUntilWarm (double timeoutSeconds) const;

        // ---- test and tooling hooks (never used by the plugin's audio path) ------------------
        // Worker: run one forced full collection before the next chunk (timed into the pauses).
        void requestFullCollection() noexcept { pendingCollection.store (true, std::memory_order_release); }
        // Worker: sleep this long before the next chunk, once.
        void injectWorkerPause (double seconds) noexcept { pendingPause.store (seconds, std::memory_order_release); }
        // Worker: takes no chunk while held (a pause as long as the caller decides, in audio time:
        // deterministic, whatever the machine's load).
        void holdWorker (bool hold) noexcept;
        // The thread that calls processBlock, between blocks: waits until the worker has
        // processed every frame handed to it so far. Returns false on timeout.
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

        enum class RunKind { preRoll, wet, missing, transition };
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
        static void applyCollectorMode (LuaDsp& target, Strategy s, int pausePercent, int stepMultiplierPercent);
        void fullCollectionOnWorker (double now, bool forced);
        void applyStrategyOnWorker();
        void configureCollector (Strategy s);
        void configureCollector (LuaDsp& target, Strategy s);
        void takeReadyScriptOnWorker();
        void onLoaderOutcome (ScriptLoader::Outcome&& outcome);
        ScriptLoader::Job loaderJob (std::string source, std::string name, bool profile, bool deliver, bool warm = false);
        void crossfadeIncomingOnWorker (int nch, int n);
        void consoleFromWorker (ConsoleLine::Kind kind, const std::string& text) noexcept;
        void clearStatistics() noexcept;
        int renderAt (int latencySamples, float& wetGain, float* const* out, int nch, int n, float mixStep) noexcept;
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
        void passThrough (float* const* channels, int numChannels, int numFrames) noexcept;

        EngineSettings settings;
        int chunkMax = 512;
        std::atomic<bool> prepared { false };

        // ---- shared (atomics) -------------------------------------------------------------------
        SampleRing inputRing;  // audio -> worker
        SampleRing outputRing; // worker -> audio; ring positions equal the input's
        SpscQueue<BlockStamp> stamps;
        std::atomic<uint64_t> outputValidFrom { 0 };   // worker writes: positions below were skipped
        std::atomic<uint64_t> audioNeededRingPos { 0 }; // audio writes: the oldest frame it still needs
        std::atomic<int> requestedLatency { -1 };
        std::atomic<int> publishedLatency { 0 };
        std::atomic<float> mixTarget { 1.0f };
        std::atomic<bool> bypassed { false };
        std::atomic<double> pendingPause { 0.0 };
        std::atomic<bool> pendingCollection { false };
        std::atomic<bool> workerHeld { false };
        std::atomic<bool> pendingStatsReset { false };
        std::atomic<Strategy> strategy { Strategy::deterministic }, appliedStrategy { Strategy::deterministic };
        std::atomic<bool> transportPlaying { true };
        std::atomic<bool> offline { false };
        std::atomic<int> largestBlock { 0 };
        std::atomic<int> wantedDynamicLatency { 0 };
        std::atomic<int> measuredLatency { 0 };
        std::atomic<int64_t> measureFromNanos { 0 }; // responses of chunks that arrived before are not measured
        std::atomic<int> profiledDynamicStart { 0 }; // the newest profile's dynamic start (0: none)
        int profiledDynamicSeen = 0;                  // worker: the one it has taken
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
        std::atomic<uint64_t> skippedFrames { 0 }, chunksProcessed { 0 }, framesProcessed { 0 };    // worker
        std::atomic<uint64_t> heapBytes { 0 };                                                      // worker
        std::atomic<uint64_t> fullCollections { 0 }, forcedCollections { 0 }, incrementalSteps { 0 }; // worker
        std::atomic<uint64_t> adaptiveGrowths { 0 }, adaptiveShrinks { 0 };                         // worker
        std::atomic<double> collectorSeconds { 0.0 };                                              // worker
        std::atomic<double> workerLoadPercent { 0.0 };                                             // worker
        std::atomic<bool> scriptFailed { false };
        std::array<std::atomic<char>, 512> scriptError {};
        DurationHistogram processingTimes, lateness, pauses, responseTimes; // worker

        // ---- audio thread only --------------------------------------------------------------
        SampleRing dryLine; // written and read by the audio thread; positions = absolute time
        uint64_t audioTime = 0;
        uint64_t inputWritePos = 0;
        uint64_t outputReadPos = 0;
        int latency = 0;
        float mixCurrent = 1.0f;
        int crossfadeSamples = 240;  // a script swap's crossfade (the worker's), and a latency fade's nominal length
        int dropoutFade = 48;        // wet <-> delayed dry when the worker is late (set by prepare)
        float wetGain = 1.0f, fadeWetGain = 1.0f; // that fade's gain, at L and at the previous L
        int fadeFromLatency = 0;     // crossfade from the previous L after a change
        LatencyCrossfade latencyFade;
        std::vector<float> fadeScratch;
        std::array<float*, maxChannels> fadePtrs {};
        std::array<Gap, 8> gaps {};
        int numGaps = 0;
        int64_t baseOffset = 0;

        // script loading: control thread, loader thread and worker (never the audio thread)
        struct ReadyScript
        {
            std::unique_ptr<LuaDsp> dsp;
            std::string name;
        };
        mutable std::mutex scriptLock;
        std::string runningName;
        std::string currentSource, currentName; // control thread: the script prepare or loadScript gave last
        bool profileAsked = false;              // control thread: for that script
        std::vector<LuaDsp::MacroSpec> runningMacros;
        std::atomic<ReadyScript*> readyScript { nullptr }; // loader -> worker
        std::atomic<uint64_t> generation { 0 };             // prepare counts; a stale job's outcome is dropped
        std::atomic<int> warmingJobs { 0 };                 // loader jobs warming `dsp` in place: the worker waits
        SpscQueue<ConsoleLine> console;                     // worker -> control thread
        SpscQueue<ConsoleLine> loaderConsole;               // loader -> control thread
        mutable std::mutex profileLock;
        mutable std::condition_variable profileDone;
        ProfileResult profile;     // the newest complete one
        bool profileFresh = false; // not taken yet
        bool profileRunning = false;

        // ---- worker only --------------------------------------------------------------------
        std::unique_ptr<LuaDsp> dsp = std::make_unique<LuaDsp>();
        std::unique_ptr<LuaDsp> incoming; // a new script, crossfading in
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
        size_t heapAfterLastFull = 0;
        double lastFullAt = -1.0e9, lastFullSeconds = 0.0, silentSince = -1.0, collectorCredit = 0.0;

        // The worker is the process's pool: a thread of it runs this engine's chunks.
        std::shared_ptr<WorkerPool> pool = WorkerPool::shared();
        std::atomic<WorkerPool::Slot*> poolSlot { nullptr };
        int64_t loadWindowStart = 0, loadBusyNanos = 0; // this engine's share of the pool's time
        ScriptLoader loader { [this] (ScriptLoader::Outcome&& o) { onLoaderOutcome (std::move (o)); } }; // last: first to stop
    };
} // namespace pg
