#include "RunReport.h"

#include <algorithm>
#include <cstdio>

namespace pauseguard::cli
{
    // The processors' dropouts by cause, from the trace (DropoutCauses.h); those the trace lost
    // (a buffer that wrapped between two analyses) are "untraced", so that the counts sum to `dropouts`.
    juce::var causesJson (const pg::trace::CauseCounts& counts, uint64_t dropouts)
    {
        juce::DynamicObject::Ptr o = new juce::DynamicObject();
        auto all = counts;
        const uint64_t traced = counts.total() - counts[pg::trace::Cause::untraced];
        all[pg::trace::Cause::untraced] = dropouts > traced ? dropouts - traced : 0;
        for (int c = 0; c < static_cast<int> (pg::trace::Cause::count); ++c)
        {
            const auto cause = static_cast<pg::trace::Cause> (c);
            o->setProperty (juce::String (std::string (pg::trace::causeName (cause))), static_cast<juce::int64> (all[cause]));
        }
        return o.get();
    }

    // The machine's figures from the trace (PoolFigures), into o.
    void setMachineFigures (juce::DynamicObject& o, const PoolFigures& pool)
    {
        o.setProperty ("instance_cpu_percent", pool.instanceCpuPercent);
        o.setProperty ("capacity_instances", pool.capacityInstances());
        o.setProperty ("worst_stall_ms", pool.worstStallSeconds * 1000.0);
        o.setProperty ("largest_chunk_ms", pool.largestChunkSeconds * 1000.0);
        o.setProperty ("physical_floor_samples", pool.physicalFloorSamples);
        o.setProperty ("machine_slowdown", pool.machineSlowdown);
        o.setProperty ("pool_cpu_percent_per_instance", pool.poolCpuPercentPerInstance);
        if (pool.scriptAloneCpuPercent > 0.0)
        {
            o.setProperty ("script_alone_cpu_percent", pool.scriptAloneCpuPercent);
            o.setProperty ("engine_cost_ratio", pool.poolCpuPercentPerInstance / pool.scriptAloneCpuPercent);
        }
        o.setProperty ("resident_mb_per_instance", pool.residentMbPerInstance);
        o.setProperty ("engine_buffers_mb_per_instance", pool.preparedMbPerInstance);
        if (pool.scriptAloneHeapPeakMb > 0.0)
            o.setProperty ("script_alone_heap_peak_mb", pool.scriptAloneHeapPeakMb);
    }

    void printMachineFigures (const PoolFigures& pool)
    {
        std::printf ("  machine      an instance %.2f %% of a core: %d instances fill the pool; worst stall %.2f ms, largest chunk %.2f ms;"
                     " physical floor %d samples; slowest 5 s %.2fx the fastest\n",
                     pool.instanceCpuPercent, pool.capacityInstances(), pool.worstStallSeconds * 1000.0, pool.largestChunkSeconds * 1000.0,
                     pool.physicalFloorSamples, pool.machineSlowdown);
        if (pool.scriptAloneCpuPercent > 0.0)
            std::printf ("  engine cost  pool CPU per instance %.2f %% of a core; the script alone %.2f %%: %.2fx\n", pool.poolCpuPercentPerInstance,
                         pool.scriptAloneCpuPercent, pool.poolCpuPercentPerInstance / pool.scriptAloneCpuPercent);
        std::printf ("  memory       resident growth per instance %.1f MB (the shared pool and trace included), the engine's buffers %.2f MB",
                     pool.residentMbPerInstance, pool.preparedMbPerInstance);
        if (pool.scriptAloneHeapPeakMb > 0.0)
            std::printf ("; the script alone's heap peaks at %.1f MB", pool.scriptAloneHeapPeakMb);
        std::printf ("\n");
    }

    void printCauses (const pg::trace::CauseCounts& counts, uint64_t dropouts)
    {
        const auto o = causesJson (counts, dropouts);
        std::printf ("  causes      ");
        for (const auto& p : o.getDynamicObject()->getProperties())
            if (static_cast<juce::int64> (p.value) > 0)
                std::printf (" %s %lld", p.name.toString().toRawUTF8(), static_cast<long long> (static_cast<juce::int64> (p.value)));
        std::printf (dropouts == 0 ? " (no dropouts)\n" : "\n");
    }

