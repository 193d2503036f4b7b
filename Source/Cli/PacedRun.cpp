#include "PacedRun.h"

#include "Clock.h"
#include "EngineCost.h"
#include "Trace/RunFigures.h"
#include "WorkerPool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>
#include <unistd.h>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace pauseguard::cli
{
    void raiseToAudioPriority()
    {
#if defined(__linux__)
        sched_param param {};
        param.sched_priority = std::min (sched_get_priority_max (SCHED_FIFO), sched_get_priority_min (SCHED_FIFO) + 20);
        pthread_setschedparam (pthread_self(), SCHED_FIFO, &param); // quietly stays normal where not allowed
#endif
    }

    namespace
    {
        // One paced run: the simulated host's audio thread, the message thread's loop, and what
        // the trace says about the run.
        class PacedRun
        {
        public:
            PacedRun (const std::vector<PauseGuardProcessor*>& processors, const Options& options, double runSeconds,
                      const juce::AudioBuffer<float>* in, juce::AudioBuffer<float>* out, bool withPoolFigures)
                : ps (processors)
                , o (options)
                , seconds (runSeconds)
                , input (in)
                , output (out)
                , blocks (static_cast<long> (runSeconds * options.rate / options.block))
                , dropoutsAtWarmup (processors.size(), 0)
                , warmupEnds (processors.size(), 2.0)
                , firstGrowthAt (processors.size(), -1.0)
            {
                if (withPoolFigures)
                {
                    // A bare engine (a script that does nothing) on the same pool and callback.
                    pg::EngineSettings es;
                    es.sampleRate = o.rate;
                    es.maxBlockSize = o.block;
                    es.numChannels = 2;
                    bare.prepare (es, "function process(ch, n, p) end", "bare.lua", ps[0]->getLatencySamples());
                    bare.waitUntilWarm (10.0);
                    runFigures.followSpeedOf (bare.getTraceInstance()); // the same work each chunk: the machine's speed
                }
                hostLane = pg::trace::Recorder::global().newLane ("host callback", 2.0 * o.rate / o.block);
                for (auto* p : ps)
                    traced.push_back (p->getEngine().getTraceInstance());
                tally = std::make_unique<pg::trace::DropoutTally> (traced);
            }

            std::vector<Summary> run (bool progress, PoolFigures* poolFigures)
            {
                const double poolCpuAtStart = poolCpuSeconds();
                std::thread audio ([this] { callback(); });
                superviseWhileRunning (progress && isatty (STDERR_FILENO) != 0);
                audio.join();
                if (poolFigures != nullptr)
                    fillPoolFigures (*poolFigures, poolCpuSeconds() - poolCpuAtStart);
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

        private:
            // The audio thread: every processor in turn, once a block period.
            void callback()
            {
                juce::AudioBuffer<float> bareBuffer (2, o.block);
                raiseToAudioPriority();
                std::vector<juce::AudioBuffer<float>> buffers (ps.size(), juce::AudioBuffer<float> (2, o.block));
                auto start = Clock::now();
                const auto period = std::chrono::duration<double> (o.block / o.rate);
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
                    processAll (buffers, b * o.block);
                    if (bare.isPrepared())
                    {
                        bareBuffer.clear();
                        bare.processBlock (bareBuffer.getArrayOfWritePointers(), 2, o.block);
                    }
                    // A miss: the callback returned after its period had ended (the device would underrun).
                    callbackTimes.add (std::chrono::duration<double> (Clock::now() - woke).count());
                    traceCallback (due, woke);
                    if (! xrun && Clock::now() > due + periodTicks)
                        misses.fetch_add (1, std::memory_order_relaxed);
                    done.store (b + 1, std::memory_order_relaxed);
                }
            }

            // One block of every processor, from the input at `pos` (silence without one).
            void processAll (std::vector<juce::AudioBuffer<float>>& buffers, long pos)
            {
                for (size_t k = 0; k < ps.size(); ++k)
                {
                    auto& buffer = buffers[k];
                    if (input != nullptr)
                    {
                        const int from = static_cast<int> (pos % input->getNumSamples());
                        for (int c = 0; c < 2; ++c)
                            buffer.copyFrom (c, 0, *input, std::min (c, input->getNumChannels() - 1), from,
                                             std::min (o.block, input->getNumSamples() - from));
                    }
                    else
                        buffer.clear();
                    ps[k]->processBlock (buffer, midi);
                }
                if (output != nullptr && pos + o.block <= output->getNumSamples())
                    for (int c = 0; c < output->getNumChannels(); ++c)
                        output->copyFrom (c, static_cast<int> (pos), buffers[0], std::min (c, 1), 0, o.block);
            }

            void traceCallback (Clock::time_point due, Clock::time_point woke)
            {
                if (hostLane == nullptr)
                    return;
                pg::trace::Event e;
                e.kind = pg::trace::Kind::callback;
                e.due = std::chrono::duration_cast<std::chrono::nanoseconds> (due.time_since_epoch()).count();
                e.start = std::chrono::duration_cast<std::chrono::nanoseconds> (woke.time_since_epoch()).count();
                e.end = pg::nowNanos();
                hostLane->push (e);
            }

            // The message thread's job until the audio thread is done: latency changes, the
            // warm-up's end, the pool's load, the dropouts' causes so far, and the progress bar.
            void superviseWhileRunning (bool tty)
            {
                const auto pool = pg::WorkerPool::shared();
                const auto start = Clock::now();
                auto nextLoadSample = start + std::chrono::milliseconds (600);
                while (done.load() < blocks)
                {
                    std::this_thread::sleep_for (std::chrono::milliseconds (50));
                    const uint64_t dropouts = applyLatencyChanges (std::chrono::duration<double> (Clock::now() - start).count());
                    if (Clock::now() >= nextLoadSample) // a new ~0.5 s window of the pool's load
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
                if (tty)
                    std::fprintf (stderr, "\n");
            }

            // Applies each processor's pending latency change (the warm-up lasts until a second after
            // the first growth); returns the dropouts so far.
            uint64_t applyLatencyChanges (double t)
            {
                uint64_t dropouts = 0;
                for (size_t k = 0; k < ps.size(); ++k)
                {
                    auto& p = *ps[k];
                    p.applyProgramDefaults();
                    if (p.applyPendingLatencyChange())
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
                return dropouts;
            }

            // The dropouts' causes and the machine's figures, up to `upTo`.
            void advanceTrace (int64_t upTo)
            {
                const auto snapshot = pg::trace::Recorder::global().snapshot (tally->windowFrom(), upTo);
                runFigures.add (snapshot, tally->attributedUpTo(), upTo);
                tally->advance (snapshot, upTo);
            }

            // poolCpu: the pool threads' CPU over the run, in seconds.
            void fillPoolFigures (PoolFigures& f, double poolCpu)
            {
                f.threads = pg::WorkerPool::shared()->threadCount();
                f.callback = callbackTimes.snapshot();
                f.wakeLate = wakeLateness.snapshot();
                f.meanLoadPercent = loadSamples > 0 ? loadSum / loadSamples : 0.0;
                f.maxLoadPercent = loadMax;
                f.bareResponse = bare.getResponseHistogram();
                f.floorSamples = o.block + static_cast<int> (std::ceil (f.bareResponse.percentile (0.999) * o.rate));
                // CPU seconds over the run as an instance's share of a core, in percent.
                const auto perInstance = [this] (double cpuSeconds) { return 100.0 * cpuSeconds / static_cast<double> (traced.size()) / seconds; };
                f.poolCpuPercentPerInstance = perInstance (poolCpu);
                if (! pg::trace::Recorder::global().isEnabled())
                    return;
                std::this_thread::sleep_for (std::chrono::milliseconds (50)); // the last chunks' events
                advanceTrace (INT64_MAX);
                f.causes = tally->counts();
                double cpu = 0.0;
                for (const int i : traced)
                    cpu += static_cast<double> (runFigures.cpuNanos (i)) * 1.0e-9;
                f.instanceCpuPercent = perInstance (cpu);
                // The engine's own cost leaves out the bare engine's chunks (the measurement's, not
                // the instances'). The pool's wake-ups and scans for it stay in: they are shared,
                // and counted against the instances.
                const double bareCpu = static_cast<double> (runFigures.cpuNanos (bare.getTraceInstance())) * 1.0e-9;
                f.poolCpuPercentPerInstance = perInstance (std::max (0.0, poolCpu - bareCpu));
                f.worstStallSeconds = static_cast<double> (runFigures.worstStallNanos()) * 1.0e-9;
                f.largestChunkSeconds = static_cast<double> (runFigures.largestChunkNanos()) * 1.0e-9;
                f.machineSlowdown = runFigures.slowdown();
                const double load = std::min (0.95, f.meanLoadPercent / (100.0 * f.threads));
                f.physicalFloorSamples = o.block + static_cast<int> (std::ceil ((f.worstStallSeconds / (1.0 - load) + f.largestChunkSeconds) * o.rate));
            }

            const std::vector<PauseGuardProcessor*>& ps;
            const Options& o;
            const double seconds;
            const juce::AudioBuffer<float>* input;
            juce::AudioBuffer<float>* output;
            const long blocks;
            std::atomic<long> done { 0 };
            std::atomic<uint64_t> misses { 0 };
            pg::DurationHistogram callbackTimes, wakeLateness; // the audio thread's
            pg::LatencyEngine bare;
            juce::MidiBuffer midi;
            std::shared_ptr<pg::trace::TraceBuffer> hostLane;
            std::vector<int> traced;
            std::unique_ptr<pg::trace::DropoutTally> tally;
            pg::trace::RunFigures runFigures;
            // the message thread's
            std::vector<uint64_t> dropoutsAtWarmup;
            std::vector<double> warmupEnds, firstGrowthAt;
            double loadSum = 0.0, loadMax = 0.0;
            int loadSamples = 0;
        };
    } // namespace

    std::vector<Summary> runPaced (const std::vector<PauseGuardProcessor*>& ps, const Options& o, double seconds,
                                   const juce::AudioBuffer<float>* input, bool progress, juce::AudioBuffer<float>* output,
                                   PoolFigures* poolFigures)
    {
        PacedRun run (ps, o, seconds, input, output, poolFigures != nullptr);
        return run.run (progress, poolFigures);
    }

    Summary runPaced (PauseGuardProcessor& p, const Options& o, double seconds, const juce::AudioBuffer<float>* input, bool progress,
                      juce::AudioBuffer<float>* output)
    {
        return runPaced (std::vector<PauseGuardProcessor*> { &p }, o, seconds, input, progress, output).front();
    }
} // namespace pauseguard::cli
