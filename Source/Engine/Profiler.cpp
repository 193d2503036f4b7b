#include "Profiler.h"

#include "Clock.h"

#include "CollectorScheduler.h"
#include "Trace/Trace.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

namespace pg
{
    namespace
    {
        // How long a call of the DSP kept the calling thread running: its wall time (what `call`
        // returns, < 0 on error), but no more than the thread's CPU time meanwhile. The loader
        // runs at normal priority, and a busy machine preempts it mid-call, where the pool's
        // real-time threads would not be: the profile is of the script, not of the machine's
        // load (the measured latency covers the machine's stalls at run time). A program's work
        // is in another process: its wall time.
        template <typename Call>
        double ranSeconds (const Dsp& dsp, Call&& call)
        {
            const int64_t cpuBefore = dsp.runsOnCallingThread() ? trace::threadCpuNanos() : -1;
            const double wall = call();
            const int64_t cpuAfter = cpuBefore >= 0 && wall >= 0.0 ? trace::threadCpuNanos() : -1;
            return cpuAfter >= 0 ? std::min (wall, static_cast<double> (cpuAfter - cpuBefore) * 1.0e-9) : wall;
        }

        // A test tone through a script, one chunk at a time.
        class ToneRunner
        {
        public:
            ToneRunner (Dsp& d, const ProfileRequest& q, const std::function<void (Dsp&)>& push)
                : dsp (d)
                , n (std::max (1, q.chunkFrames))
                , nch (std::max (1, q.numChannels))
                , pushParameters (push)
            {
                buffer.resize (static_cast<size_t> (n * nch));
                for (int c = 0; c < nch; ++c)
                    ptrs.push_back (buffer.data() + static_cast<size_t> (c * n));
            }

            // Returns the call's duration, or < 0 on error.
            double chunk()
            {
                for (int c = 0; c < nch; ++c)
                    for (int i = 0; i < n; ++i)
                        ptrs[static_cast<size_t> (c)][i] = 0.25f * static_cast<float> (std::sin (phase + 0.0576 * i));
                phase = std::fmod (phase + 0.0576 * n, 2.0 * 3.141592653589793);
                if (pushParameters)
                    pushParameters (dsp);
                return ranSeconds (dsp, [this] {
                    const double t0 = nowSeconds();
                    return dsp.process (ptrs.data(), nch, n) ? nowSeconds() - t0 : -1.0;
                });
            }

        private:
            Dsp& dsp;
            const int n, nch;
            const std::function<void (Dsp&)>& pushParameters;
            std::vector<float> buffer;
            std::vector<float*> ptrs;
            double phase = 0.0;
        };

        // Counts the collector's cycles from a script's heap, chunk by chunk: a cycle has swept each
        // time the heap falls by a fifth from its peak since the last one.
        class SweptCycles
        {
        public:
            explicit SweptCycles (size_t heapNow) noexcept
                : peak (heapNow)
            {
            }

            void after (size_t heap) noexcept
            {
                peak = std::max (peak, heap);
                if (heap + peak / 5 < peak)
                {
                    ++swept;
                    peak = heap;
                }
            }

            int count() const noexcept { return swept; }

        private:
            size_t peak;
            int swept = 0;
        };

        // Builds the live heap; the budget bounds it unless the heap is still growing (up to 3 s:
        // a profile of part of a heap would underestimate its collections).
        bool buildHeap (Dsp& dsp, ToneRunner& tone, double budgetSeconds, const std::atomic<bool>& cancel)
        {
            const double start = nowSeconds();
            const auto elapsed = [start] { return nowSeconds() - start; };
            dsp.setParameter ("profiling", 1.0);
            dsp.setAutomaticCollection (false); // collecting a heap that is being built is wasted time
            size_t bestHeap = 0;
            for (int flat = 0; flat < 16 && (elapsed() < budgetSeconds || (flat == 0 && elapsed() < 3.0));)
            {
                if (cancel.load (std::memory_order_acquire) || tone.chunk() < 0.0)
                    return false;
                const size_t heap = dsp.heapBytes();
                flat = heap > bestHeap + bestHeap / 50 + 4096 ? 0 : flat + 1;
                bestHeap = std::max (bestHeap, heap);
            }
            dsp.setParameter ("profiling", 0.0);
            dsp.setAutomaticCollection (true);
            return true;
        }

        // Runs the script with its automatic collector until two cycles have swept (each time the
        // heap falls by a fifth from its peak: the first, which restarting the collector began at
        // once, sweeps what building the heap left; the second, the script's own garbage), for at
        // most a second of audio and within the budget. Only for a heap of a megabyte or more: a
        // smaller one's first cycle puts under a megabyte into new memory, and a script that fails
        // after a few dozen calls still fails where the user sees it play.
        bool settleCollector (Dsp& dsp, ToneRunner& tone, const ProfileRequest& q, const std::atomic<bool>& cancel)
        {
            if (dsp.collectsConcurrently() || dsp.heapBytes() < (size_t (1) << 20))
                return true;
            const double start = nowSeconds();
            const long chunks = static_cast<long> (q.sampleRate) / std::max (1, q.chunkFrames);
            SweptCycles cycles (dsp.heapBytes());
            for (long k = 0; cycles.count() < 2 && k < chunks && nowSeconds() - start < 0.35 * q.budgetSeconds; ++k)
            {
                if (cancel.load (std::memory_order_acquire) || tone.chunk() < 0.0)
                    return false;
                cycles.after (dsp.heapBytes());
            }
            return true;
        }
    } // namespace

