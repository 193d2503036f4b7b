// ChunkWorker: the chunk loop the pool runs, and its measurement (see ChunkWorker.h).

#include "ChunkWorker.h"

#include "Clock.h"
#include "EngineControl.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>

namespace pg
{
    namespace
    {
        // A chunk that starts within this long of its thread's last CPU-time reading (the end of
        // the chunk before it) starts from that reading (trace::threadCpuNanosReusing).
        constexpr int64_t cpuReadingReuseNanos = 50'000;
    } // namespace

    // ---- control thread ----------------------------------------------------------------------------

    void ChunkWorker::prepare (int numChannels, int chunkFrames)
    {
        chunkMax = chunkFrames;
        scratch.assign (static_cast<size_t> (numChannels * chunkMax), 0.0f);
        for (int c = 0; c < maxChannels; ++c)
            scratchPtrs[static_cast<size_t> (c)] = c < numChannels ? scratch.data() + static_cast<size_t> (c * chunkMax) : nullptr;
        dryCopy.assign (scratch.size(), 0.0f);
        fadeFromDryDone = -1;
        haveStamp = false;
        heapBytes.store (0, std::memory_order_relaxed);
        workerLoadPercent.store (0.0, std::memory_order_relaxed);
        pendingStatsReset.store (false, std::memory_order_relaxed);
        pendingPause.store (0.0);
    }

    void ChunkWorker::start()
    {
        loadWindowStart = nowNanos();
        loadBusyNanos = 0;
        auto* slot = pool->attach ([] (void* w) { return static_cast<ChunkWorker*> (w)->runOnPool(); }, this);
        poolSlot.store (slot, std::memory_order_release);
        engine.audio().connect (*pool, slot);
    }

    void ChunkWorker::stop()
    {
        pool->detach (poolSlot.exchange (nullptr, std::memory_order_acq_rel)); // returns once no pool thread is inside this engine
        engine.audio().connect (*pool, nullptr);
    }

    void ChunkWorker::hold (bool hold) noexcept
    {
        workerHeld.store (hold, std::memory_order_release);
        if (! hold)
            markPending (nowNanos());
    }

    void ChunkWorker::markPending (int64_t dueNanos) const noexcept
    {
        pool->markPending (poolSlot.load (std::memory_order_acquire), dueNanos);
    }

