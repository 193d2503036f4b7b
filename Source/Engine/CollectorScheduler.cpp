#include "CollectorScheduler.h"

#include <algorithm>
#include <cmath>

namespace pg
{
    SchedulerDecision CollectorScheduler::decide (const SchedulerInput& in, const SchedulerSettings& s) noexcept
    {
        SchedulerDecision d;
        d.sliceBudgetSeconds = std::max (0.0, s.budgetFraction * in.chunkSeconds);

        if (in.heapBytes >= s.heapThresholdBytes)
        {
            d.action = CollectorAction::fullForced;
            return d;
        }

        const double since = in.now - in.lastFullAt;
        // Natural breaks are worth a full collection only if there is garbage to free.
        const bool garbage = in.heapBytes > in.heapAfterLastFull + in.heapAfterLastFull / 8 + (size_t (256) << 10);
        if (since >= s.minGapSeconds && garbage)
        {
            if (! in.transportPlaying)
                d.action = CollectorAction::fullTransport;
            else if (in.silentSeconds >= s.silenceHoldSeconds)
                d.action = CollectorAction::fullSilence;
            else if (since >= s.intervalSeconds && in.slackSeconds > 1.5 * in.lastFullSeconds + 0.001)
                d.action = CollectorAction::fullInterval;
        }
        return d;
    }

    void LatencyAdapter::reset (int currentLatency, double now) noexcept
    {
        bucketMax.fill (0.0);
        bucketId.fill (-1);
        wantedLatency = currentLatency;
        lastGrowthAt = now;
    }

    int LatencyAdapter::latencyFor (double responseSeconds, const AdapterSettings& s) const noexcept
    {
        const double samples = s.blockSize + s.fadeSamples + s.safetyFactor * responseSeconds * s.sampleRate;
        const int grid = std::max (1, s.gridSamples);
        const auto rounded = static_cast<int> (std::ceil (samples / grid)) * grid;
        return std::clamp (rounded, std::max (s.minLatencySamples, s.blockSize), std::max (s.maxLatencySamples, s.blockSize));
    }

    double LatencyAdapter::worstInWindow() const noexcept
    {
        double worst = 0.0;
        for (double b : bucketMax)
            worst = std::max (worst, b);
        return worst;
    }

    bool LatencyAdapter::observe (double responseSeconds, double now, const AdapterSettings& s) noexcept
    {
        bucketSeconds = std::max (0.001, s.windowSeconds / buckets);
        const auto id = static_cast<int64_t> (std::floor (now / bucketSeconds));
        auto& slot = bucketMax[static_cast<size_t> (((id % buckets) + buckets) % buckets)];
        auto& slotId = bucketId[static_cast<size_t> (((id % buckets) + buckets) % buckets)];
        if (slotId != id)
        {
            slotId = id;
            slot = 0.0;
        }
        slot = std::max (slot, responseSeconds);

        // Grow at once when a response no longer fits the slack of the wanted latency.
        const double slack = static_cast<double> (wantedLatency - s.blockSize - s.fadeSamples) / s.sampleRate;
        if (responseSeconds > slack)
        {
            const int grown = latencyFor (responseSeconds, s);
            if (grown > wantedLatency)
            {
                wantedLatency = grown;
                lastGrowthAt = now;
                return true;
            }
        }
        return false;
    }

    bool LatencyAdapter::maybeShrink (double now, bool safePoint, const AdapterSettings& s) noexcept
    {
        if (! safePoint || now - lastGrowthAt < s.quietSeconds)
            return false;
        // Only buckets inside the window count.
        const auto current = static_cast<int64_t> (std::floor (now / bucketSeconds));
        double worst = 0.0;
        for (size_t i = 0; i < buckets; ++i)
            if (current - bucketId[i] < buckets)
                worst = std::max (worst, bucketMax[i]);
        const int candidate = latencyFor (worst, s);
        if (candidate >= wantedLatency)
            return false;
        wantedLatency = candidate;
        lastGrowthAt = now; // the next shrink waits another quiet period
        return true;
    }
} // namespace pg
