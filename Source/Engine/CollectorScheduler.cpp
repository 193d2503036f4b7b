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

    void LatencyAdapter::WorstOver::reset() noexcept
    {
        bucketMax.fill (0.0);
        bucketId.fill (-1);
    }

    void LatencyAdapter::WorstOver::add (double responseSeconds, double now, double windowSeconds) noexcept
    {
        bucketSeconds = std::max (0.001, windowSeconds / buckets);
        const auto id = static_cast<int64_t> (std::floor (now / bucketSeconds));
        const auto slot = static_cast<size_t> (((id % buckets) + buckets) % buckets);
        if (bucketId[slot] != id)
        {
            bucketId[slot] = id;
            bucketMax[slot] = 0.0;
        }
        bucketMax[slot] = std::max (bucketMax[slot], responseSeconds);
    }

    double LatencyAdapter::WorstOver::worst() const noexcept
    {
        double worst = 0.0;
        for (double b : bucketMax)
            worst = std::max (worst, b);
        return worst;
    }

    double LatencyAdapter::WorstOver::worstSince (double now) const noexcept
    {
        const auto current = static_cast<int64_t> (std::floor (now / bucketSeconds));
        double worst = 0.0;
        for (size_t i = 0; i < buckets; ++i)
            if (current - bucketId[i] < buckets)
                worst = std::max (worst, bucketMax[i]);
        return worst;
    }

    void LatencyAdapter::reset (int currentLatency, double now) noexcept
    {
        window.reset();
        memory.reset();
        wantedLatency = currentLatency;
        lastGrowthAt = now;
    }

    int LatencyAdapter::coverFor (double responseSeconds, double factor, const AdapterSettings& s) const noexcept
    {
        const double samples = s.blockSize + s.fadeSamples + factor * responseSeconds * s.sampleRate;
        const int grid = std::max (1, s.gridSamples);
        const auto rounded = static_cast<int> (std::ceil (samples / grid)) * grid;
        return std::clamp (rounded, std::max (s.minLatencySamples, s.blockSize), std::max (s.maxLatencySamples, s.blockSize));
    }

    int LatencyAdapter::latencyFor (double responseSeconds, const AdapterSettings& s) const noexcept
    {
        return coverFor (responseSeconds, s.safetyFactor, s);
    }

    bool LatencyAdapter::observe (double responseSeconds, double now, const AdapterSettings& s) noexcept
    {
        window.add (responseSeconds, now, s.windowSeconds);
        memory.add (responseSeconds, now, s.memorySeconds);

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
        // Only what is inside the window and the memory counts.
        const int remembered = coverFor (memory.worstSince (now), s.memoryFactor, s);
        const int candidate = std::max (latencyFor (window.worstSince (now), s), remembered);
        if (candidate >= wantedLatency)
            return false;
        wantedLatency = candidate;
        lastGrowthAt = now; // the next shrink waits another quiet period
        return true;
    }
} // namespace pg
