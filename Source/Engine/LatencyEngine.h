#pragma once

// The latency engine: the managed DSP runs on a worker thread, decoupled from the audio thread by
// lock-free FIFOs, and the audio thread plays its output exactly L samples late. No JUCE here.
//
// Threads:
//   audio   processBlock(): dry delay line, input FIFO producer, output FIFO consumer.
//   worker  owns the LuaDsp: runs the script (and, through it, the collector).
//   control prepare()/release()/requestLatency()/setters/statistics: any non-audio thread.

#include "LuaDsp.h"
#include "SpscRing.h"
#include "Stats.h"
#include "Wakeup.h"

#include <array>
#include <atomic>
#include <cstdint>
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

    struct ProfileResult
    {
        double worstCollectionSeconds = 0.0; // longest forced full collection
        double worstChunkSeconds = 0.0;      // longest script call (with its automatic collector work)
        double elapsedSeconds = 0.0;
        size_t heapBytes = 0;
        int latencySamples = 0; // one block + 2 x worst pause, at least 10 ms
    };

    struct EngineCounters
    {
        uint64_t dropoutFrames = 0;      // frames played from the dry path because wet was late
        uint64_t dropoutEvents = 0;      // audio blocks that had at least one such frame
        uint64_t inputOverflowFrames = 0;
        uint64_t skippedFrames = 0;      // stale input the worker skipped after a long stall
        uint64_t chunksProcessed = 0;
        uint64_t framesProcessed = 0;
        uint64_t heapBytes = 0;
        int latencySamples = 0;
        bool scriptFailed = false;
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

        // Control thread. Not real-time: stops the worker, allocates, loads the script (a script
        // that fails leaves the engine running with the delayed dry signal and the error kept),
        // optionally profiles it, then starts the worker. Returns false if the script failed.
        // latencySamples < 0 takes the profiled latency (profileFirst must then be true).
        bool prepare (const EngineSettings& settings, std::string_view scriptSource, std::string_view scriptName,
                      int latencySamples, bool profileFirst = false, double profileBudgetSeconds = 0.4);

        // Control thread. Stops the worker; processBlock() is a pass-through until the next prepare.
        void release();

        // The profile measured by the last prepare (profileFirst = true).
        ProfileResult getProfile() const noexcept { return profile; }

        // Audio thread. Wait-free: no allocation, no lock, no Lua, no blocking syscall.
        // Processes numFrames <= the prepared maximum in place (larger blocks: call it in pieces).
        void processBlock (float* const* channels, int numChannels, int numFrames) noexcept;

        // Any thread. The new latency is taken by the audio thread at its next block.
        void requestLatency (int samples) noexcept;
        // Any thread: the latency the audio thread is using (or will use once a request lands).
        int getLatencySamples() const noexcept;
        int clampLatency (int samples) const noexcept;

        // Any thread. Lock-free.
        void setMix (float zeroToOne) noexcept { mixTarget.store (zeroToOne, std::memory_order_relaxed); }
        void setBypassed (bool b) noexcept { bypassed.store (b, std::memory_order_relaxed); }
        void setScriptParameter (int index, float value) noexcept;

        bool isPrepared() const noexcept { return prepared.load (std::memory_order_acquire); }
        double getSampleRate() const noexcept { return settings.sampleRate; }
        int getMaxBlockSize() const noexcept { return settings.maxBlockSize; }

        // Any thread. Lock-free snapshots.
        EngineCounters getCounters() const noexcept;
        DurationHistogram::Snapshot getProcessingHistogram() const noexcept { return processingTimes.snapshot(); }
        DurationHistogram::Snapshot getLatenessHistogram() const noexcept { return lateness.snapshot(); }
        DurationHistogram::Snapshot getPauseHistogram() const noexcept { return pauses.snapshot(); }
        // The script's error, empty if none.
        std::string getScriptError() const;

        // ---- test and tooling hooks (never used by the plugin's audio path) ------------------
        // Worker: run one forced full collection before the next chunk (timed into the pauses).
        void requestFullCollection() noexcept { pendingCollection.store (true, std::memory_order_release); }
        // Worker: sleep this long before the next chunk, once.
        void injectWorkerPause (double seconds) noexcept { pendingPause.store (seconds, std::memory_order_release); }
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
        };

        void workerMain();
        bool processAvailableOnWorker();
        void stopWorker();
        void startWorker();
        ProfileResult runProfile (double budgetSeconds);
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
        Wakeup wakeup;
        std::atomic<uint64_t> outputValidFrom { 0 };   // worker writes: positions below were skipped
        std::atomic<uint64_t> audioNeededRingPos { 0 }; // audio writes: the oldest frame it still needs
        std::atomic<int> requestedLatency { -1 };
        std::atomic<int> publishedLatency { 0 };
        std::atomic<float> mixTarget { 1.0f };
        std::atomic<bool> bypassed { false };
        std::atomic<bool> stopRequested { false };
        std::atomic<double> pendingPause { 0.0 };
        std::atomic<bool> pendingCollection { false };

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
        std::atomic<bool> scriptFailed { false };
        std::array<std::atomic<char>, 512> scriptError {};
        DurationHistogram processingTimes, lateness, pauses; // worker

        // ---- audio thread only --------------------------------------------------------------
        SampleRing dryLine; // written and read by the audio thread; positions = absolute time
        uint64_t audioTime = 0;
        uint64_t inputWritePos = 0;
        uint64_t outputReadPos = 0;
        int latency = 0;
        float mixCurrent = 1.0f;
        std::array<Gap, 8> gaps {};
        int numGaps = 0;
        int64_t baseOffset = 0;

        // ---- worker only --------------------------------------------------------------------
        LuaDsp dsp;
        std::vector<float> scratch;
        std::array<float*, maxChannels> scratchPtrs {};
        BlockStamp currentStamp {};
        bool haveStamp = false;
        ProfileResult profile;

        std::thread worker;
    };
} // namespace pg
