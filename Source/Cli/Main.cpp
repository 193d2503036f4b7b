// pauseguard: drives the real PauseGuardProcessor headless.
//   pauseguard demo [--seconds S]   what the plugin does, shown without a DAW or a display
//   pauseguard profile [--garbage-kb K] [--live-heap-mb M] [--rate HZ] [--block N]
//                                   profile the script and its collector; print the auto latency

#include "PluginProcessor.h"

#include <juce_events/juce_events.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace
{
    using pauseguard::PauseGuardProcessor;

    void setParam (PauseGuardProcessor& p, const char* id, float plain)
    {
        auto* param = p.getState().getParameter (id);
        param->setValueNotifyingHost (param->convertTo0to1 (plain));
    }

    struct RunResult
    {
        int latency = 0;
        pg::EngineCounters counters;
        pg::DurationHistogram::Snapshot pauses, lateness, processing;
    };

    // A simulated audio callback: one block every block period, on its own thread, as a host would.
    RunResult runPaced (PauseGuardProcessor& p, double seconds, int block, const std::function<void (double)>& everySecond)
    {
        const double rate = p.getSampleRate();
        std::thread audio ([&] {
            juce::AudioBuffer<float> buffer (2, block);
            juce::MidiBuffer midi;
            const auto start = std::chrono::steady_clock::now();
            const auto blocks = static_cast<long> (seconds * rate / block);
            for (long b = 0; b < blocks; ++b)
            {
                std::this_thread::sleep_until (start + std::chrono::duration<double> (static_cast<double> (b) * block / rate));
                buffer.clear();
                p.processBlock (buffer, midi);
            }
        });
        for (int s = 1; s <= static_cast<int> (seconds); ++s)
        {
            std::this_thread::sleep_for (std::chrono::seconds (1));
            p.applyPendingLatencyChange(); // the message thread's job
            if (everySecond)
                everySecond (s);
        }
        audio.join();
        RunResult r;
        r.latency = p.getLatencySamples();
        r.counters = p.getEngine().getCounters();
        r.pauses = p.getEngine().getPauseHistogram();
        r.lateness = p.getEngine().getLatenessHistogram();
        r.processing = p.getEngine().getProcessingHistogram();
        return r;
    }

    void printRun (const char* title, const RunResult& r, double rate)
    {
        std::printf ("  %-34s latency %5d samples (%6.2f ms)   dropouts %llu\n", title, r.latency, 1000.0 * r.latency / rate,
                     static_cast<unsigned long long> (r.counters.dropoutEvents));
        std::printf ("  %-34s worker chunk p50 %.2f ms, p99 %.2f ms, max %.2f ms;  forced collections max %.2f ms\n", "",
                     r.processing.percentile (0.5) * 1000.0, r.processing.percentile (0.99) * 1000.0,
                     r.processing.maxSeconds * 1000.0, r.pauses.maxSeconds * 1000.0);
        std::printf ("  %-34s heap %.1f MB, lateness max %.2f ms\n", "", static_cast<double> (r.counters.heapBytes) / 1048576.0,
                     r.lateness.maxSeconds * 1000.0);
    }

    int demo (double seconds)
    {
        const double rate = 48000.0;
        const int block = 128;
        std::printf ("PauseGuard headless demo: the built-in Lua saturator on a worker thread, a simulated\n"
                     "audio callback at %.0f Hz / %d samples, a demo arpeggio as input.\n\n", rate, block);

        PauseGuardProcessor p;
        p.setDemoSignalEnabled (true);
        p.setRateAndBufferSizeDetails (rate, block); // what a host does before prepareToPlay
        p.prepareToPlay (rate, block);
        std::printf ("1. Default workload (16 KB garbage per block, 4 MB live heap), fixed 20 ms latency\n");
        printRun ("", runPaced (p, seconds, block, {}), rate);

        std::printf ("\n2. Heavy workload (256 KB garbage per block, 64 MB live heap), auto latency\n");
        setParam (p, pauseguard::ParamIDs::garbageKb, 256.0f);
        setParam (p, pauseguard::ParamIDs::liveHeapMb, 64.0f);
        setParam (p, pauseguard::ParamIDs::autoLatency, 1.0f);
        p.prepareToPlay (rate, block); // auto profiles the script and its collector here
        const auto profile = p.getEngine().getProfile();
        std::printf ("   profile: worst full collection %.2f ms, worst chunk %.2f ms, heap %.1f MB (%.0f ms)\n",
                     profile.worstCollectionSeconds * 1000.0, profile.worstChunkSeconds * 1000.0,
                     static_cast<double> (profile.heapBytes) / 1048576.0, profile.elapsedSeconds * 1000.0);
        int forced = 0;
        const auto heavy = runPaced (p, seconds, block, [&] (double) {
            p.getEngine().requestFullCollection(); // a full collection every second, on the worker
            ++forced;
        });
        printRun ("", heavy, rate);
        std::printf ("   %d forced full collections while the audio ran: %s\n", forced,
                     heavy.counters.dropoutEvents == 0 ? "all hidden by the latency" : "some reached the output");
        return 0;
    }

    struct Options
    {
        double seconds = 4.0, rate = 48000.0, garbageKb = -1.0, liveHeapMb = -1.0;
        int block = 128;
    };

    int profile (const Options& o)
    {
        PauseGuardProcessor p;
        if (o.garbageKb >= 0.0)
            setParam (p, pauseguard::ParamIDs::garbageKb, static_cast<float> (o.garbageKb));
        if (o.liveHeapMb >= 0.0)
            setParam (p, pauseguard::ParamIDs::liveHeapMb, static_cast<float> (o.liveHeapMb));
        setParam (p, pauseguard::ParamIDs::autoLatency, 1.0f);
        p.setRateAndBufferSizeDetails (o.rate, o.block);
        p.prepareToPlay (o.rate, o.block);
        const auto r = p.getEngine().getProfile();
        std::printf ("workload: %.0f KB garbage per block, %.1f MB live heap; %.0f Hz, block %d\n",
                     p.getParams().garbageKb.get(), p.getParams().liveHeapMb.get(), o.rate, o.block);
        std::printf ("heap after profiling: %.1f MB\n", static_cast<double> (r.heapBytes) / 1048576.0);
        std::printf ("worst forced full collection: %.2f ms\n", r.worstCollectionSeconds * 1000.0);
        std::printf ("worst chunk with the automatic collector: %.2f ms\n", r.worstChunkSeconds * 1000.0);
        std::printf ("profile took: %.0f ms\n", r.elapsedSeconds * 1000.0);
        std::printf ("auto latency: %d samples (%.2f ms)\n", r.latencySamples, 1000.0 * r.latencySamples / o.rate);
        return 0;
    }

    int usage()
    {
        std::fprintf (stderr, "usage: pauseguard demo [--seconds S]\n"
                              "       pauseguard profile [--garbage-kb K] [--live-heap-mb M] [--rate HZ] [--block N]\n");
        return 2;
    }
} // namespace

