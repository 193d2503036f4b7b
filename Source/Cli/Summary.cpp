#include "Summary.h"

#include <cstdio>

namespace pauseguard::cli
{
    juce::var histogramVar (const pg::DurationHistogram::Snapshot& s)
    {
        auto* o = new juce::DynamicObject();
        o->setProperty ("p50", s.percentile (0.5) * 1000.0);
        o->setProperty ("p99", s.percentile (0.99) * 1000.0);
        o->setProperty ("p999", s.percentile (0.999) * 1000.0);
        o->setProperty ("max", s.maxSeconds * 1000.0);
        o->setProperty ("count", static_cast<juce::int64> (s.count));
        return juce::var (o);
    }

    // A DSP program's runtime, as it reports itself (Go: runtime/metrics).
    juce::var runtimeVar (const pg::RuntimeFigures& r)
    {
        auto* pauses = new juce::DynamicObject();
        pauses->setProperty ("p50", r.pauseP50Seconds * 1000.0);
        pauses->setProperty ("p99", r.pauseP99Seconds * 1000.0);
        pauses->setProperty ("max", r.pauseMaxSeconds * 1000.0);
        pauses->setProperty ("count", static_cast<juce::int64> (r.pauseCount));
        auto* o = new juce::DynamicObject();
        o->setProperty ("gc_pause_ms", juce::var (pauses));
        o->setProperty ("collections", static_cast<juce::int64> (r.collections));
        o->setProperty ("heap_mb", static_cast<double> (r.heapBytes) / 1048576.0);
        return juce::var (o);
    }

    juce::DynamicObject::Ptr summaryObject (const Summary& s)
    {
        juce::DynamicObject::Ptr o = new juce::DynamicObject();
        o->setProperty ("strategy", s.strategy);
        o->setProperty ("sample_rate", s.rate);
        o->setProperty ("block", s.block);
        o->setProperty ("seconds", s.seconds);
        o->setProperty ("reported_latency_samples", s.latency);
        o->setProperty ("reported_latency_ms", 1000.0 * s.latency / s.rate);
        o->setProperty ("max_reported_latency_samples", s.maxLatency);
        o->setProperty ("latency_changes", s.latencyChanges);
        o->setProperty ("dropouts", static_cast<juce::int64> (s.dropouts));
        o->setProperty ("dropouts_after_warmup", static_cast<juce::int64> (s.dropoutsAfterWarmup));
        o->setProperty ("deadline_misses", static_cast<juce::int64> (s.deadlineMisses));
        o->setProperty ("unprocessed_frames", static_cast<juce::int64> (s.counters.unprocessedFrames));
        o->setProperty ("collections", static_cast<juce::int64> (s.counters.fullCollections + s.counters.incrementalSteps));
        o->setProperty ("full_collections", static_cast<juce::int64> (s.counters.fullCollections));
        o->setProperty ("forced_collections", static_cast<juce::int64> (s.counters.forcedCollections));
        o->setProperty ("incremental_steps", static_cast<juce::int64> (s.counters.incrementalSteps));
        o->setProperty ("heap_mb", static_cast<double> (s.counters.heapBytes) / 1048576.0);
        o->setProperty ("pause_ms", histogramVar (s.pauses));
        o->setProperty ("lateness_ms", histogramVar (s.lateness));
        o->setProperty ("processing_ms", histogramVar (s.processing));
        if (s.counters.runtime.reported)
        {
            o->setProperty ("runtime", runtimeVar (s.counters.runtime));
            o->setProperty ("dsp_restarts", static_cast<juce::int64> (s.counters.dspRestarts));
        }
        return o;
    }

    void printSummary (const Summary& s, bool json, juce::DynamicObject::Ptr extra)
    {
        auto o = summaryObject (s);
        if (extra != nullptr)
            for (const auto& p : extra->getProperties())
                o->setProperty (p.name, p.value);
        if (json)
        {
            std::printf ("%s\n", juce::JSON::toString (juce::var (o.get()), true).toRawUTF8());
            return;
        }
        auto line = [] (const char* name, const pg::DurationHistogram::Snapshot& h) {
            std::printf ("  %-12s p50 %7.3f  p99 %7.3f  p99.9 %7.3f  max %7.3f ms  (%llu)\n", name, h.percentile (0.5) * 1e3,
                         h.percentile (0.99) * 1e3, h.percentile (0.999) * 1e3, h.maxSeconds * 1e3,
                         static_cast<unsigned long long> (h.count));
        };
        std::printf ("%s, %.0f Hz, block %d, %.1f s\n", s.strategy.toRawUTF8(), s.rate, s.block, s.seconds);
        std::printf ("  latency      %d samples (%.2f ms), max %d, %d changes\n", s.latency, 1000.0 * s.latency / s.rate,
                     s.maxLatency, s.latencyChanges);
        std::printf ("  dropouts     %llu (%llu after warm-up), deadline misses %llu\n", static_cast<unsigned long long> (s.dropouts),
                     static_cast<unsigned long long> (s.dropoutsAfterWarmup), static_cast<unsigned long long> (s.deadlineMisses));
        std::printf ("  collector    %llu full (%llu forced), %llu incremental steps; heap %.1f MB\n",
                     static_cast<unsigned long long> (s.counters.fullCollections),
                     static_cast<unsigned long long> (s.counters.forcedCollections),
                     static_cast<unsigned long long> (s.counters.incrementalSteps), static_cast<double> (s.counters.heapBytes) / 1048576.0);
        line ("pauses", s.pauses);
        line ("lateness", s.lateness);
        line ("processing", s.processing);
        if (const auto& r = s.counters.runtime; r.reported)
            std::printf ("  runtime      its own GC pauses p50 %.3f  p99 %.3f  max %.3f ms  (%llu); %llu cycles; heap %.1f MB; %llu restarts\n",
                         r.pauseP50Seconds * 1e3, r.pauseP99Seconds * 1e3, r.pauseMaxSeconds * 1e3,
                         static_cast<unsigned long long> (r.pauseCount), static_cast<unsigned long long> (r.collections),
                         static_cast<double> (r.heapBytes) / 1048576.0, static_cast<unsigned long long> (s.counters.dspRestarts));
        if (extra != nullptr)
            for (const auto& p : extra->getProperties())
                std::printf ("  %-12s %s\n", p.name.toString().toRawUTF8(), p.value.toString().toRawUTF8());
    }

    Summary collect (PauseGuardProcessor& p, const Options& o, double seconds)
    {
        Summary s;
        s.strategy = o.strategy;
        s.rate = o.rate;
        s.block = o.block;
        s.seconds = seconds;
        s.latency = p.getLatencySamples();
        s.counters = p.getEngine().getCounters();
        s.dropouts = s.counters.dropoutEvents;
        s.pauses = p.getEngine().getPauseHistogram();
        s.lateness = p.getEngine().getLatenessHistogram();
        s.processing = p.getEngine().getProcessingHistogram();
        const auto history = p.getLatencyHistory();
        s.maxLatency = s.latency;
        for (const auto& h : history)
        {
            s.maxLatency = std::max (s.maxLatency, h.samples);
            s.latencyChanges += h.reason == pauseguard::LatencyChange::Reason::prepare ? 0 : 1;
        }
        return s;
    }
} // namespace pauseguard::cli