    bool warmUpScript (Dsp& dsp, const ProfileRequest& q, const std::function<void (Dsp&)>& pushParameters,
                       const std::atomic<bool>& cancel)
    {
        ToneRunner tone (dsp, q, pushParameters);
        return buildHeap (dsp, tone, 0.35 * q.budgetSeconds, cancel) && settleCollector (dsp, tone, q, cancel);
    }

    ProfileResult profileScript (Dsp& dsp, const ProfileRequest& q, const std::function<void (Dsp&)>& pushParameters,
                                 const std::atomic<bool>& cancel)
    {
        ProfileResult r;
        const double start = nowSeconds();
        const auto elapsed = [start] { return nowSeconds() - start; };
        const auto cancelled = [&cancel] { return cancel.load (std::memory_order_acquire); };
        ToneRunner tone (dsp, q, pushParameters);
        const auto chunk = [&tone] { return tone.chunk(); };

        // 1. Build the script's live heap. Building is not the steady state: its chunks are not counted.
        if (! buildHeap (dsp, tone, 0.35 * q.budgetSeconds, cancel))
            return r;

        // 2. The steady state, with Lua's automatic collector: run until the collector has finished
        //    two cycles (each time the heap falls from its peak) so its largest steps are seen. The
        //    first cycle after building the heap is milder than the ones after it. At least 16
        //    chunks, even when building the heap used up the budget (a profile that timed none
        //    would know nothing of the chunks: a concurrent runtime's auto latency would be the minimum).
        SweptCycles cycles (dsp.heapBytes());
        for (; cycles.count() < 2 && (r.chunksTimed < 16 || elapsed() < 0.75 * q.budgetSeconds); ++r.chunksTimed)
        {
            const double took = chunk();
            if (cancelled() || took < 0.0)
                return r;
            r.worstChunkSeconds = std::max (r.worstChunkSeconds, took);
            cycles.after (dsp.heapBytes());
        }

        // 2b. The collector as the dynamic strategy runs it (generational, stopped): the script's own
        //     time, and the longest young collection (one per chunk, as the scheduler runs them).
        //     At least 16 chunks, even when building a large heap used up the budget.
        dsp.setGenerational();
        dsp.setAutomaticCollection (false);
        for (int k = 0; k < 64 && (k < 16 || elapsed() < 0.85 * q.budgetSeconds); ++k)
        {
            const double took = chunk();
            if (cancelled() || took < 0.0)
                return r;
            r.worstBareChunkSeconds = std::max (r.worstBareChunkSeconds, took);
            r.worstStepSeconds = std::max (r.worstStepSeconds, ranSeconds (dsp, [&dsp] { return dsp.collectorStep(); }));
        }
        dsp.setIncrementalPacing (q.pausePercent, q.stepMultiplierPercent, 13);
        dsp.setAutomaticCollection (true);

        // 3. Forced full collections of that heap: the longest pause the collector can make.
        for (int k = 0; k < 3 && dsp.isReady() && ! cancelled(); ++k)
        {
            r.worstCollectionSeconds = std::max (r.worstCollectionSeconds, ranSeconds (dsp, [&dsp] { return dsp.fullCollection(); }));
            if (elapsed() > q.budgetSeconds)
                break;
        }
        if (cancelled() || ! dsp.isReady())
            return r;

        r.heapBytes = dsp.heapBytes();
        r.runtime = dsp.runtimeFigures();
        r.elapsedSeconds = elapsed();
        // A full collection measured here follows another one; at run time the heap may also hold
        // up to (pause - 100) % of garbage, which a full collection sweeps: scale for it.
        // A runtime that collects concurrently never makes the chunk wait for a full collection in
        // the deterministic strategy: its chunks' times (assists included) are the pauses to hide.
        const double garbageFactor = std::max (1.0, q.pausePercent / 100.0);
        const double collectionPause = dsp.collectsConcurrently() ? 0.0 : r.worstCollectionSeconds * garbageFactor;
        const double worstPause = std::max (collectionPause, r.worstChunkSeconds);
        const int fromPauses = q.blockSize + static_cast<int> (std::ceil (2.0 * worstPause * q.sampleRate));
        const int floor10ms = static_cast<int> (std::ceil (0.010 * q.sampleRate));
        r.latencySamples = std::clamp (std::max ({ fromPauses, floor10ms, q.minLatencySamples }), 0,
                                       std::max (q.maxLatencySamples, q.minLatencySamples));
        AdapterSettings a;
        a.blockSize = q.blockSize;
        a.sampleRate = q.sampleRate;
        a.safetyFactor = q.safetyFactor;
        a.fadeSamples = q.fadeSamples;
        a.minLatencySamples = q.minDynamicLatencySamples;
        a.maxLatencySamples = std::max (q.maxDynamicLatencySamples, q.minDynamicLatencySamples);
        // The dynamic strategy's start: the script's own time plus its longest young collection.
        r.dynamicLatencySamples = LatencyAdapter {}.latencyFor (r.worstBareChunkSeconds + r.worstStepSeconds, a);
        r.complete = r.chunksTimed > 0;
        return r;
    }
} // namespace pg
