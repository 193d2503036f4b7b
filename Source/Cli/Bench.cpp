// pauseguard bench: the audio thread's cost per block against memcpy, and the dynamic schedule's
// collector overhead against Lua's automatic one.

#include "Commands.h"
#include "EngineCost.h"
#include "EngineTesting.h"
#include "PacedRun.h"
#include "Setup.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>

namespace pauseguard::cli
{
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

    namespace
    {
        struct AudioThreadCost
        {
            double engineNs = 0.0, memcpyNs = 0.0, crossCoreNs = 0.0; // medians per block
            double ratio() const { return memcpyNs > 0.0 ? engineNs / memcpyNs : 0.0; }
            double crossCoreRatio() const { return memcpyNs > 0.0 ? crossCoreNs / memcpyNs : 0.0; }
        };

        // The other core's side of a real exchange: writes `written` when asked (1), says so (2).
        class BlockWriter
        {
        public:
            explicit BlockWriter (std::vector<float>& block)
                : written (block)
                , thread ([this] { run(); })
            {
            }
            ~BlockWriter()
            {
                turn.store (-1, std::memory_order_release);
                turn.notify_one();
                thread.join();
            }
            // Returns once the other core has written the block.
            void writeNow()
            {
                turn.store (1, std::memory_order_release);
                turn.notify_one();
                for (int t; (t = turn.load (std::memory_order_acquire)) != 2;)
                    turn.wait (t, std::memory_order_acquire); // (a futex: a spin at this priority could starve the writer)
            }

        private:
            void run()
            {
                for (int t; (t = turn.load (std::memory_order_acquire)) >= 0;)
                {
                    if (t != 1)
                    {
                        turn.wait (t, std::memory_order_acquire); // asleep while the engine is measured
                        continue;
                    }
                    for (size_t i = 0; i < written.size(); ++i)
                        written[i] = static_cast<float> (i) * 1.0e-4f;
                    turn.store (2, std::memory_order_release);
                    turn.notify_one();
                }
            }

            std::vector<float>& written;
            std::atomic<int> turn { 0 };
            std::thread thread;
        };

        // The audio thread's cost per block, the worker keeping up, against memcpy in and out: hot
        // (the same buffers again and again), and as the floor of a real exchange, where the block
        // copied out was just written by another core. The calling thread runs at an audio
        // priority, above the worker, as a host's would.
        AudioThreadCost measureAudioThread (const Options& o, const juce::AudioBuffer<float>& source)
        {
            raiseToAudioPriority();
            pg::LatencyEngine engine;
            pg::EngineSettings es;
            es.sampleRate = o.rate;
            es.maxBlockSize = o.block;
            es.numChannels = 2;
            engine.prepare (es, "function process(ch, n) end", "passthrough.lua", std::max (o.block * 2, 480));
            // Blocks back to back, the worker waited for between them: the real-time path, as a host
            // plays (without this, their pace says render, and the audio thread would wait itself).
            pg::EngineTesting::setRenderDetection (engine, false);
            juce::AudioBuffer<float> buffer (2, o.block);
            std::vector<float> copyIn (static_cast<size_t> (2 * o.block)), written (static_cast<size_t> (2 * o.block));
            BlockWriter writer (written);
            const int perRound = 2000;
            std::vector<double> engineNs, memcpyNs, crossCoreNs;
            for (int r = 0; r < o.rounds; ++r)
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
                    writer.writeNow();
                    const auto t1 = Clock::now();
                    copyInAndOut (source.getArrayOfReadPointers(), copyIn.data(), written.data(), buffer.getArrayOfWritePointers(), o.block);
                    total += std::chrono::duration<double, std::nano> (Clock::now() - t1).count();
                }
                crossCoreNs.push_back (total / (perRound / 10));
            }
            engine.release();
            return { medianOf (engineNs), medianOf (memcpyNs), medianOf (crossCoreNs) };
        }

        // Collector CPU: the same script and workload, offline, in one strategy. Worker time: the
        // script calls (with Lua's collector inside, when automatic) plus the engine's own
        // collector calls.
        double workerSeconds (const Options& o, const juce::String& strategy, const juce::AudioBuffer<float>& source)
        {
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
            return p.getEngine().getProcessingHistogram().sumSeconds + p.getEngine().getCounters().collectorSeconds;
        }

        void printAudioThread (const Options& o, const AudioThreadCost& a)
        {
            std::printf ("audio thread per block (median of %d x 2000): %.0f ns; memcpy in and out: %.0f ns hot, %.0f ns from another "
                         "core; ratio %.1fx (the exchange's floor: %.1fx)\n",
                         o.rounds, a.engineNs, a.memcpyNs, a.crossCoreNs, a.ratio(), a.crossCoreRatio());
        }
    } // namespace

    int bench (const Options& o)
    {
        juce::AudioBuffer<float> source (2, o.block);
        juce::Random rng (1);
        for (int c = 0; c < 2; ++c)
            for (int i = 0; i < o.block; ++i)
                source.setSample (c, i, rng.nextFloat() - 0.5f);
        const auto a = measureAudioThread (o, source);
        if (o.audioOnly) // (for callgrind: copyInAndOut and LatencyEngine::processBlock, counted per call)
        {
            printAudioThread (o, a);
            return 0;
        }
        const double automatic = workerSeconds (o, "deterministic", source), scheduled = workerSeconds (o, "dynamic", source);
        const double overheadPct = automatic > 0.0 ? 100.0 * (scheduled - automatic) / automatic : 0.0;
        if (! o.json)
        {
            printAudioThread (o, a);
            std::printf ("worker time, automatic collector: %.3f s; engine-scheduled collector: %.3f s; overhead %+.1f %%\n",
                         automatic, scheduled, overheadPct);
            return 0;
        }
        juce::DynamicObject::Ptr j = new juce::DynamicObject();
        j->setProperty ("sample_rate", o.rate);
        j->setProperty ("block", o.block);
        j->setProperty ("audio_thread_ns_per_block", a.engineNs);
        j->setProperty ("memcpy_ns_per_block", a.memcpyNs);
        j->setProperty ("memcpy_from_other_core_ns_per_block", a.crossCoreNs);
        j->setProperty ("ratio_vs_memcpy", a.ratio());
        j->setProperty ("exchange_floor_ratio", a.crossCoreRatio());
        j->setProperty ("worker_seconds_automatic", automatic);
        j->setProperty ("worker_seconds_scheduled", scheduled);
        j->setProperty ("gc_schedule_overhead_pct", overheadPct);
        std::printf ("%s\n", juce::JSON::toString (juce::var (j.get()), true).toRawUTF8());
        return 0;
    }
} // namespace pauseguard::cli