int main (int argc, char* argv[])
{
    juce::ScopedJuceInitialiser_GUI juce;
    if (argc < 2)
        return usage();
    const juce::String command (argv[1]);
    Options o;
    for (int i = 2; i < argc; ++i)
    {
        const juce::String a (argv[i]);
        const bool hasValue = i + 1 < argc;
        if (! hasValue || ! a.startsWith ("--"))
        {
            std::fprintf (stderr, "pauseguard: unknown or incomplete option '%s'\n", argv[i]);
            return usage();
        }
        const juce::String v (argv[++i]);
        if (! v.containsOnly ("0123456789.") || v.isEmpty())
        {
            std::fprintf (stderr, "pauseguard: %s needs a number, not '%s'\n", a.toRawUTF8(), v.toRawUTF8());
            return 2;
        }
        if (a == "--seconds")
            o.seconds = v.getDoubleValue();
        else if (a == "--rate")
            o.rate = v.getDoubleValue();
        else if (a == "--block")
            o.block = v.getIntValue();
        else if (a == "--garbage-kb")
            o.garbageKb = v.getDoubleValue();
        else if (a == "--live-heap-mb")
            o.liveHeapMb = v.getDoubleValue();
        else
        {
            std::fprintf (stderr, "pauseguard: unknown option '%s'\n", a.toRawUTF8());
            return usage();
        }
    }
    if (o.seconds < 1.0 || o.seconds > 3600.0 || o.rate < 8000.0 || o.rate > 384000.0 || o.block < 1 || o.block > 8192)
    {
        std::fprintf (stderr, "pauseguard: out of range (seconds 1..3600, rate 8000..384000, block 1..8192)\n");
        return 2;
    }
    if (command == "demo")
        return demo (o.seconds);
    if (command == "profile")
        return profile (o);
    std::fprintf (stderr, "pauseguard: unknown command '%s'\n", argv[1]);
    return usage();
}
