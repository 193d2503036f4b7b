#pragma once

// The dynamic strategy's decisions, as pure functions of their inputs (clock, heap, lateness
// history, transport, silence), so that they can be tested with an injected clock. The worker
// owns one CollectorScheduler and one LatencyAdapter; neither touches Lua or a thread.

#include <array>
#include <cstddef>
#include <cstdint>

namespace pg
{
    struct SchedulerSettings
    {
        double budgetFraction = 0.25; // collector time per chunk, as a fraction of its real-time duration
        double intervalSeconds = 5.0; // a full collection at least this often, when the slack allows
        size_t heapThresholdBytes = size_t (384) << 20; // past this, a forced full collection (may stall)
        double silenceHoldSeconds = 0.25; // input silent this long is a natural break
        double minGapSeconds = 1.0; // never two natural-break collections closer than this
        bool operator== (const SchedulerSettings&) const = default;
    };

    struct SchedulerInput
    {
        double now = 0.0; // seconds, any monotonic origin
        double chunkSeconds = 0.0; // real-time duration of the chunk just processed
        size_t heapBytes = 0;
        size_t heapAfterLastFull = 0; // the live heap the last full collection left
        double lastFullAt = -1.0e9; // when the last full collection ran
        double lastFullSeconds = 0.0; // how long it took
        double slackSeconds = 0.0; // L - one block - the recent worst response time
        bool transportPlaying = true;
        double silentSeconds = 0.0; // how long the input has been silent
    };

    enum class CollectorAction
    {
        slices, // incremental steps within sliceBudgetSeconds
        fullForced, // the heap passed its threshold
        fullTransport, // transport stopped
        fullSilence, // input silent for the hold time
        fullInterval, // interval elapsed with slack to spare
    };

    struct SchedulerDecision
    {
        CollectorAction action = CollectorAction::slices;
        double sliceBudgetSeconds = 0.0;
    };

    class CollectorScheduler
    {
    public:
        static SchedulerDecision decide (const SchedulerInput& in, const SchedulerSettings& s) noexcept;
    };

    // The wanted latency of the dynamic strategy: one block + safety x the worst recent response
    // time (arrival of a chunk's input to delivery of its output), on a grid, capped. It grows at
    // once when a response exceeds the current slack, and shrinks only after a quiet period and at
    // a safe point (transport stopped or input silent).
    struct AdapterSettings
    {
        int blockSize = 128;
        double sampleRate = 48000.0;
        double safetyFactor = 1.5;
        int gridSamples = 32;
        int fadeSamples = 0; // the dropout fade's look-ahead: the output is needed this much earlier
        int minLatencySamples = 0;
        int maxLatencySamples = 48000;
        double quietSeconds = 10.0; // no growth for this long before a shrink
        double windowSeconds = 10.0; // the shrink looks at the worst response in this window
        // ... and never below memoryFactor x the worst response of this longer span: the
        // machine's stalls come again (a shrink that forgot one would drop out at its next; the
        // factor covers the same stall at another phase to the blocks). Below the safety factor,
        // it keeps the latency up only after a response well above the window's.
        double memorySeconds = 60.0, memoryFactor = 1.25;
    };

    class LatencyAdapter
    {
    public:
        // Worker: the new starting point (after prepare).
        void reset (int currentLatency, double now) noexcept;

        // Worker: one chunk's response time. Returns true if the wanted latency grew.
        bool observe (double responseSeconds, double now, const AdapterSettings& s) noexcept;

        // Worker: at a safe point, may lower the wanted latency. Returns true if it did.
        bool maybeShrink (double now, bool safePoint, const AdapterSettings& s) noexcept;

        int wanted() const noexcept { return wantedLatency; }
        int latencyFor (double responseSeconds, const AdapterSettings& s) const noexcept;
        double worstInWindow() const noexcept { return window.worst(); }

    private:
        // The worst response in each of 16 spans of a sliding window.
        class WorstOver
        {
        public:
            void reset() noexcept;
            void add (double responseSeconds, double now, double windowSeconds) noexcept;
            double worst() const noexcept; // in every span kept
            double worstSince (double now) const noexcept; // in the spans of the window that ends now

        private:
            static constexpr int buckets = 16;
            std::array<double, buckets> bucketMax {};
            std::array<int64_t, buckets> bucketId {};
            double bucketSeconds = 1.0;
        };
        // One block, the fade and factor x the response, up to the grid.
        int coverFor (double responseSeconds, double factor, const AdapterSettings& s) const noexcept;

        WorstOver window, memory;
        int wantedLatency = 0;
        double lastGrowthAt = 0.0;
    };
} // namespace pg