    // Many instances on one simulated audio callback: totals, then a line per instance.
    void printInstances (const std::vector<Summary>& all, const PoolFigures& pool, bool json)
    {
        uint64_t dropouts = 0, after = 0;
        int worstLatency = 0, clean = 0;
        for (const auto& s : all)
        {
            dropouts += s.dropouts;
            after += s.dropoutsAfterWarmup;
            worstLatency = std::max (worstLatency, s.maxLatency);
            clean += s.dropouts == 0 ? 1 : 0;
        }
        const auto& first = all.front();
        if (json)
        {
            juce::DynamicObject::Ptr j = new juce::DynamicObject();
            j->setProperty ("instances", static_cast<int> (all.size()));
            j->setProperty ("strategy", first.strategy);
            j->setProperty ("sample_rate", first.rate);
            j->setProperty ("block", first.block);
            j->setProperty ("seconds", first.seconds);
            j->setProperty ("dropouts", static_cast<juce::int64> (dropouts));
            j->setProperty ("dropouts_warmup", static_cast<juce::int64> (dropouts - after));
            j->setProperty ("dropouts_after_warmup", static_cast<juce::int64> (after));
            j->setProperty ("dropouts_by_cause", causesJson (pool.causes, dropouts));
            setMachineFigures (*j, pool);
            j->setProperty ("instances_without_dropouts", clean);
            j->setProperty ("deadline_misses", static_cast<juce::int64> (first.deadlineMisses));
            j->setProperty ("max_reported_latency_samples", worstLatency);
            j->setProperty ("workers", pool.threads);
            j->setProperty ("worker_load_percent_mean", pool.meanLoadPercent);
            j->setProperty ("worker_load_percent_max", pool.maxLoadPercent);
            j->setProperty ("callback_ms", histogramVar (pool.callback));
            j->setProperty ("callback_wake_late_ms", histogramVar (pool.wakeLate));
            j->setProperty ("bare_response_ms", histogramVar (pool.bareResponse));
            j->setProperty ("floor_samples", pool.floorSamples);
            juce::Array<juce::var> per;
            for (const auto& s : all)
            {
                auto* o = new juce::DynamicObject();
                o->setProperty ("latency_samples", s.latency);
                o->setProperty ("dropouts", static_cast<juce::int64> (s.dropouts));
                o->setProperty ("dropouts_after_warmup", static_cast<juce::int64> (s.dropoutsAfterWarmup));
                o->setProperty ("lateness_p999_ms", s.lateness.percentile (0.999) * 1000.0);
                per.add (juce::var (o));
            }
            j->setProperty ("per_instance", per);
            std::printf ("%s\n", juce::JSON::toString (juce::var (j.get()), true).toRawUTF8());
            return;
        }
        std::printf ("%d instances, %s, %.0f Hz, block %d, %.1f s; %d pool threads\n", static_cast<int> (all.size()),
                     first.strategy.toRawUTF8(), first.rate, first.block, first.seconds, pool.threads);
        std::printf ("  dropouts     %llu (%llu in the warm-up, %llu after); %d of %d instances without any\n",
                     static_cast<unsigned long long> (dropouts), static_cast<unsigned long long> (dropouts - after),
                     static_cast<unsigned long long> (after), clean, static_cast<int> (all.size()));
        printCauses (pool.causes, dropouts);
        printMachineFigures (pool);
        std::printf ("  callback     %llu deadline misses; its own time p99 %.3f max %.3f ms; woken late p99 %.3f max %.3f ms\n",
                     static_cast<unsigned long long> (first.deadlineMisses), pool.callback.percentile (0.99) * 1e3,
                     pool.callback.maxSeconds * 1e3, pool.wakeLate.percentile (0.99) * 1e3, pool.wakeLate.maxSeconds * 1e3);
        std::printf ("  workers      load %.0f %% mean, %.0f %% max (100 %% = one core)\n", pool.meanLoadPercent, pool.maxLoadPercent);
        std::printf ("  floor        %d samples: a block + the p99.9 response of a bare worker (%.2f ms)\n", pool.floorSamples,
                     pool.bareResponse.percentile (0.999) * 1e3);
        for (size_t k = 0; k < all.size(); ++k)
            std::printf ("  #%-3d L %5d  dropouts %llu (%llu after warm-up)  lateness p99.9 %.2f ms\n", static_cast<int> (k + 1),
                         all[k].latency, static_cast<unsigned long long> (all[k].dropouts),
                         static_cast<unsigned long long> (all[k].dropoutsAfterWarmup), all[k].lateness.percentile (0.999) * 1000.0);
    }
} // namespace pauseguard::cli
