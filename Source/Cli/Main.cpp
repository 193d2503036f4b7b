// pauseguard: drives the real PauseGuardProcessor headless. See usage() for the commands.

#include "EngineTesting.h"
#include "LuaDsp.h"
#include "WorkerPool.h"
#include "Clock.h"
#include "Trace/ChromeTrace.h"
#include "Trace/RunFigures.h"
#include "PluginProcessor.h"
#include "ShellProgram.h"

#include <juce_audio_formats/juce_audio_formats.h>
#include <juce_events/juce_events.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <unistd.h>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace
{
    using pauseguard::PauseGuardProcessor;
    namespace ids = pauseguard::ParamIDs;
    using Clock = std::chrono::steady_clock;

    const char* const usageText =
        "usage: pauseguard <command> [options]\n"
        "commands:\n"
        "  demo                     what the plugin does, shown without a DAW or a display\n"
        "  render IN.wav OUT.wav    process a file (offline, or paced with --realtime); OUT is\n"
        "                           aligned with IN unless --keep-latency\n"
        "  soak                     a real-time-paced run with a simulated audio callback\n"
        "                           (--instances N: N plugins called in turn by that callback)\n"
        "  profile                  profile the script and its collector; print the auto latency\n"
        "  check-script FILE.lua    compile a script and run a few blocks within the budgets:\n"
        "                           prints ok (exit 0) or each problem as FILE:LINE: message (exit 2)\n"
        "  bench                    the audio thread's cost per block against memcpy, and the\n"
        "                           dynamic schedule's collector overhead against Lua's automatic one\n"
        "options:\n"
        "  --strategy dynamic|deterministic   --rate HZ   --block N (1-8192; render: up to 1048576)   --seconds S\n"
        "  --latency-ms X|auto   --garbage-kb K   --live-heap-mb M   --script FILE   --json\n"
        "  --process \"COMMAND ARGS\"  a DSP program in its own process, in place of the script\n"
        "                           (soak, render, profile; --json adds its runtime's own figures)\n"
        "  --param ID=VALUE         a plugin parameter, as its knob shows it (repeatable; e.g.\n"
        "                           --param macro1=0.25 --param output_db=-6)\n"
        "  --instances N (soak)   --workers N (the shared worker pool's threads; default: cores - 1, at least 2)\n"
        "  --realtime --report FILE.json --keep-latency (render)   --audio-only --rounds N (bench)\n"
        "  --trace FILE.json (soak) the engine's trace, for Perfetto or chrome://tracing: each pool\n"
        "                           thread's chunks and naps, each dropout and its cause\n"
        "  --trace-seconds N        how much of the run the trace keeps (default 10: the last N s)\n";

    int usage (const char* problem = nullptr)
    {
        if (problem != nullptr)
            std::fprintf (stderr, "pauseguard: %s\n", problem);
        std::fputs (usageText, stderr);
        return 2;
    }

    struct Options
    {
        juce::String command, strategy = "deterministic", latency = "20", script, report, process, trace;
        juce::StringArray files, params; // params: ID=VALUE
        double seconds = 10.0, rate = 48000.0, garbageKb = -1.0, liveHeapMb = -1.0, traceSeconds = 10.0;
        int block = 128, instances = 1, workers = 0, rounds = 15;
        int preparedBlock = 0; // the maximum block announced to prepareToPlay (0: block)
        bool json = false, realtime = false, keepLatency = false, secondsGiven = false, audioOnly = false;
    };

    // Parses argv into o; returns an error message, or an empty string.
    juce::String parse (int argc, char* argv[], Options& o)
    {
        if (argc < 2)
            return "no command";
        o.command = argv[1];
        auto number = [] (const juce::String& flag, const juce::String& v, double lo, double hi, double& out) -> juce::String {
            if (v.isEmpty() || ! v.containsOnly ("0123456789.") || v.indexOfChar ('.') != v.lastIndexOfChar ('.'))
                return flag + " needs a number, not '" + v + "'";
            out = v.getDoubleValue();
            if (out < lo || out > hi)
                return flag + " must be between " + juce::String (lo) + " and " + juce::String (hi);
            return {};
        };
        for (int i = 2; i < argc; ++i)
        {
            const juce::String a (argv[i]);
            if (! a.startsWith ("--"))
            {
                o.files.add (a);
                continue;
            }
            if (a == "--json" || a == "--realtime" || a == "--keep-latency" || a == "--audio-only")
            {
                (a == "--json" ? o.json : (a == "--realtime" ? o.realtime : (a == "--audio-only" ? o.audioOnly : o.keepLatency))) = true;
                continue;
            }
            if (i + 1 >= argc)
                return a + " needs a value";
            const juce::String v (argv[++i]);
            juce::String error;
            double d = 0.0;
            if (a == "--strategy")
            {
                if (v != "dynamic" && v != "deterministic")
                    return "--strategy is dynamic or deterministic, not '" + v + "'";
                o.strategy = v;
            }
            else if (a == "--latency-ms")
            {
                if (v != "auto" && (error = number (a, v, 1.0, 200.0, d)).isNotEmpty())
                    return error;
                o.latency = v;
            }
            else if (a == "--script")
                o.script = v;
            else if (a == "--process")
                o.process = v;
            else if (a == "--param")
            {
                if (! v.containsChar ('='))
                    return "--param is ID=VALUE, not '" + v + "'";
                o.params.add (v);
            }
            else if (a == "--report")
                o.report = v;
            else if (a == "--trace")
                o.trace = v;
            else if (a == "--trace-seconds")
                error = number (a, v, 1.0, 600.0, o.traceSeconds);
            else if (a == "--rate")
                error = number (a, v, 8000.0, 384000.0, o.rate);
            else if (a == "--block")
            {
                // A render may send any block; a real-time host sends at most 8192 frames.
                error = number (a, v, 1.0, o.command == "render" ? 1048576.0 : 8192.0, d);
                o.block = static_cast<int> (d);
            }
            else if (a == "--seconds")
            {
                error = number (a, v, 0.5, 86400.0, o.seconds);
                o.secondsGiven = true;
            }
            else if (a == "--instances" || a == "--workers" || a == "--rounds")
            {
                error = number (a, v, 1.0, a == "--instances" ? 256.0 : (a == "--workers" ? 64.0 : 1000.0), d);
                (a == "--instances" ? o.instances : (a == "--workers" ? o.workers : o.rounds)) = static_cast<int> (d);
            }
            else if (a == "--garbage-kb")
                error = number (a, v, 0.0, 1024.0, o.garbageKb);
            else if (a == "--live-heap-mb")
                error = number (a, v, 0.0, 256.0, o.liveHeapMb);
            else
                return "unknown option '" + a + "'";
            if (error.isNotEmpty())
                return error;
        }
        return {};
    }

    void setParam (PauseGuardProcessor& p, const char* id, float plain)
    {
        auto* param = p.getState().getParameter (id);
        param->setValueNotifyingHost (param->convertTo0to1 (plain));
    }

    // Configures and prepares p as a host would. Returns an error message, or an empty string.
    juce::String setUp (PauseGuardProcessor& p, const Options& o, int channels = 2)
    {
        if (o.script.isNotEmpty() && o.process.isNotEmpty())
            return "--script and --process each choose the DSP: give one";
        if (o.process.isNotEmpty())
        {
            // The user's own command line, found as their shell would: no allow-list needed.
            const auto resolved = pauseguard::resolveProgram (pauseguard::withProgramFoundAsShellWould (o.process));
            if (! resolved.ok())
                return "cannot run '" + o.process + "': " + resolved.error;
            p.runProgramAsShown (resolved.command, false);
        }
        if (o.script.isNotEmpty())
        {
            const juce::File f = juce::File::getCurrentWorkingDirectory().getChildFile (o.script);
            if (! f.existsAsFile())
                return "cannot read the script '" + o.script + "': no such file";
            p.setScript (f.loadFileAsString(), f.getFileName());
        }
        if (o.garbageKb >= 0.0)
            setParam (p, ids::garbageKb, static_cast<float> (o.garbageKb));
        if (o.liveHeapMb >= 0.0)
            setParam (p, ids::liveHeapMb, static_cast<float> (o.liveHeapMb));
        for (const auto& assignment : o.params)
        {
            const auto id = assignment.upToFirstOccurrenceOf ("=", false, false).trim();
            if (p.getState().getParameter (id) == nullptr)
                return "--param: the plugin has no parameter '" + id + "'";
            setParam (p, id.toRawUTF8(), assignment.fromFirstOccurrenceOf ("=", false, false).getFloatValue());
        }
        setParam (p, ids::strategy, o.strategy == "dynamic" ? 1.0f : 0.0f);
        setParam (p, ids::autoLatency, o.latency == "auto" ? 1.0f : 0.0f);
        if (o.latency != "auto")
            setParam (p, ids::latencyMs, static_cast<float> (o.latency.getDoubleValue()));

        const auto set = channels == 1 ? juce::AudioChannelSet::mono() : juce::AudioChannelSet::stereo();
        juce::AudioProcessor::BusesLayout layout;
        layout.inputBuses.add (set);
        layout.outputBuses.add (set);
        p.setBusesLayout (layout);
        const int announced = o.preparedBlock > 0 ? o.preparedBlock : o.block;
        p.setRateAndBufferSizeDetails (o.rate, announced);
        p.prepareToPlay (o.rate, announced);
        const auto error = p.getEngine().getScriptError();
        if (! error.empty())
            std::fprintf (stderr, "pauseguard: the %s stopped: %s (the output is the delayed dry signal)\n",
                          o.process.isNotEmpty() ? "DSP program" : "script", error.c_str());
        // Auto latency: the profile runs in the background; the command line starts once it is in.
        if ((o.latency == "auto" || o.strategy == "dynamic") && error.empty())
        {
            if (! p.getEngine().waitForProfile (30.0))
                std::fprintf (stderr, "pauseguard: the profile did not finish; the latency stays at %d samples\n", p.getLatencySamples());
            p.applyPendingLatencyChange();
        }
        // In real time, prepare has the loader build the script's live heap before the worker
        // plays it: the command starts once it is built, as a user presses play once a session
        // has loaded.
        if (! p.getEngine().waitUntilWarm (30.0))
            std::fprintf (stderr, "pauseguard: the script's warm-up did not finish in 30 s\n");
        if (const auto note = p.getLatencyNote(); note.isNotEmpty())
            std::fprintf (stderr, "pauseguard: latency %s\n", note.toRawUTF8());
        return {};
    }

    // ---- a run's summary ---------------------------------------------------------------------

    struct Summary
    {
        juce::String strategy;
        double rate = 0.0, seconds = 0.0;
        int block = 0, latency = 0, maxLatency = 0, latencyChanges = 0;
        uint64_t dropouts = 0, dropoutsAfterWarmup = 0, deadlineMisses = 0;
        pg::EngineCounters counters;
        pg::DurationHistogram::Snapshot pauses, lateness, processing;
    };

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

    void printSummary (const Summary& s, bool json, juce::DynamicObject::Ptr extra = nullptr)
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

    // ---- the simulated audio callback --------------------------------------------------------

    void raiseToAudioPriority()
    {
#if defined(__linux__)
        sched_param param {};
        param.sched_priority = std::min (sched_get_priority_max (SCHED_FIFO), sched_get_priority_min (SCHED_FIFO) + 20);
        pthread_setschedparam (pthread_self(), SCHED_FIFO, &param); // quietly stays normal where not allowed
#endif
    }

    // What the shared worker pool did during a paced run.
    struct PoolFigures
    {
        pg::DurationHistogram::Snapshot callback, wakeLate; // the simulated callback's own figures
        // A bare engine (a script that does nothing) on the same pool and callback: its response
        // times are what the machine itself adds to a block. floor = block + their p99.9.
        pg::DurationHistogram::Snapshot bareResponse;
        int floorSamples = 0;
        int threads = 0;
        double meanLoadPercent = 0.0, maxLoadPercent = 0.0; // summed over the threads: 100 = one core
        pg::trace::CauseCounts causes; // every dropout of the processors, by cause (from the trace)
        // From the trace: an instance's mean pool CPU (100 = a core), the longest time no pool
        // thread ran, the longest chunk, and the latency physics allows: one block + the worst
        // stall / (1 − load) (the queue it leaves drains at 1 − load) + the longest chunk.
        double instanceCpuPercent = 0.0, worstStallSeconds = 0.0, largestChunkSeconds = 0.0;
        int physicalFloorSamples = 0;
        int capacityInstances() const { return instanceCpuPercent > 0.0 ? static_cast<int> (100.0 * threads / instanceCpuPercent) : 0; }
        std::vector<pg::trace::DropoutCause> lastCauses; // those still in the trace at the end
    };

    // Runs the processors at real-time pace for `seconds`, as a host's audio callback would: one
    // high-priority thread calls each in turn, every block period. The calling thread plays the
    // message thread (latency changes, progress). `input` feeds every processor; `output` takes
    // the first one's. Returns a summary per processor.
    std::vector<Summary> runPaced (const std::vector<PauseGuardProcessor*>& ps, const Options& o, double seconds,
                                   const juce::AudioBuffer<float>* input, bool progress,
                                   juce::AudioBuffer<float>* output = nullptr, PoolFigures* poolFigures = nullptr)
    {
        const double rate = o.rate;
        const int block = o.block;
        const auto blocks = static_cast<long> (seconds * rate / block);
        std::atomic<long> done { 0 };
        std::atomic<uint64_t> misses { 0 };
        pg::DurationHistogram callbackTimes, wakeLateness;
        pg::LatencyEngine bare;
        if (poolFigures != nullptr)
        {
            pg::EngineSettings es;
            es.sampleRate = rate;
            es.maxBlockSize = block;
            es.numChannels = 2;
            bare.prepare (es, "function process(ch, n, p) end", "bare.lua", ps[0]->getLatencySamples());
            bare.waitUntilWarm (10.0);
        }
        const auto hostLane = pg::trace::Recorder::global().newLane ("host callback", 2.0 * rate / block);
        std::vector<int> traced;
        for (auto* p : ps)
            traced.push_back (p->getEngine().getTraceInstance());
        pg::trace::DropoutTally tally (traced);
        pg::trace::RunFigures runFigures;
        auto advanceTrace = [&] (int64_t upTo) { // the dropouts' causes and the machine's figures so far
            const auto snapshot = pg::trace::Recorder::global().snapshot (tally.windowFrom(), upTo);
            runFigures.add (snapshot, tally.attributedUpTo(), upTo);
            tally.advance (snapshot, upTo);
        };
        std::thread audio ([&] {
            juce::AudioBuffer<float> bareBuffer (2, block);
            raiseToAudioPriority();
            std::vector<juce::AudioBuffer<float>> buffers (ps.size(), juce::AudioBuffer<float> (2, block));
            juce::MidiBuffer midi;
            auto start = Clock::now();
            const auto period = std::chrono::duration<double> (block / rate);
            const auto periodTicks = std::chrono::duration_cast<Clock::duration> (period);
            for (long b = 0; b < blocks; ++b)
            {
                auto due = start + std::chrono::duration_cast<Clock::duration> (period * static_cast<double> (b));
                std::this_thread::sleep_until (due);
                const auto woke = Clock::now();
                wakeLateness.add (std::chrono::duration<double> (woke - due).count());
                // Woken a whole period late or more (the machine stalled): an xrun, as a device
                // reports it. Like a device, the callback then resynchronises to the clock rather
                // than calling back-to-back to catch up, which would give the worker a fraction of L.
                const bool xrun = woke > due + periodTicks;
                if (xrun)
                {
                    misses.fetch_add (1, std::memory_order_relaxed);
                    start += woke - due;
                    due = woke;
                }
                const long pos = b * block;
                for (size_t k = 0; k < ps.size(); ++k)
                {
                    auto& buffer = buffers[k];
                    if (input != nullptr)
                        for (int c = 0; c < 2; ++c)
                            buffer.copyFrom (c, 0, *input, std::min (c, input->getNumChannels() - 1), static_cast<int> (pos % input->getNumSamples()),
                                             std::min (block, input->getNumSamples() - static_cast<int> (pos % input->getNumSamples())));
                    else
                        buffer.clear();
                    ps[k]->processBlock (buffer, midi);
                }
                if (bare.isPrepared())
                {
                    bareBuffer.clear();
                    bare.processBlock (bareBuffer.getArrayOfWritePointers(), 2, block);
                }
                if (output != nullptr && pos + block <= output->getNumSamples())
                    for (int c = 0; c < output->getNumChannels(); ++c)
                        output->copyFrom (c, static_cast<int> (pos), buffers[0], std::min (c, 1), 0, block);
                // A miss: the callback returned after its period had ended (the device would underrun).
                callbackTimes.add (std::chrono::duration<double> (Clock::now() - woke).count());
                if (hostLane != nullptr)
                {
                    pg::trace::Event e;
                    e.kind = pg::trace::Kind::callback;
                    e.due = std::chrono::duration_cast<std::chrono::nanoseconds> (due.time_since_epoch()).count();
                    e.start = std::chrono::duration_cast<std::chrono::nanoseconds> (woke.time_since_epoch()).count();
                    e.end = pg::nowNanos();
                    hostLane->push (e);
                }
                if (! xrun && Clock::now() > due + periodTicks)
                    misses.fetch_add (1, std::memory_order_relaxed);
                done.store (b + 1, std::memory_order_relaxed);
            }
        });

        const bool tty = progress && isatty (STDERR_FILENO) != 0;
        std::vector<uint64_t> dropoutsAtWarmup (ps.size(), 0);
        std::vector<double> warmupEnds (ps.size(), 2.0), firstGrowthAt (ps.size(), -1.0);
        const auto pool = pg::WorkerPool::shared();
        double loadSum = 0.0, loadMax = 0.0;
        int loadSamples = 0;
        const auto start = Clock::now();
        auto nextLoadSample = start + std::chrono::milliseconds (600);
        while (done.load() < blocks)
        {
            std::this_thread::sleep_for (std::chrono::milliseconds (50));
            const double t = std::chrono::duration<double> (Clock::now() - start).count();
            uint64_t dropouts = 0;
            for (size_t k = 0; k < ps.size(); ++k)
            {
                auto& p = *ps[k];
                if (p.applyPendingLatencyChange()) // the message thread's job
                {
                    const auto history = p.getLatencyHistory();
                    if (firstGrowthAt[k] < 0.0 && ! history.empty() && history.back().reason == pauseguard::LatencyChange::Reason::adaptiveGrowth)
                    {
                        firstGrowthAt[k] = t;
                        warmupEnds[k] = std::max (warmupEnds[k], t + 1.0);
                    }
                }
                const auto d = p.getEngine().getCounters().dropoutEvents;
                if (t <= warmupEnds[k])
                    dropoutsAtWarmup[k] = d;
                dropouts += d;
            }
            if (Clock::now() >= nextLoadSample) // a new ~0.5 s window of the pool's load; the dropouts' causes so far
            {
                if (pg::trace::Recorder::global().isEnabled())
                    advanceTrace (pg::nowNanos() - 300'000'000);
                const double load = pool->loadPercent();
                loadSum += load;
                loadMax = std::max (loadMax, load);
                ++loadSamples;
                nextLoadSample += std::chrono::milliseconds (500);
            }
            if (tty)
            {
                const double frac = static_cast<double> (done.load()) / static_cast<double> (blocks);
                const int width = 40, filled = static_cast<int> (frac * width);
                std::fprintf (stderr, "\r[%s%s] %5.1f%%  L %d  dropouts %llu ", std::string (static_cast<size_t> (filled), '#').c_str(),
                              std::string (static_cast<size_t> (width - filled), '.').c_str(), frac * 100.0, ps[0]->getLatencySamples(),
                              static_cast<unsigned long long> (dropouts));
                std::fflush (stderr);
            }
        }
        audio.join();
        if (tty)
            std::fprintf (stderr, "\n");
        if (poolFigures != nullptr)
        {
            poolFigures->threads = pool->threadCount();
            poolFigures->callback = callbackTimes.snapshot();
            poolFigures->wakeLate = wakeLateness.snapshot();
            poolFigures->meanLoadPercent = loadSamples > 0 ? loadSum / loadSamples : 0.0;
            poolFigures->maxLoadPercent = loadMax;
            poolFigures->bareResponse = bare.getResponseHistogram();
            poolFigures->floorSamples = block + static_cast<int> (std::ceil (poolFigures->bareResponse.percentile (0.999) * rate));
            if (pg::trace::Recorder::global().isEnabled())
            {
                std::this_thread::sleep_for (std::chrono::milliseconds (50)); // the last chunks' events
                advanceTrace (INT64_MAX);
                poolFigures->causes = tally.counts();
                double cpu = 0.0;
                for (const int i : traced)
                    cpu += static_cast<double> (runFigures.cpuNanos (i)) * 1.0e-9;
                poolFigures->instanceCpuPercent = 100.0 * cpu / static_cast<double> (traced.size()) / seconds;
                poolFigures->worstStallSeconds = static_cast<double> (runFigures.worstStallNanos()) * 1.0e-9;
                poolFigures->largestChunkSeconds = static_cast<double> (runFigures.largestChunkNanos()) * 1.0e-9;
                const double load = std::min (0.95, poolFigures->meanLoadPercent / (100.0 * poolFigures->threads));
                poolFigures->physicalFloorSamples = block + static_cast<int> (std::ceil (
                                                                (poolFigures->worstStallSeconds / (1.0 - load) + poolFigures->largestChunkSeconds) * rate));
            }
        }
        std::vector<Summary> summaries;
        for (size_t k = 0; k < ps.size(); ++k)
        {
            auto s = collect (*ps[k], o, seconds);
            s.deadlineMisses = misses.load();
            s.dropoutsAfterWarmup = s.dropouts - std::min (s.dropouts, dropoutsAtWarmup[k]);
            summaries.push_back (s);
        }
        return summaries;
    }

    Summary runPaced (PauseGuardProcessor& p, const Options& o, double seconds, const juce::AudioBuffer<float>* input, bool progress,
                      juce::AudioBuffer<float>* output = nullptr)
    {
        return runPaced (std::vector<PauseGuardProcessor*> { &p }, o, seconds, input, progress, output).front();
    }

    // ---- commands ----------------------------------------------------------------------------

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
    }

    void printMachineFigures (const PoolFigures& pool)
    {
        std::printf ("  machine      an instance %.2f %% of a core: %d instances fill the pool; worst stall %.2f ms, largest chunk %.2f ms;"
                     " physical floor %d samples\n",
                     pool.instanceCpuPercent, pool.capacityInstances(), pool.worstStallSeconds * 1000.0, pool.largestChunkSeconds * 1000.0,
                     pool.physicalFloorSamples);
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

    // The trace's last seconds as Chrome trace-event JSON, each dropout named after its cause.
    bool exportTrace (const juce::String& path)
    {
        const auto snapshot = pg::trace::Recorder::global().snapshot();
        if (! pg::trace::writeChromeJson (path.toStdString(), snapshot, pg::trace::attributeDropouts (snapshot)))
        {
            std::fprintf (stderr, "pauseguard: cannot write the trace to %s\n", path.toRawUTF8());
            return false;
        }
        std::fprintf (stderr, "trace: %s (%zu events; open it in ui.perfetto.dev)\n", path.toRawUTF8(), snapshot.events.size());
        return true;
    }

    int soak (const Options& o)
    {
        // Traced from the start: every dropout gets its cause (the instances' lanes are made in prepare).
        pg::trace::Recorder::global().enable (o.traceSeconds);
        std::vector<std::unique_ptr<PauseGuardProcessor>> owned;
        std::vector<PauseGuardProcessor*> ps;
        for (int i = 0; i < o.instances; ++i)
        {
            owned.push_back (std::make_unique<PauseGuardProcessor>());
            if (const auto e = setUp (*owned.back(), o); e.isNotEmpty())
                return usage (e.toRawUTF8());
            owned.back()->setDemoSignalEnabled (true); // the demo arpeggio as input
            ps.push_back (owned.back().get());
        }
        PoolFigures pool;
        const auto all = runPaced (ps, o, o.seconds, nullptr, ! o.json, nullptr, &pool);
        if (o.instances == 1)
        {
            juce::DynamicObject::Ptr extra = new juce::DynamicObject();
            extra->setProperty ("workers", pool.threads);
            extra->setProperty ("worker_load_percent_mean", pool.meanLoadPercent);
            extra->setProperty ("floor_samples", pool.floorSamples);
            extra->setProperty ("dropouts_by_cause", causesJson (pool.causes, all.front().dropouts));
            setMachineFigures (*extra, pool);
            printSummary (all.front(), o.json, extra);
            if (! o.json)
            {
                printCauses (pool.causes, all.front().dropouts);
                printMachineFigures (pool);
            }
        }
        else
            printInstances (all, pool, o.json);
        return o.trace.isEmpty() || exportTrace (o.trace) ? 0 : 1;
    }

    int profile (const Options& o)
    {
        PauseGuardProcessor p;
        auto withAuto = o;
        withAuto.latency = "auto";
        if (const auto e = setUp (p, withAuto); e.isNotEmpty())
            return usage (e.toRawUTF8());
        const auto r = p.getEngine().getProfile();
        if (o.json)
        {
            juce::DynamicObject::Ptr j = new juce::DynamicObject();
            j->setProperty ("sample_rate", o.rate);
            j->setProperty ("block", o.block);
            j->setProperty ("heap_mb", static_cast<double> (r.heapBytes) / 1048576.0);
            j->setProperty ("worst_full_collection_ms", r.worstCollectionSeconds * 1000.0);
            j->setProperty ("worst_chunk_ms", r.worstChunkSeconds * 1000.0);
            j->setProperty ("worst_step_ms", r.worstStepSeconds * 1000.0);
            j->setProperty ("profile_ms", r.elapsedSeconds * 1000.0);
            j->setProperty ("auto_latency_samples", r.latencySamples);
            j->setProperty ("dynamic_start_latency_samples", r.dynamicLatencySamples);
            if (r.runtime.reported)
                j->setProperty ("runtime", runtimeVar (r.runtime));
            std::printf ("%s\n", juce::JSON::toString (juce::var (j.get()), true).toRawUTF8());
            return 0;
        }
        if (o.process.isNotEmpty())
            std::printf ("DSP program %s; %.0f Hz, block %d\n", o.process.toRawUTF8(), o.rate, o.block);
        else
            std::printf ("script %s; %.0f KB garbage per block, %.1f MB live heap; %.0f Hz, block %d\n", p.getScriptName().toRawUTF8(),
                         p.getParams().garbageKb.get(), p.getParams().liveHeapMb.get(), o.rate, o.block);
        std::printf ("heap after profiling:                      %.1f MB\n", static_cast<double> (r.heapBytes) / 1048576.0);
        std::printf ("worst forced full collection:              %.2f ms\n", r.worstCollectionSeconds * 1000.0);
        std::printf ("worst chunk with the automatic collector:  %.2f ms\n", r.worstChunkSeconds * 1000.0);
        std::printf ("worst basic step (collector stopped):      %.2f ms\n", r.worstStepSeconds * 1000.0);
        std::printf ("profile took:                              %.0f ms\n", r.elapsedSeconds * 1000.0);
        std::printf ("auto latency (deterministic):              %d samples (%.2f ms)\n", r.latencySamples, 1000.0 * r.latencySamples / o.rate);
        std::printf ("starting latency (dynamic):                %d samples (%.2f ms)\n", r.dynamicLatencySamples,
                     1000.0 * r.dynamicLatencySamples / o.rate);
        if (r.runtime.reported)
            std::printf ("the runtime's own GC pauses:               p50 %.3f, p99 %.3f, max %.3f ms (%llu pauses, %llu cycles)\n",
                         r.runtime.pauseP50Seconds * 1e3, r.runtime.pauseP99Seconds * 1e3, r.runtime.pauseMaxSeconds * 1e3,
                         static_cast<unsigned long long> (r.runtime.pauseCount), static_cast<unsigned long long> (r.runtime.collections));
        return 0;
    }

    int render (const Options& o)
    {
        if (o.files.size() != 2)
            return usage ("render needs IN.wav and OUT.wav");
        const auto cwd = juce::File::getCurrentWorkingDirectory();
        const auto inFile = cwd.getChildFile (o.files[0]), outFile = cwd.getChildFile (o.files[1]);
        juce::AudioFormatManager formats;
        formats.registerBasicFormats();
        std::unique_ptr<juce::AudioFormatReader> reader (formats.createReaderFor (inFile));
        if (reader == nullptr)
        {
            std::fprintf (stderr, "pauseguard: cannot read '%s': %s\n", o.files[0].toRawUTF8(),
                          inFile.existsAsFile() ? "not an audio file this build reads (WAV, AIFF)" : "no such file");
            return 2;
        }
        const int channels = juce::jlimit (1, 2, static_cast<int> (reader->numChannels));
        const auto frames = static_cast<int> (reader->lengthInSamples);
        juce::AudioBuffer<float> audio (channels, frames);
        reader->read (&audio, 0, frames, 0, true, channels > 1);

        auto opts = o;
        opts.rate = reader->sampleRate;
        // Offline, the render announces playback's block (the default, or a smaller --block) and
        // sends --block: it waits for its worker, so it renders at the latency playback reports.
        if (! opts.realtime)
            opts.preparedBlock = std::min (opts.block, Options {}.block);
        PauseGuardProcessor p;
        p.setNonRealtime (! opts.realtime); // offline, as a DAW's export: the processor waits for its worker
        if (const auto e = setUp (p, opts, channels); e.isNotEmpty())
            return usage (e.toRawUTF8());
        const int latencyAtStart = p.getLatencySamples();
        const int tail = opts.keepLatency ? 0 : latencyAtStart;
        juce::AudioBuffer<float> padded (channels, frames + tail);
        padded.clear();
        for (int c = 0; c < channels; ++c)
            padded.copyFrom (c, 0, audio, c, 0, frames);

        Summary s;
        if (opts.realtime)
        {
            juce::AudioBuffer<float> out (channels, padded.getNumSamples());
            out.clear();
            s = runPaced (p, opts, static_cast<double> (padded.getNumSamples()) / opts.rate, &padded, ! opts.json, &out);
            padded.makeCopyOf (out);
        }
        else
        {
            // Offline: the processor waits for its worker in each block (isNonRealtime), as in a
            // DAW's export, so nothing drops out.
            juce::MidiBuffer midi;
            for (int pos = 0; pos < padded.getNumSamples(); pos += opts.block)
            {
                const int n = std::min (opts.block, padded.getNumSamples() - pos);
                juce::AudioBuffer<float> view (padded.getArrayOfWritePointers(), channels, pos, n);
                p.processBlock (view, midi);
            }
            // What a render could not process, with its time range (and any other message).
            for (pg::ConsoleLine line; p.getEngine().popConsoleLine (line);)
                if (line.kind == pg::ConsoleLine::error)
                    std::fprintf (stderr, "pauseguard: %s\n", line.text);
            s = collect (p, opts, static_cast<double> (frames) / opts.rate);
        }
        if (p.getLatencySamples() != latencyAtStart && ! opts.keepLatency)
            std::fprintf (stderr, "pauseguard: the latency changed during the render (%d -> %d); aligned to the first\n",
                          latencyAtStart, p.getLatencySamples());

        outFile.deleteFile();
        std::unique_ptr<juce::OutputStream> stream (outFile.createOutputStream().release());
        juce::WavAudioFormat wav;
        std::unique_ptr<juce::AudioFormatWriter> writer (stream != nullptr ? wav.createWriterFor (stream.get(), opts.rate, static_cast<unsigned> (channels), 24, {}, 0) : nullptr);
        if (writer == nullptr)
        {
            std::fprintf (stderr, "pauseguard: cannot write '%s'\n", o.files[1].toRawUTF8());
            return 2;
        }
        stream.release(); // the writer owns it now
        writer->writeFromAudioSampleBuffer (padded, tail, frames + (opts.keepLatency ? 0 : 0));
        writer.reset();

        if (opts.report.isNotEmpty())
        {
            const auto reportFile = cwd.getChildFile (opts.report);
            if (! reportFile.replaceWithText (juce::JSON::toString (juce::var (summaryObject (s).get()), false) + "\n"))
            {
                std::fprintf (stderr, "pauseguard: cannot write the report '%s'\n", opts.report.toRawUTF8());
                return 2;
            }
        }
        if (! opts.json)
            std::fprintf (stderr, "rendered %d frames at %.0f Hz through %s; latency %d samples%s\n", frames, opts.rate,
                          p.getEngine().getScriptName().c_str(), latencyAtStart, opts.keepLatency ? " (kept)" : " (compensated)");
        else
            printSummary (s, true);
        return 0;
    }

    double medianOf (std::vector<double> v)
    {
        std::sort (v.begin(), v.end());
        return v.empty() ? 0.0 : v[v.size() / 2];
    }

    // One block in (the host's input to a buffer) and out (a block to the host's buffer): what
    // the audio thread's work is measured against. Not inlined, so that callgrind can count it.
    [[gnu::noinline]] void copyInAndOut (const float* const* source, float* copyIn, const float* out, float* const* host, int block)
    {
        const auto bytes = sizeof (float) * static_cast<size_t> (block);
        for (size_t c = 0; c < 2; ++c)
            std::memcpy (copyIn + c * static_cast<size_t> (block), source[c], bytes);
        for (size_t c = 0; c < 2; ++c)
            std::memcpy (host[c], out + c * static_cast<size_t> (block), bytes);
    }

    int bench (const Options& o)
    {
        // 1. The audio thread's cost per block, the worker keeping up, against memcpy in and out:
        //    hot (the same buffers again and again), and as the floor of a real exchange, where the
        //    block copied out was just written by another core. The calling thread runs at an audio
        //    priority, above the worker, as a host's would.
        raiseToAudioPriority();
        pg::LatencyEngine engine;
        pg::EngineSettings es;
        es.sampleRate = o.rate;
        es.maxBlockSize = o.block;
        es.numChannels = 2;
        engine.prepare (es, "function process(ch, n) end", "passthrough.lua", std::max (o.block * 2, 480));
        juce::AudioBuffer<float> buffer (2, o.block), source (2, o.block);
        juce::Random rng (1);
        for (int c = 0; c < 2; ++c)
            for (int i = 0; i < o.block; ++i)
                source.setSample (c, i, rng.nextFloat() - 0.5f);
        std::vector<float> copyIn (static_cast<size_t> (2 * o.block)), written (static_cast<size_t> (2 * o.block));
        std::atomic<int> exchange { 0 }; // 1: the other core is to write `written`; 2: it has
        std::thread writer ([&] {
            for (int turn; (turn = exchange.load (std::memory_order_acquire)) >= 0;)
            {
                if (turn != 1)
                {
                    exchange.wait (turn, std::memory_order_acquire); // asleep while the engine is measured
                    continue;
                }
                for (size_t i = 0; i < written.size(); ++i)
                    written[i] = static_cast<float> (i) * 1.0e-4f;
                exchange.store (2, std::memory_order_release);
            }
        });
        const int rounds = o.rounds, perRound = 2000;
        std::vector<double> engineNs, memcpyNs, crossCoreNs;
        for (int r = 0; r < rounds; ++r)
        {
            double total = 0.0;
            for (int b = 0; b < perRound; ++b)
            {
                buffer.makeCopyOf (source, true);
                const auto t0 = Clock::now();
                engine.processBlock (buffer.getArrayOfWritePointers(), 2, o.block);
                total += std::chrono::duration<double, std::nano> (Clock::now() - t0).count();
                pg::EngineTesting::waitForWorker (engine, 1.0);
            }
            engineNs.push_back (total / perRound);
            const auto t0 = Clock::now();
            for (int b = 0; b < perRound; ++b)
                copyInAndOut (source.getArrayOfReadPointers(), copyIn.data(), copyIn.data(), buffer.getArrayOfWritePointers(), o.block);
            memcpyNs.push_back (std::chrono::duration<double, std::nano> (Clock::now() - t0).count() / perRound);
            total = 0.0;
            for (int b = 0; b < perRound / 10; ++b)
            {
                exchange.store (1, std::memory_order_release);
                exchange.notify_one();
                while (exchange.load (std::memory_order_acquire) != 2)
                    std::this_thread::yield();
                const auto t1 = Clock::now();
                copyInAndOut (source.getArrayOfReadPointers(), copyIn.data(), written.data(), buffer.getArrayOfWritePointers(), o.block);
                total += std::chrono::duration<double, std::nano> (Clock::now() - t1).count();
            }
            crossCoreNs.push_back (total / (perRound / 10));
        }
        exchange.store (-1, std::memory_order_release);
        exchange.notify_one();
        writer.join();
        engine.release();
        const double engineMedian = medianOf (engineNs), memcpyMedian = medianOf (memcpyNs), crossCoreMedian = medianOf (crossCoreNs);
        const double ratio = memcpyMedian > 0.0 ? engineMedian / memcpyMedian : 0.0;
        const double crossCoreRatio = memcpyMedian > 0.0 ? crossCoreMedian / memcpyMedian : 0.0;
        const auto printAudioThread = [&] {
            std::printf ("audio thread per block (median of %d x %d): %.0f ns; memcpy in and out: %.0f ns hot, %.0f ns from another "
                         "core; ratio %.1fx (the exchange's floor: %.1fx)\n",
                         rounds, perRound, engineMedian, memcpyMedian, crossCoreMedian, ratio, crossCoreRatio);
        };
        if (o.audioOnly) // (for callgrind: copyInAndOut and AudioSide::processBlock, counted per call)
        {
            printAudioThread();
            return 0;
        }

        // 2. Collector CPU: the same script and workload, offline, deterministic against dynamic.
        auto cpuFor = [&] (const juce::String& strategy) {
            auto opts = o;
            opts.strategy = strategy;
            if (opts.garbageKb < 0.0)
                opts.garbageKb = 64.0;
            if (opts.liveHeapMb < 0.0)
                opts.liveHeapMb = 32.0;
            PauseGuardProcessor p;
            setUp (p, opts);
            p.getEngine().resetStatistics();
            juce::AudioBuffer<float> b (2, opts.block);
            juce::MidiBuffer midi;
            const auto blocks = static_cast<long> ((o.secondsGiven ? o.seconds : 10.0) * opts.rate / opts.block);
            for (long i = 0; i < blocks; ++i)
            {
                for (int c = 0; c < 2; ++c)
                    b.copyFrom (c, 0, source, c, 0, opts.block);
                p.processBlock (b, midi);
                pg::EngineTesting::waitForWorker (p.getEngine(), 5.0);
            }
            const auto c = p.getEngine().getCounters();
            // Worker time: the script calls (with Lua's collector inside, when automatic) plus the
            // engine's own collector calls.
            return p.getEngine().getProcessingHistogram().sumSeconds + c.collectorSeconds;
        };
        const double automatic = cpuFor ("deterministic"), scheduled = cpuFor ("dynamic");
        const double overheadPct = automatic > 0.0 ? 100.0 * (scheduled - automatic) / automatic : 0.0;

        juce::DynamicObject::Ptr j = new juce::DynamicObject();
        j->setProperty ("sample_rate", o.rate);
        j->setProperty ("block", o.block);
        j->setProperty ("audio_thread_ns_per_block", engineMedian);
        j->setProperty ("memcpy_ns_per_block", memcpyMedian);
        j->setProperty ("memcpy_from_other_core_ns_per_block", crossCoreMedian);
        j->setProperty ("ratio_vs_memcpy", ratio);
        j->setProperty ("exchange_floor_ratio", crossCoreRatio);
        j->setProperty ("worker_seconds_automatic", automatic);
        j->setProperty ("worker_seconds_scheduled", scheduled);
        j->setProperty ("gc_schedule_overhead_pct", overheadPct);
        if (o.json)
            std::printf ("%s\n", juce::JSON::toString (juce::var (j.get()), true).toRawUTF8());
        else
        {
            printAudioThread();
            std::printf ("worker time, automatic collector: %.3f s; engine-scheduled collector: %.3f s; overhead %+.1f %%\n",
                         automatic, scheduled, overheadPct);
        }
        return 0;
    }

    // Compiles the script and runs a few blocks of a test tone through it, in the plugin's sandbox
    // and budgets. Lua reports errors as "chunkname:line: message"; the chunk is named after FILE.
    int checkScript (const Options& o)
    {
        if (o.files.size() != 1)
            return usage ("check-script needs one FILE.lua");
        const auto file = juce::File::getCurrentWorkingDirectory().getChildFile (o.files[0]);
        if (! file.existsAsFile())
        {
            std::fprintf (stderr, "pauseguard: cannot read '%s': no such file\n", o.files[0].toRawUTF8());
            return 2;
        }
        pg::LuaDspLimits limits; // the plugin's: 1 GB, 0.5 s per call
        pg::LuaDsp dsp (limits);
        const auto source = file.loadFileAsString().toStdString();
        const auto name = o.files[0].toStdString();
        for (int i = 1; i <= 8; ++i)
            dsp.setParameter (pauseguard::ParamIDs::macros[i - 1], 0.5);
        bool ok = dsp.load (source, name) && dsp.prepare (o.rate, o.block, 2);
        std::vector<float> l (static_cast<size_t> (o.block)), r (static_cast<size_t> (o.block));
        float* ch[] = { l.data(), r.data() };
        for (int b = 0; ok && b < 200; ++b)
        {
            for (int i = 0; i < o.block; ++i)
                l[static_cast<size_t> (i)] = r[static_cast<size_t> (i)] = 0.5f * std::sin (0.05f * static_cast<float> (b * o.block + i));
            ok = dsp.process (ch, 2, o.block);
        }
        if (! ok)
        {
            std::printf ("%s\n", dsp.getError().c_str());
            return 2;
        }
        std::printf ("ok\n");
        return 0;
    }

    int demo (const Options& base)
    {
        auto o = base;
        const double seconds = o.secondsGiven ? o.seconds : 4.0;
        std::printf ("PauseGuard headless demo: the built-in Lua saturator on a worker thread, a simulated\n"
                     "audio callback at %.0f Hz / %d samples, a demo arpeggio as input.\n\n",
                     o.rate, o.block);
        {
            PauseGuardProcessor p;
            setUp (p, o);
            p.setDemoSignalEnabled (true);
            std::printf ("1. Default workload (16 KB garbage per block, 4 MB live heap), deterministic, 20 ms\n");
            printSummary (runPaced (p, o, seconds, nullptr, false), false);
        }
        o.garbageKb = 64.0;
        o.liveHeapMb = 128.0;
        for (const char* strategy : { "deterministic", "dynamic" })
        {
            o.strategy = strategy;
            o.latency = "auto";
            PauseGuardProcessor p;
            setUp (p, o);
            p.setDemoSignalEnabled (true);
            const auto profile = p.getEngine().getProfile();
            std::printf ("\n%s. Heavy workload (64 KB garbage per block, 128 MB live heap), %s%s\n", o.strategy == "dynamic" ? "3" : "2",
                         strategy, o.strategy == "dynamic" ? ": the engine schedules the collector" : ", auto latency");
            std::printf ("  profile: worst full collection %.1f ms -> auto latency %d samples\n", profile.worstCollectionSeconds * 1000.0,
                         profile.latencySamples);
            printSummary (runPaced (p, o, seconds * 2.0, nullptr, false), false);
        }
        return 0;
    }
} // namespace

int main (int argc, char* argv[])
{
    juce::ScopedJuceInitialiser_GUI juce;
    Options o;
    if (const auto error = parse (argc, argv, o); error.isNotEmpty())
        return usage (error.toRawUTF8());
    if (o.workers > 0)
        pg::WorkerPool::setDefaultThreadCount (o.workers); // before the first engine makes the pool
    if (o.command == "demo")
        return demo (o);
    if (o.command == "soak")
        return soak (o);
    if (o.command == "profile")
        return profile (o);
    if (o.command == "render")
        return render (o);
    if (o.command == "bench")
        return bench (o);
    if (o.command == "check-script")
        return checkScript (o);
    if (o.command == "--help" || o.command == "help" || o.command == "-h")
    {
        std::fputs (usageText, stdout);
        return 0;
    }
    return usage (("unknown command '" + o.command + "'").toRawUTF8());
}