    bool ChunkWorker::waitForWorker (double timeoutSeconds) const noexcept
    {
        markPending (nowNanos()); // due now: a napping thread is woken
        const double deadline = nowSeconds() + timeoutSeconds;
        const auto& audio = engine.audio();
        while (audio.deliveredByWorker() < audio.handedToWorker())
        {
            if (nowSeconds() > deadline)
                return false;
            sleepNanos (20'000);
        }
        return true;
    }

    void ChunkWorker::addCountersTo (EngineCounters& c) const noexcept
    {
        c.skippedFrames = skippedFrames.load (std::memory_order_relaxed);
        c.unprocessedFrames = unprocessedFrames.load (std::memory_order_relaxed);
        c.warmUpDryFrames = warmUpDryFrames.load (std::memory_order_relaxed);
        c.chunksProcessed = chunksProcessed.load (std::memory_order_relaxed);
        c.framesProcessed = framesProcessed.load (std::memory_order_relaxed);
        c.heapBytes = heapBytes.load (std::memory_order_relaxed);
        c.workerLoadPercent = workerLoadPercent.load (std::memory_order_relaxed);
    }

    void ChunkWorker::clearCounters() noexcept
    {
        for (auto* c : { &skippedFrames, &unprocessedFrames, &warmUpDryFrames, &chunksProcessed, &framesProcessed })
            c->store (0, std::memory_order_relaxed);
        processingTimes.reset();
        lateness.reset();
        responseTimes.reset();
    }

    // ---- worker ------------------------------------------------------------------------------------

    // A pool thread: one chunk, and this engine's share of the thread's time.
    WorkerPool::Ran ChunkWorker::runOnPool() noexcept
    {
        const int64_t t0 = nowNanos();
        const auto ran = processAvailableOnWorker();
        const int64_t t1 = nowNanos();
        if (ran == WorkerPool::Ran::worked)
            loadBusyNanos += t1 - t0;
        if (t1 - loadWindowStart >= 500'000'000)
        {
            workerLoadPercent.store (100.0 * static_cast<double> (loadBusyNanos) / static_cast<double> (t1 - loadWindowStart),
                                     std::memory_order_relaxed);
            loadWindowStart = t1;
            loadBusyNanos = 0;
        }
        return ran;
    }

    WorkerPool::Ran ChunkWorker::processAvailableOnWorker()
    {
        auto& audio = engine.audio();
        auto& collector = engine.collector();
        auto& supervisor = engine.supervisor();
        SampleRing& inputRing = audio.inputOnWorker();
        uint64_t w = inputRing.publishedWritePosition();
        uint64_t r = inputRing.consumerPosition();
        if (w == r)
            return WorkerPool::Ran::idle;
        if (workerHeld.load (std::memory_order_acquire))
            return WorkerPool::Ran::blocked; // held by a test
        // The loader is building the script's live heap: the script is not touched. A render
        // waits for it; in real time the input passes on unprocessed, on time (not a dropout),
        // and the script's output fades in from it once the script is warm. Which of the two it is
        // waits for the pace of the host's calls (its second call): a render's blocks must not pass.
        const bool warming = supervisor.isWarming();
        if (warming && (! audio.isPaceKnown() || audio.isOffline()))
            return WorkerPool::Ran::blocked;
        const bool tracing = trace::currentThreadLane() != nullptr;
        const int64_t chunkStart = nowNanos(), cpuStart = tracing ? trace::threadCpuNanosReusing (chunkStart, cpuReadingReuseNanos) : -1;
        chunkCollectorNanos = 0;

        if (! warming)
        {
            if (pendingStatsReset.exchange (false, std::memory_order_acq_rel))
                engine.clearStatistics();
            collector.applyStrategyOnWorker();
            supervisor.takeReadyScriptOnWorker();
            collector.takeProfiledStartOnWorker();

            const double pause = pendingPause.exchange (0.0, std::memory_order_acq_rel);
            if (pause > 0.0)
            {
                sleepNanos (static_cast<int64_t> (pause * 1.0e9));
                w = inputRing.publishedWritePosition();
            }
            if (collector.takeRequestedCollectionOnWorker())
                w = inputRing.publishedWritePosition();
        }

        if (skipUnneededOnWorker (r, w, tracing) && r == w)
            return WorkerPool::Ran::worked;

        const int64_t space = audio.outputOnWorker().freeForProducer();
        if (space <= 0)
            return WorkerPool::Ran::blocked; // the audio thread has not read the output yet
        const int n = static_cast<int> (std::min<uint64_t> ({ w - r, static_cast<uint64_t> (chunkMax),
                                                              static_cast<uint64_t> (space) }));
        const int nch = engine.getSettings().numChannels;
        inputRing.readFrames (r, scratchPtrs.data(), nch, 0, static_cast<size_t> (n));
        takeStampsOnWorker (r);
        if (warming)
        {
            passDryOnWorker (r, n);
            setDeadlineOnWorker (r + static_cast<uint64_t> (n));
            if (tracing)
                traceChunkOnWorker (r, n, chunkStart, cpuStart);
            return WorkerPool::Ran::worked;
        }

        float peak = 0.0f;
        for (int ch = 0; ch < nch; ++ch)
            for (int i = 0; i < n; ++i)
                peak = std::max (peak, std::abs (scratchPtrs[static_cast<size_t> (ch)][i]));

        const int64_t t0 = runDspOnWorker (r, n, tracing);
        const int64_t t1 = nowNanos();
        supervisor.takePrintedOnWorker();
        measureChunkOnWorker (r, n, t0, t1, peak);
        // The pool runs the earliest deadline first: what is left is due later.
        setDeadlineOnWorker (r + static_cast<uint64_t> (n));
        if (tracing)
            traceChunkOnWorker (r, n, chunkStart, cpuStart);
        return WorkerPool::Ran::worked;
    }

    // Input whose output the audio thread no longer needs is skipped, not played late. True if
    // some was (r then points past it).
    bool ChunkWorker::skipUnneededOnWorker (uint64_t& r, uint64_t w, bool tracing)
    {
        auto& audio = engine.audio();
        const uint64_t needed = audio.neededOnWorker();
        if (needed <= r)
            return false;
        const uint64_t to = std::min (needed, w);
        const int frames = static_cast<int> (std::min<uint64_t> (to - r, INT_MAX));
        // The skipped frames waited at least this long: both strategies' latencies see the
        // stall that made them late, not only the chunks that came in time.
        // (The first skipped frame, r, belongs to the oldest stamp still queued if that starts
        // at or before r, else to the block being worked through.)
        BlockStamp first = currentStamp;
        bool known = haveStamp;
        if (BlockStamp next; audio.stampsOnWorker().peek (next) && next.firstRingPos <= r)
        {
            first = next;
            known = true;
        }
        const bool offline = audio.isOffline();
        if (known && ! offline)
        {
            const int64_t now = nowNanos();
            engine.collector().observeResponseOnWorker (first, frames, static_cast<double> (now - first.arrivalNanos) * 1.0e-9,
                                                        static_cast<double> (now) * 1.0e-9);
        }
        skippedFrames.store (skippedFrames.load (std::memory_order_relaxed) + (to - r), std::memory_order_relaxed);
        if (tracing)
        {
            trace::Event e;
            e.kind = trace::Kind::skip;
            e.start = e.end = nowNanos();
            e.ringPos = r;
            e.frames = static_cast<int> (to - r);
            traceOnWorker (e);
        }
        if (offline)
            reportUnprocessedOnWorker (r, frames, "the host stopped waiting for it");
        audio.skipToOnWorker (r, to);
        r = to;
        return true;
    }

    void ChunkWorker::takeStampsOnWorker (uint64_t r)
    {
        auto& stamps = engine.audio().stampsOnWorker();
        BlockStamp s;
        while (stamps.peek (s) && s.firstRingPos <= r)
        {
            currentStamp = s;
            haveStamp = true;
            stamps.pop (s);
        }
    }

    // The DSP runs the chunk in place (and the incoming script beside it, crossfading in). Returns
    // when the DSP's call began.
    int64_t ChunkWorker::runDspOnWorker (uint64_t r, int n, bool tracing)
    {
        auto& supervisor = engine.supervisor();
        const int nch = engine.getSettings().numChannels;
        supervisor.pushParametersToScript();
        supervisor.feedIncomingOnWorker (scratchPtrs.data(), nch, n);
        supervisor.saveProgramStateIfAskedOnWorker();
        const bool rendering = engine.audio().isOffline();
        Dsp& dsp = supervisor.prepareForChunkOnWorker (rendering);
        const size_t heapBefore = tracing ? dsp.heapBytes() : 0;
        const int64_t t0 = nowNanos();
        if (fadeFromDryDone >= 0)
            for (int ch = 0; ch < nch; ++ch)
                std::copy_n (scratchPtrs[static_cast<size_t> (ch)], n, dryCopy.data() + static_cast<size_t> (ch * chunkMax));
        if (dsp.isReady() && ! dsp.process (scratchPtrs.data(), nch, n))
        {
            // A render goes on wet: the script starts again and runs the chunk again (a failed
            // call leaves the chunk's input as it was). Otherwise the failed chunk keeps its
            // input: wet = dry from now on.
            const std::string error = dsp.getError();
            if (rendering && supervisor.restartDspForRenderOnWorker() && supervisor.dsp().process (scratchPtrs.data(), nch, n))
                supervisor.consoleFromWorker (ConsoleLine::error, error + " (rendering: started again, its chunk run again)");
            else
            {
                supervisor.dspFailedOnWorker();
                if (rendering)
                    reportUnprocessedOnWorker (r, n, error.c_str());
            }
        }
        // A runtime that collects inside the call (Lua's incremental mode): a chunk that freed more
        // than a chunk's garbage ran the collector, and the trace counts the call as its work.
        if (tracing && supervisor.dsp().heapBytes() + (size_t (64) << 10) < heapBefore)
            chunkCollectorNanos += nowNanos() - t0;
        supervisor.crossfadeIncomingOnWorker (scratchPtrs.data(), nch, n);
        if (fadeFromDryDone >= 0)
            fadeInFromDryOnWorker (n);
        return t0;
    }

    // While the script warms up: the chunk's input is its output (wet = dry), handed to the audio
    // thread at once. Not measured: the script did not run.
    void ChunkWorker::passDryOnWorker (uint64_t r, int n)
    {
        auto& audio = engine.audio();
        audio.outputOnWorker().writeFrames (r, scratchPtrs.data(), engine.getSettings().numChannels, 0, static_cast<size_t> (n));
        audio.outputOnWorker().publishWrite (r + static_cast<uint64_t> (n));
        audio.inputOnWorker().publishRead (r + static_cast<uint64_t> (n));
        warmUpDryFrames.store (warmUpDryFrames.load (std::memory_order_relaxed) + static_cast<uint64_t> (n), std::memory_order_relaxed);
        fadeFromDryDone = 0;
    }

    // The first chunks the warm script runs: from the input it passed on to its own output, over
    // the crossfade length (no click where the warm-up ends).
    void ChunkWorker::fadeInFromDryOnWorker (int n) noexcept
    {
        const int length = std::max (1, engine.audio().getCrossfadeNominalSamples());
        const int nch = engine.getSettings().numChannels;
        for (int ch = 0; ch < nch; ++ch)
        {
            float* out = scratchPtrs[static_cast<size_t> (ch)];
            const float* dry = dryCopy.data() + static_cast<size_t> (ch * chunkMax);
            for (int i = 0; i < n; ++i)
            {
                const float g = std::min (1.0f, static_cast<float> (fadeFromDryDone + i + 1) / static_cast<float> (length));
                out[i] = out[i] * g + dry[i] * (1.0f - g);
            }
        }
        fadeFromDryDone += n;
        if (fadeFromDryDone >= length)
            fadeFromDryDone = -1;
    }

    // After the DSP: the chunk's statistics and counters, its output handed to the audio thread,
    // then its response measured and the collector's work.
    void ChunkWorker::measureChunkOnWorker (uint64_t r, int n, int64_t t0, int64_t t1, float peak)
    {
        auto& audio = engine.audio();
        const double sampleRate = engine.getSettings().sampleRate;
        processingTimes.add (static_cast<double> (t1 - t0) * 1.0e-9);
        // Offline, the host waits for the worker: lateness and response times measure nothing
        // real-time, and the latency must not adapt.
        const bool realtime = ! audio.isOffline();
        if (realtime && haveStamp && currentStamp.blockSize > 0)
        {
            const double late = static_cast<double> (t1 - deadlineNanos (currentStamp, r, sampleRate)) * 1.0e-9;
            lateness.add (std::max (late, 0.0));
        }

        // The chunk's counters first: whoever sees its output (waitForWorker) sees them too.
        chunksProcessed.store (chunksProcessed.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        framesProcessed.store (framesProcessed.load (std::memory_order_relaxed) + static_cast<uint64_t> (n),
                               std::memory_order_relaxed);
        heapBytes.store (engine.supervisor().dsp().heapBytes(), std::memory_order_relaxed);
        engine.supervisor().publishRuntimeFigures();
        const int nch = engine.getSettings().numChannels;
        audio.outputOnWorker().writeFrames (r, scratchPtrs.data(), nch, 0, static_cast<size_t> (n));
        audio.outputOnWorker().publishWrite (r + static_cast<uint64_t> (n));
        audio.inputOnWorker().publishRead (r + static_cast<uint64_t> (n));

        const double now = static_cast<double> (t1) * 1.0e-9;
        double response = -1.0;
        if (realtime && haveStamp)
        {
            response = now - static_cast<double> (currentStamp.arrivalNanos) * 1.0e-9;
            responseTimes.add (response);
        }
        engine.collector().afterChunkOnWorker (peak, realtime && haveStamp ? &currentStamp : nullptr, response, n, now, realtime);
    }

    void ChunkWorker::setDeadlineOnWorker (uint64_t next)
    {
        auto& audio = engine.audio();
        if (audio.inputOnWorker().publishedWritePosition() > next)
        {
            BlockStamp following;
            const BlockStamp& nextStamp = audio.stampsOnWorker().peek (following) && following.firstRingPos <= next ? following : currentStamp;
            pool->setDeadline (poolSlot.load (std::memory_order_relaxed), deadlineNanos (nextStamp, next, engine.getSettings().sampleRate));
        }
    }

    void ChunkWorker::traceChunkOnWorker (uint64_t r, int n, int64_t chunkStart, int64_t cpuStart) const noexcept
    {
        trace::Event e;
        e.kind = trace::Kind::chunk;
        e.start = chunkStart;
        e.end = nowNanos();
        e.due = haveStamp ? deadlineNanos (currentStamp, r, engine.getSettings().sampleRate) : e.end;
        e.arrival = haveStamp ? currentStamp.arrivalNanos : chunkStart;
        e.ringPos = r;
        e.frames = n;
        e.value = engine.supervisor().isRunningProgram() ? 1 : 0;
        e.collectorNanos = chunkCollectorNanos;
        e.cpuNanos = cpuStart >= 0 ? trace::threadCpuNanos() - cpuStart : -1;
        traceOnWorker (e);
    }

    // A pool thread: an event of this instance in the thread's lane of the trace, when tracing.
    void ChunkWorker::traceOnWorker (const trace::Event& e) const noexcept
    {
        if (auto* lane = trace::currentThreadLane())
        {
            trace::Event tagged = e;
            tagged.instance = engine.getTraceInstance();
            lane->push (tagged);
        }
    }

    // Worker, while the host renders: ring frames [from, from + n) could not be processed; the
    // console says which, in seconds of the render (ring positions count the input since prepare).
    void ChunkWorker::reportUnprocessedOnWorker (uint64_t from, int n, const char* why)
    {
        unprocessedFrames.store (unprocessedFrames.load (std::memory_order_relaxed) + static_cast<uint64_t> (n), std::memory_order_relaxed);
        const double sampleRate = engine.getSettings().sampleRate;
        char text[160];
        std::snprintf (text, sizeof (text), "rendering: %.3f s to %.3f s could not be processed (%s): the delayed dry signal",
                       static_cast<double> (from) / sampleRate, static_cast<double> (from + static_cast<uint64_t> (n)) / sampleRate, why);
        engine.supervisor().consoleFromWorker (ConsoleLine::error, text);
    }
} // namespace pg
