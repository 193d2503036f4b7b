#pragma once

// The engine's collector schedule and its adaptive latency, run by the worker after each chunk.
// Deterministic: the DSP's own automatic collector, paced by the user, its cycles spread across
// instances (CyclePhases), and the latency its responses call for (measured). Dynamic: the
// collector stopped and scheduled here (CollectorScheduler), and the latency it wants
// (LatencyAdapter). Internal: not installed. No JUCE here.
//
// Threads: the setters from any thread; prepare and start on the control thread with the worker
// stopped; …OnWorker on the worker (one pool thread at a time); the loader configures the DSPs it
// prepares through applyCollectorMode.

#include "BlockStamp.h"
#include "CollectorScheduler.h"
#include "CyclePhases.h"
#include "Dsp.h"
#include "EngineTypes.h"
#include "Profiler.h"
#include "Stats.h"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace pg
{
    class EngineControl;

    class AdaptiveCollector
    {
    public:
        explicit AdaptiveCollector (EngineControl& owner) noexcept
            : engine (owner)
        {
        }

        // ---- any thread ---------------------------------------------------------------------
        void setStrategy (Strategy s) noexcept { strategy.store (s, std::memory_order_release); }
        Strategy getStrategy() const noexcept { return strategy.load (std::memory_order_acquire); }
        Strategy getAppliedStrategy() const noexcept { return appliedStrategy.load (std::memory_order_acquire); }
        void setPacing (int pausePercent, int stepMultiplierPercent) noexcept;
        void setDynamicSettings (const DynamicSettings& s) noexcept;
        int getWantedDynamicLatency() const noexcept { return wantedDynamicLatency.load (std::memory_order_acquire); }
        int getMeasuredLatency() const noexcept { return measuredLatency.load (std::memory_order_acquire); }
        // The frames whose responses measuredLatency has seen (since the same point).
        uint64_t getMeasuredFrames() const noexcept { return measuredFrames.load (std::memory_order_acquire); }
        // A forced full collection before the next chunk (tests and tools).
        void requestFullCollection() noexcept { pendingCollection.store (true, std::memory_order_release); }
        DurationHistogram::Snapshot getPauseHistogram() const noexcept { return pauses.snapshot(); }
        void addCountersTo (EngineCounters& c) const noexcept;
        void clearCounters() noexcept; // the worker, or the control thread with it stopped

        // Control or loader thread: what a loader job's profile and collector mode follow now.
        void describe (ProfileRequest& request) const noexcept;
        // Deterministic: Lua's automatic incremental collector with the user's pacing; dynamic: the
        // generational mode, stopped. On the worker, and on the loader for a DSP it prepares.
        static void applyCollectorMode (Dsp& target, Strategy s, int pausePercent, int stepMultiplierPercent);
        // How far the collector lets the heap grow past its live data before a full cycle, in
        // percent of it: Lua's incremental pause (deterministic), or a generational major
        // collection at 100 % growth (dynamic).
        static int heapGrowthPercent (Strategy s, int pausePercent) noexcept
        {
            return s == Strategy::deterministic ? pausePercent : 200;
        }

        // Loader thread: a profile's dynamic start (0: none), taken by the worker at its next chunk.
        void offerProfiledStart (int samples) noexcept { profiledDynamicStart.store (samples, std::memory_order_relaxed); }
        // Any thread: the responses of chunks that arrived before now are not measured (a warm-up
        // or a new DSP); with forget, the measured latency starts again from 0.
        void measureFromNow (bool forget) noexcept;
        // Any thread: the DSP's heap was just collected off the worker (a warm-up on the loader ends
        // with a full collection): the worker's next chunk takes its heap then as the one after its
        // last full collection, so that a natural break finds no garbage in what the loader built.
        void heapCollectedOffWorker() noexcept { collectedOffWorker.store (true, std::memory_order_release); }

        // ---- control thread, worker stopped ------------------------------------------------
        // Before the DSP is configured: the strategy and pacing the worker starts with, and no
        // profile's start.
        Strategy prepare() noexcept;
        // After: the latency the engine starts at, and the DSP's heap now.
        void start (int latencySamples, size_t heapBytes) noexcept;

        // ---- worker -------------------------------------------------------------------------
        Strategy getWorkerStrategy() const noexcept { return workerStrategy; }
        // The collector mode of the worker's DSPs (and the incoming one's) for strategy s.
        void configureCollector (Strategy s);
        void configureCollector (Dsp& target, Strategy s) const;
        // Before a chunk: a strategy or pacing that changed; a profile's start that landed; a
        // forced collection asked for (true if it ran).
        void applyStrategyOnWorker();
        void takeProfiledStartOnWorker();
        bool takeRequestedCollectionOnWorker();
        // After a chunk: its input's peak (silence is a natural break), its response in real time
        // (measured: its block's stamp, or nullptr), then the collector's work.
        void afterChunkOnWorker (float peak, const BlockStamp* measured, double response, int frames, double now, bool realtime);
        // A block's response, from its arrival to its output (or to its skip, if it came too late):
        // the deterministic strategy's measured latency covers it; the dynamic one's adapter
        // observes it. Not for a block that arrived before measureFromNow.
        void observeResponseOnWorker (const BlockStamp& stamp, int frames, double responseSeconds, double now) noexcept;

    private:
        void measureResponseOnWorker (double responseSeconds) noexcept; // the deterministic strategy's
        AdapterSettings adapterSettings() const noexcept;
        void runOnWorker (double chunkSeconds, double now);
        void runSlicesOnWorker (double sliceBudgetSeconds);
        void fullCollectionOnWorker (double now, bool forced);
        void spreadCycleOnWorker (double now);
        Dsp& dsp() const noexcept;

        EngineControl& engine;

        // ---- written by the control thread (any thread), read by the worker -----------------
        std::atomic<Strategy> strategy { Strategy::deterministic };
        std::atomic<bool> pendingCollection { false };
        std::atomic<int> pacingPause { 200 }, pacingStepMul { 100 };
        // dynamic settings, each an atomic so that any thread may set them
        std::atomic<double> budgetFraction { 0.25 }, intervalSeconds { 5.0 }, silenceHoldSeconds { 0.25 };
        std::atomic<double> safetyFactor { 1.5 }, dynamicMaxLatencySeconds { 0.1 };
        std::atomic<uint64_t> heapThresholdBytes { uint64_t (384) << 20 };
        std::atomic<float> silenceThreshold { 0.001f };
        std::atomic<int64_t> measureFromNanos { 0 }; // responses of chunks that arrived before are not measured
        std::atomic<bool> collectedOffWorker { false };
        std::atomic<int> profiledDynamicStart { 0 }; // the newest profile's dynamic start (0: none; loader)

        // ---- written by the worker ------------------------------------------------------------
        alignas (64) std::atomic<Strategy> appliedStrategy { Strategy::deterministic };
        std::atomic<int> wantedDynamicLatency { 0 };
        std::atomic<int> measuredLatency { 0 };
        std::atomic<uint64_t> measuredFrames { 0 };
        std::atomic<uint64_t> fullCollections { 0 }, forcedCollections { 0 }, incrementalSteps { 0 };
        std::atomic<uint64_t> adaptiveGrowths { 0 }, adaptiveShrinks { 0 };
        std::atomic<double> collectorSeconds { 0.0 };
        DurationHistogram pauses; // every collector call's duration

        // ---- worker only (prepare and start set them, with the worker stopped) ---------------
        Strategy workerStrategy = Strategy::deterministic;
        int workerPause = 200, workerStepMul = 100;
        int profiledDynamicSeen = 0; // the profile's start it has taken
        LatencyAdapter adapter;
        CyclePhases phases; // deterministic: this instance's collection cycles, spread
        int phaseRank = 0; // its rank among instances (start)
        bool phasesStarted = false;
        size_t heapAfterLastFull = 0;
        bool awaitingCollection = false; // a concurrent runtime's cycle was running at the last chunk
        double lastFullAt = -1.0e9, lastFullSeconds = 0.0, silentSince = -1.0, collectorCredit = 0.0;
    };
} // namespace pg
