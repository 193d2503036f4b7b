#include "Commands.h"

#include "EngineCost.h"
#include "LuaDsp.h"
#include "RunReport.h"
#include "Setup.h"
#include "Trace/ChromeTrace.h"

#include <juce_audio_formats/juce_audio_formats.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace pauseguard::cli
{
    namespace ids = pauseguard::ParamIDs;

    namespace
    {
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
    } // namespace

    int soak (const Options& o)
    {
        // Traced from the start: every dropout gets its cause (the instances' lanes are made in prepare).
        pg::trace::Recorder::global().enable (o.traceSeconds);
        const size_t residentBefore = residentBytes();
        Instances instances;
        if (const auto e = makeInstances (o, instances); e.isNotEmpty())
            return usage (e.toRawUTF8());
        const auto& ps = instances.all;
        PoolFigures pool;
        const auto all = runPaced (ps, o, o.seconds, nullptr, ! o.json, nullptr, &pool);
        const size_t residentAfter = residentBytes();
        pool.residentMbPerInstance = static_cast<double> (residentAfter - std::min (residentBefore, residentAfter)) / 1048576.0 / o.instances;
        pool.preparedMbPerInstance = static_cast<double> (ps.front()->getEngine().getPreparedBytes()) / 1048576.0;
        if (o.process.isEmpty())
        {
            const auto alone = runScriptAlone (*ps.front(), o.rate, o.block, 2, std::min (o.seconds, 10.0));
            pool.scriptAloneCpuPercent = alone.cpuPercent;
            pool.scriptAloneHeapPeakMb = static_cast<double> (alone.heapPeakBytes) / 1048576.0;
        }
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
} // namespace pauseguard::cli
