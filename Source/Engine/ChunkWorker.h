#pragma once

// The engine's worker: the chunk loop that a thread of the process's WorkerPool runs for this
// engine, one thread at a time, and its measurement (processing time, lateness against the
// deadline, response, load). It takes the input the audio side handed over, runs the DSP on it
// (DspSupervisor), writes the output back, and lets the collector work after it
// (AdaptiveCollector). Internal: not installed. No JUCE here.
//
// Threads: start, stop and prepare on the control thread; hold, injectPause and waitForWorker from
// a control thread or a test; …OnWorker and runOnPool on a pool thread.

#include "BlockStamp.h"
#include "EngineTypes.h"
#include "LatencyEngine.h"
#include "Stats.h"
#include "WorkerPool.h"
#include "Trace/Trace.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace pg
{
    class EngineControl;

    class ChunkWorker
    {
    public:
        static constexpr int maxChannels = LatencyEngine::maxChannels;

        explicit ChunkWorker (EngineControl& owner)
            : engine (owner)
        {
        }

        // Control thread, worker stopped: its buffers for the prepared settings, and no stamp yet.
        void prepare (int numChannels, int chunkFrames);
        // Control thread: attaches this engine to the pool (and tells the audio side its slot), or
        // detaches it (returns once no pool thread is inside this engine).
        void start();
        void stop();

        // ---- test and tooling hooks (EngineTesting.h) ---------------------------------------
        // Takes no chunk while held (a pause as long as the caller decides, in audio time).
        void hold (bool hold) noexcept;
        // Sleeps this long before the next chunk, once.
        void injectPause (double seconds) noexcept { pendingPause.store (seconds, std::memory_order_release); }
        // The thread that calls processBlock, between blocks: waits until the worker has processed
        // every frame handed to it so far. False on timeout.
        bool waitForWorker (double timeoutSeconds) const noexcept;
        // Any thread: the worker clears the statistics at its next chunk.
        void resetStatistics() noexcept { pendingStatsReset.store (true, std::memory_order_release); }

        // Any thread: snapshots.
        DurationHistogram::Snapshot getProcessingHistogram() const noexcept { return processingTimes.snapshot(); }
        DurationHistogram::Snapshot getLatenessHistogram() const noexcept { return lateness.snapshot(); }
        DurationHistogram::Snapshot getResponseHistogram() const noexcept { return responseTimes.snapshot(); }
        void addCountersTo (EngineCounters& c) const noexcept;
        void clearCounters() noexcept;

        // Any thread: the pool has work for this engine due at `dueNanos` (a napping thread is woken).
        void markPending (int64_t dueNanos) const noexcept;

        // ---- worker (and the control thread, worker stopped) ---------------------------------
        void setHeapBytes (size_t bytes) noexcept { heapBytes.store (bytes, std::memory_order_relaxed); }
        // The collector's time in the chunk being run (for the trace).
        void addCollectorNanos (int64_t nanos) noexcept { chunkCollectorNanos += nanos; }
        // An event of this instance in the pool thread's lane of the trace, when tracing.
        void traceOnWorker (const trace::Event& e) const noexcept;
        // While the host renders: ring frames [from, from + n) could not be processed.
        void reportUnprocessedOnWorker (uint64_t from, int n, const char* why);
        // The worker's input and output buffers of the chunk being run.
        float* const* chunkChannels() const noexcept { return scratchPtrs.data(); }

    private:
        WorkerPool::Ran runOnPool() noexcept;
        WorkerPool::Ran processAvailableOnWorker();
        bool skipUnneededOnWorker (uint64_t& r, uint64_t w, bool tracing);
        void takeStampsOnWorker (uint64_t r);
        int64_t runDspOnWorker (uint64_t r, int n, bool tracing);
        void passDryOnWorker (uint64_t r, int n);
        void fadeInFromDryOnWorker (int n) noexcept;
        void measureChunkOnWorker (uint64_t r, int n, int64_t t0, int64_t t1, float peak);
        void traceChunkOnWorker (uint64_t r, int n, int64_t chunkStart, int64_t cpuStart) const noexcept;
        void setDeadlineOnWorker (uint64_t next);

        EngineControl& engine;

        // The worker is the process's pool: a thread of it runs this engine's chunks.
        std::shared_ptr<WorkerPool> pool = WorkerPool::shared();
        std::atomic<WorkerPool::Slot*> poolSlot { nullptr };

        // ---- written by the control thread, read by the worker --------------------------------
        std::atomic<double> pendingPause { 0.0 };
        std::atomic<bool> workerHeld { false };
        std::atomic<bool> pendingStatsReset { false };

        // ---- written by the worker (counters and histograms, read as snapshots) ---------------
        alignas (64) std::atomic<uint64_t> skippedFrames { 0 }, chunksProcessed { 0 }, framesProcessed { 0 };
        std::atomic<uint64_t> unprocessedFrames { 0 };
        std::atomic<uint64_t> warmUpDryFrames { 0 }; // passed on unprocessed while the script warmed up
        std::atomic<uint64_t> heapBytes { 0 };
        std::atomic<double> workerLoadPercent { 0.0 };
        DurationHistogram processingTimes, lateness, responseTimes;

        // ---- worker only ----------------------------------------------------------------------
        int64_t loadWindowStart = 0, loadBusyNanos = 0; // this engine's share of the pool's time
        int chunkMax = 512;
        std::vector<float> scratch;
        std::array<float*, maxChannels> scratchPtrs {};
        // After chunks passed on dry (the warm-up), the script's output fades in from the input
        // over the crossfade: the chunk's input, kept for it, and the frames of the fade done.
        std::vector<float> dryCopy;
        int fadeFromDryDone = -1; // -1: no fade pending
        BlockStamp currentStamp {};
        bool haveStamp = false;
        int64_t chunkCollectorNanos = 0; // the collector's time in the chunk being run (for the trace)
    };
} // namespace pg
