// EngineCore, the worker's side: the chunk loop the pool runs, the collector glue, the
// deterministic measurement and the dynamic strategy's adaptation. See EngineCore.h for the
// thread rules.

#include "EngineCore.h"

#include "Clock.h"
#include "ExternalDsp.h"
#include "LuaDsp.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <thread>

namespace pg
{
    // Deterministic: Lua's automatic incremental collector with the user's pacing (a DSP program's
    // runtime: its own automatic collector). Dynamic: the generational mode, stopped (the engine
    // runs it; a program's automatic collection is turned off). On the worker, and on the loader
    // for a DSP it prepares.
    void EngineCore::applyCollectorMode (Dsp& target, Strategy s, int pausePercent, int stepMultiplierPercent)
    {
        if (s == Strategy::deterministic)
        {
            target.setIncrementalPacing (pausePercent, stepMultiplierPercent, 13);
            target.setAutomaticCollection (true);
        }
        else
        {
            target.setGenerational(); // entering it runs a full collection
            target.setAutomaticCollection (false);
        }
    }

    // ---- worker thread ---------------------------------------------------------------------------

    void EngineCore::pushParametersToScript()
    {
        for (int i = 0; i < numScriptParameters; ++i)
        {
            const auto& p = scriptParameters[static_cast<size_t> (i)];
            dsp->setParameter (p.name, p.value.load (std::memory_order_relaxed));
        }
    }

    // A pool thread: one chunk, and this engine's share of the thread's time.
    WorkerPool::Ran EngineCore::runOnPool() noexcept
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

    WorkerPool::Ran EngineCore::processAvailableOnWorker()
    {
        uint64_t w = inputRing.publishedWritePosition();
        uint64_t r = inputRing.consumerPosition();
        if (w == r)
            return WorkerPool::Ran::idle;
        // Held by a test, or the loader is building the script's live heap: no chunk, and the
        // script is not touched.
        if (workerHeld.load (std::memory_order_acquire) || warmingJobs.load (std::memory_order_acquire) > 0)
            return WorkerPool::Ran::blocked;
        const bool tracing = trace::currentThreadLane() != nullptr;
        const int64_t chunkStart = nowNanos(), cpuStart = tracing ? trace::threadCpuNanos() : -1;
        chunkCollectorNanos = 0;

        if (pendingStatsReset.exchange (false, std::memory_order_acq_rel))
            clearStatistics();
        applyStrategyOnWorker();
        takeReadyScriptOnWorker();
        // A profile that lands while the dynamic strategy runs gives it its starting point.
        if (const int profiled = profiledDynamicStart.load (std::memory_order_relaxed); profiled != profiledDynamicSeen)
        {
            profiledDynamicSeen = profiled;
            if (workerStrategy == Strategy::dynamic && profiled > 0 && ! isOffline())
            {
                adapter.reset (clampLatency (profiled), nowSeconds());
                wantedDynamicLatency.store (adapter.wanted(), std::memory_order_release);
            }
        }

        const double pause = pendingPause.exchange (0.0, std::memory_order_acq_rel);
        if (pause > 0.0)
        {
            sleepNanos (static_cast<int64_t> (pause * 1.0e9));
            w = inputRing.publishedWritePosition();
        }
        if (pendingCollection.exchange (false, std::memory_order_acq_rel) && dsp->isReady())
        {
            fullCollectionOnWorker (nowSeconds(), false);
            w = inputRing.publishedWritePosition();
        }

        // Input whose output the audio thread no longer needs is skipped, not played late.
        const uint64_t needed = audioNeededRingPos.load (std::memory_order_acquire);
        if (needed > r)
        {
            const uint64_t to = std::min (needed, w);
            // The skipped frames waited at least this long: the deterministic measurement sees
            // the stall that made them late, not only the chunks that came in time.
            // (The first skipped frame, r, belongs to the oldest stamp still queued if that starts
            // at or before r, else to the block being worked through.)
            BlockStamp first = currentStamp;
            bool known = haveStamp;
            if (BlockStamp next; stamps.peek (next) && next.firstRingPos <= r)
            {
                first = next;
                known = true;
            }
            if (known && ! isOffline())
                measureResponse (first, static_cast<double> (nowNanos() - first.arrivalNanos) * 1.0e-9);
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
            if (isOffline())
                reportUnprocessedOnWorker (r, static_cast<int> (std::min<uint64_t> (to - r, INT_MAX)), "the host stopped waiting for it");
            outputValidFrom.store (to, std::memory_order_release);
            outputRing.publishWrite (to);
            inputRing.publishRead (to);
            r = to;
            if (r == w)
                return WorkerPool::Ran::worked;
        }

        const int64_t space = outputRing.freeForProducer();
        if (space <= 0)
            return WorkerPool::Ran::blocked; // the audio thread has not read the output yet
        const int n = static_cast<int> (std::min<uint64_t> ({ w - r, static_cast<uint64_t> (chunkMax),
                                                              static_cast<uint64_t> (space) }));
        const int nch = settings.numChannels;
        inputRing.readFrames (r, scratchPtrs.data(), nch, 0, static_cast<size_t> (n));

        BlockStamp s;
        while (stamps.peek (s) && s.firstRingPos <= r)
        {
            currentStamp = s;
            haveStamp = true;
            stamps.pop (s);
        }

        float peak = 0.0f;
        for (int ch = 0; ch < nch; ++ch)
            for (int i = 0; i < n; ++i)
                peak = std::max (peak, std::abs (scratchPtrs[static_cast<size_t> (ch)][i]));

        pushParametersToScript();
        if (incoming != nullptr)
            for (int ch = 0; ch < nch; ++ch)
                std::copy (scratchPtrs[static_cast<size_t> (ch)], scratchPtrs[static_cast<size_t> (ch)] + n,
                           incomingPtrs[static_cast<size_t> (ch)]);
        if (stateRequests.load (std::memory_order_acquire) != stateAnswers.load (std::memory_order_relaxed))
            saveProgramStateOnWorker();
        const bool rendering = isOffline();
        dsp->setRendering (rendering); // a render waits for the DSP: only a hang fails it
        if (rendering && ! dsp->isReady() && dynamic_cast<const LuaDsp*> (dsp.get()) != nullptr)
            restartDspForRenderOnWorker(); // (a program that failed is started again on the loader)
        const size_t heapBefore = tracing ? dsp->heapBytes() : 0;
        const int64_t t0 = nowNanos();
        if (dsp->isReady() && ! dsp->process (scratchPtrs.data(), nch, n))
        {
            // A render goes on wet: the script starts again and runs the chunk again (a failed
            // call leaves the chunk's input as it was). Otherwise the failed chunk keeps its
            // input: wet = dry from now on.
            const std::string error = dsp->getError();
            if (rendering && restartDspForRenderOnWorker() && dsp->process (scratchPtrs.data(), nch, n))
                consoleFromWorker (ConsoleLine::error, error + " (rendering: started again, its chunk run again)");
            else
            {
                dspFailedOnWorker();
                if (rendering)
                    reportUnprocessedOnWorker (r, n, error.c_str());
            }
        }
        // A runtime that collects inside the call (Lua's incremental mode): a chunk that freed more
        // than a chunk's garbage ran the collector, and the trace counts the call as its work.
        if (tracing && dsp->heapBytes() + (size_t (64) << 10) < heapBefore)
            chunkCollectorNanos += nowNanos() - t0;
        if (incoming != nullptr)
            crossfadeIncomingOnWorker (nch, n);
        const int64_t t1 = nowNanos();
        for (const auto& line : dsp->takePrinted())
            consoleFromWorker (ConsoleLine::print, line);

        processingTimes.add (static_cast<double> (t1 - t0) * 1.0e-9);
        // Offline, the host waits for the worker: lateness and response times measure nothing
        // real-time, and the latency must not adapt.
        const bool realtime = ! isOffline();
        if (realtime && haveStamp && currentStamp.blockSize > 0)
        {
            const double late = static_cast<double> (t1 - deadlineNanos (currentStamp, r)) * 1.0e-9;
            lateness.add (std::max (late, 0.0));
        }

        // The chunk's counters first: whoever sees its output (waitForWorker) sees them too.
        chunksProcessed.store (chunksProcessed.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        framesProcessed.store (framesProcessed.load (std::memory_order_relaxed) + static_cast<uint64_t> (n),
                               std::memory_order_relaxed);
        heapBytes.store (dsp->heapBytes(), std::memory_order_relaxed);
        publishRuntimeFigures();
        outputRing.writeFrames (r, scratchPtrs.data(), nch, 0, static_cast<size_t> (n));
        outputRing.publishWrite (r + static_cast<uint64_t> (n));
        inputRing.publishRead (r + static_cast<uint64_t> (n));

        const double now = static_cast<double> (t1) * 1.0e-9;
        if (peak >= silenceThreshold.load (std::memory_order_relaxed))
            silentSince = -1.0;
        else if (silentSince < 0.0)
            silentSince = now;

        if (realtime && haveStamp)
        {
            const double response = now - static_cast<double> (currentStamp.arrivalNanos) * 1.0e-9;
            responseTimes.add (response);
            measureResponse (currentStamp, response);
            if (workerStrategy == Strategy::dynamic)
            {
                if (adapter.observe (response, now, adapterSettings()))
                {
                    wantedDynamicLatency.store (adapter.wanted(), std::memory_order_release);
                    adaptiveGrowths.store (adaptiveGrowths.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                }
            }
        }
        runCollectorOnWorker (static_cast<double> (n) / settings.sampleRate, now);
        if (realtime)
            spreadCycleOnWorker (now);
        // The pool runs the earliest deadline first: what is left is due later.
        const uint64_t next = r + static_cast<uint64_t> (n);
        if (inputRing.publishedWritePosition() > next)
        {
            BlockStamp following;
            const BlockStamp& nextStamp = stamps.peek (following) && following.firstRingPos <= next ? following : currentStamp;
            pool->setDeadline (poolSlot.load (std::memory_order_relaxed), deadlineNanos (nextStamp, next));
        }
        if (tracing)
        {
            trace::Event e;
            e.kind = trace::Kind::chunk;
            e.start = chunkStart;
            e.end = nowNanos();
            e.due = haveStamp ? deadlineNanos (currentStamp, r) : e.end;
            e.arrival = haveStamp ? currentStamp.arrivalNanos : chunkStart;
            e.ringPos = r;
            e.frames = n;
            e.value = runningProgram.load (std::memory_order_relaxed) ? 1 : 0;
            e.collectorNanos = chunkCollectorNanos;
            e.cpuNanos = cpuStart >= 0 ? trace::threadCpuNanos() - cpuStart : -1;
            traceOnWorker (e);
        }
        return WorkerPool::Ran::worked;
    }

    // A pool thread: an event of this instance in the thread's lane of the trace, when tracing.
    void EngineCore::traceOnWorker (const trace::Event& e) const noexcept
    {
        if (auto* lane = trace::currentThreadLane())
        {
            trace::Event tagged = e;
            tagged.instance = instanceId;
            lane->push (tagged);
        }
    }

    // Worker: runs the incoming script on the same input and crossfades to it over the engine's
    // crossfade length; if it fails meanwhile, it is dropped and the running script keeps playing.
    void EngineCore::crossfadeIncomingOnWorker (int nch, int n)
    {
        for (int i = 0; i < numScriptParameters; ++i)
            incoming->setParameter (scriptParameters[static_cast<size_t> (i)].name,
                                    scriptParameters[static_cast<size_t> (i)].value.load (std::memory_order_relaxed));
        if (! incoming->process (incomingPtrs.data(), nch, n))
        {
            consoleFromWorker (ConsoleLine::error, incoming->getError() + " (not loaded: the current script keeps playing)");
            incoming.reset();
            return;
        }
        for (const auto& line : incoming->takePrinted())
            consoleFromWorker (ConsoleLine::print, line);
        const float step = 1.0f / static_cast<float> (crossfadeSamples);
        for (int ch = 0; ch < nch; ++ch)
        {
            float* out = scratchPtrs[static_cast<size_t> (ch)];
            const float* in = incomingPtrs[static_cast<size_t> (ch)];
            for (int i = 0; i < n; ++i)
            {
                const float g = std::min (1.0f, static_cast<float> (incomingFadeDone + i + 1) * step);
                out[i] = in[i] * g + out[i] * (1.0f - g);
            }
        }
        incomingFadeDone += n;
        if (incomingFadeDone >= crossfadeSamples)
        {
            // The new script takes over; the old one is freed by the control thread.
            auto* old = dsp.release();
            dsp = std::move (incoming);
            takenOverNanos = nowNanos();
            const auto* program = dynamic_cast<const ExternalDsp*> (dsp.get());
            runningProgram.store (program != nullptr, std::memory_order_relaxed);
            if (program == nullptr)
                runtimeReported.store (false, std::memory_order_release); // a script: no runtime's own figures
            dspProcessId.store (program != nullptr ? static_cast<int> (program->getPid()) : 0, std::memory_order_release);
            if (program != nullptr && ! program->getChildName().empty())
                incomingName = program->getChildName();
            measuredLatency.store (0, std::memory_order_release); // a new script: its own responses
            measureFromNanos.store (nowNanos(), std::memory_order_release);
            scriptFailed.store (false, std::memory_order_release);
            {
                std::lock_guard<std::mutex> lock (scriptLock);
                runningName = incomingName;
                runningMacros = dsp->getMacros();
            }
            consoleFromWorker (ConsoleLine::info, incomingName + " loaded");
            {
                trace::Event e;
                e.kind = trace::Kind::dspStart;
                e.start = e.end = takenOverNanos;
                traceOnWorker (e);
            }
            if (! loader.retire (old))
                delete old; // the loader's queue is full (it frees them every 20 ms): freed here, once
        }
    }

    // Worker, real time: the deterministic strategy's measured latency covers this response.
    void EngineCore::measureResponse (const BlockStamp& stamp, double responseSeconds) noexcept
    {
        if (workerStrategy != Strategy::deterministic || stamp.arrivalNanos < measureFromNanos.load (std::memory_order_acquire))
            return;
        auto a = adapterSettings();
        a.maxLatencySamples = clampLatency (INT_MAX);
        const int need = adapter.latencyFor (responseSeconds, a);
        if (need > measuredLatency.load (std::memory_order_relaxed))
            measuredLatency.store (need, std::memory_order_release);
    }

    AdapterSettings EngineCore::adapterSettings() const noexcept
    {
        AdapterSettings a;
        a.blockSize = settings.maxBlockSize;
        a.sampleRate = settings.sampleRate;
        a.safetyFactor = safetyFactor.load (std::memory_order_relaxed);
        a.maxLatencySamples = clampLatency (static_cast<int> (dynamicMaxLatencySeconds.load (std::memory_order_relaxed) * settings.sampleRate));
        a.minLatencySamples = getLatencyFloor();
        return a;
    }

    void EngineCore::applyStrategyOnWorker()
    {
        const Strategy s = strategy.load (std::memory_order_acquire);
        if (s != workerStrategy && dsp->isReady())
        {
            workerStrategy = s;
            configureCollector (s);
            if (! dsp->isReady())
                dspFailedOnWorker();
            if (s == Strategy::dynamic)
            {
                const int profiled = profiledDynamicStart.load (std::memory_order_relaxed);
                const int start = profiled > 0 ? clampLatency (profiled) : publishedLatency.load();
                adapter.reset (start, nowSeconds());
                wantedDynamicLatency.store (adapter.wanted(), std::memory_order_release);
                collectorCredit = 0.0;
            }
        }
        const int pause = pacingPause.load (std::memory_order_relaxed), stepMul = pacingStepMul.load (std::memory_order_relaxed);
        if ((pause != workerPause || stepMul != workerStepMul) && dsp->isReady())
        {
            workerPause = pause;
            workerStepMul = stepMul;
            configureCollector (workerStrategy);
            if (! dsp->isReady())
                dspFailedOnWorker();
        }
    }

    // Deterministic: Lua's automatic incremental collector, paced by the user. Dynamic: Lua's
    // generational mode with automatic collection stopped; each step the scheduler runs is a young
    // collection, whose cost follows the garbage of the last few chunks, not the size of the heap.
    // (The incremental mode sweeps, in one indivisible step, every object that died since its mark
    // phase began; its steps grow with the garbage rate.) Entering generational mode runs a full
    // collection: a strategy switch makes it under the previous, larger, latency.
    void EngineCore::configureCollector (Strategy s)
    {
        configureCollector (*dsp, s);
        if (incoming != nullptr)
            configureCollector (*incoming, s);
        appliedStrategy.store (s, std::memory_order_release);
    }

    void EngineCore::configureCollector (Dsp& target, Strategy s)
    {
        applyCollectorMode (target, s, workerPause, workerStepMul);
    }

    // Worker, while the host renders: the DSP that failed (a script, or a program that died or
    // hung) starts again, in the collector mode and with the parameters of the one it replaces; a
    // program's old process is stopped and reaped where the loader frees it. False if it cannot
    // start again, or if it has failed to three times in a row (a program that never starts
    // would cost its start-up bound on every chunk).
    bool EngineCore::restartDspForRenderOnWorker()
    {
        if (warmingJobs.load (std::memory_order_acquire) > 0 || renderRestartsFailed >= 3)
            return false;
        auto fresh = dsp->restarted();
        if (fresh == nullptr)
        {
            ++renderRestartsFailed;
            return false;
        }
        renderRestartsFailed = 0;
        fresh->setRendering (true);
        configureCollector (*fresh, workerStrategy);
        auto* old = dsp.release();
        dsp = std::move (fresh);
        pushParametersToScript();
        scriptFailed.store (false, std::memory_order_release);
        if (const auto* program = dynamic_cast<const ExternalDsp*> (dsp.get()))
        {
            dspProcessId.store (static_cast<int> (program->getPid()), std::memory_order_release);
            dspRestarts.fetch_add (1, std::memory_order_relaxed);
            takenOverNanos = nowNanos();
        }
        if (! loader.retire (old))
            delete old;
        return true;
    }

    // Worker, while the host renders: ring frames [from, from + n) could not be processed; the
    // console says which, in seconds of the render (ring positions count the input since prepare).
    void EngineCore::reportUnprocessedOnWorker (uint64_t from, int n, const char* why)
    {
        unprocessedFrames.store (unprocessedFrames.load (std::memory_order_relaxed) + static_cast<uint64_t> (n), std::memory_order_relaxed);
        char text[160];
        std::snprintf (text, sizeof (text), "rendering: %.3f s to %.3f s could not be processed (%s): the delayed dry signal",
                       static_cast<double> (from) / settings.sampleRate, static_cast<double> (from + static_cast<uint64_t> (n)) / settings.sampleRate, why);
        consoleFromWorker (ConsoleLine::error, text);
    }

    // The DSP failed (a script's error, or a program that crashed, hung or answered late): its
    // chunks pass their input through from now on, so the output is the delayed dry signal. A
    // program is started again on the loader, after a backoff; one that ran 30 s or more before
    // failing starts the backoff over.
    void EngineCore::dspFailedOnWorker()
    {
        if (scriptFailed.load (std::memory_order_relaxed))
            return;
        setScriptFailed (dsp->getError());
        if (! runningProgram.load (std::memory_order_relaxed))
            return;
        dspProcessId.store (0, std::memory_order_release);
        consoleFromWorker (ConsoleLine::error, dsp->getError() + " (the delayed dry signal plays until it restarts)");
        if (nowNanos() - takenOverNanos > 30'000'000'000)
            restartAttempts.store (0, std::memory_order_relaxed);
        scheduleRestart (restartAttempts.load (std::memory_order_relaxed));
    }

    void EngineCore::saveProgramStateOnWorker()
    {
        const uint32_t wanted = stateRequests.load (std::memory_order_acquire);
        auto* program = dynamic_cast<ExternalDsp*> (dsp.get());
        std::string state;
        const bool saved = program != nullptr && program->isReady() && program->saveState (state);
        if (program != nullptr && ! program->getError().empty())
            dspFailedOnWorker(); // (the child failed while it saved: restarted as after a chunk)
        {
            std::lock_guard<std::mutex> lock (stateLock);
            if (saved)
                programState = std::move (state);
            stateAnswers.store (wanted, std::memory_order_release);
        }
        stateSaved.notify_all();
    }

    void EngineCore::publishRuntimeFigures() noexcept
    {
        const RuntimeFigures f = dsp->runtimeFigures();
        if (! f.reported)
            return;
        runtimeHeap.store (f.heapBytes, std::memory_order_relaxed);
        runtimeCollections.store (f.collections, std::memory_order_relaxed);
        runtimePauseCount.store (f.pauseCount, std::memory_order_relaxed);
        runtimePauseP50.store (f.pauseP50Seconds, std::memory_order_relaxed);
        runtimePauseP99.store (f.pauseP99Seconds, std::memory_order_relaxed);
        runtimePauseMax.store (f.pauseMaxSeconds, std::memory_order_relaxed);
        runtimeReported.store (true, std::memory_order_release);
    }

    void EngineCore::fullCollectionOnWorker (double now, bool forced)
    {
        // A concurrent runtime's cycle runs beside the next chunks in real time. Offline, nothing is
        // due: the collection is waited for, so that a render, which makes garbage as fast as the
        // machine allows, cannot outrun it (the heap stays within the threshold and a chunk's garbage).
        const double d = isOffline() ? dsp->fullCollection() : dsp->startFullCollection();
        if (d < 0.0)
        {
            dspFailedOnWorker();
            return;
        }
        pauses.add (d);
        chunkCollectorNanos += static_cast<int64_t> (d * 1.0e9);
        {
            trace::Event e;
            e.kind = trace::Kind::collection;
            e.end = nowNanos();
            e.start = e.end - static_cast<int64_t> (d * 1.0e9);
            e.value = forced ? 1 : 0;
            traceOnWorker (e);
        }
        fullCollections.store (fullCollections.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        if (forced)
            forcedCollections.store (forcedCollections.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        collectorSeconds.store (collectorSeconds.load (std::memory_order_relaxed) + d, std::memory_order_relaxed);
        heapAfterLastFull = dsp->heapBytes();
        heapBytes.store (heapAfterLastFull, std::memory_order_relaxed);
        awaitingCollection = dsp->isCollecting(); // a concurrent cycle: its heap is taken when it ends
        lastFullAt = now + d;
        lastFullSeconds = d;
        phases.collected (heapAfterLastFull, lastFullAt); // a cycle ended here, asked for or not
    }

    // Deterministic, a script: its collector's cycles moved to this instance's phase (CyclePhases.h),
    // so that many instances do not collect in step. Starts at the first chunk after a warm-up
    // (whose last full collection left the heap the estimate starts from).
    void EngineCore::spreadCycleOnWorker (double now)
    {
        if (workerStrategy != Strategy::deterministic || ! dsp->isReady() || runningProgram.load (std::memory_order_relaxed))
        {
            if (phasesStarted)
                phases.stop();
            phasesStarted = false;
            return;
        }
        if (! phasesStarted)
        {
            phases.reset (phaseRank, dsp->heapBytes(), workerPause, now);
            phasesStarted = true;
        }
        else if (phases.afterChunk (dsp->heapBytes(), now))
        {
            fullCollectionOnWorker (now, false);
        }
    }

    void EngineCore::runCollectorOnWorker (double chunkSeconds, double now)
    {
        if (workerStrategy != Strategy::dynamic || ! dsp->isReady())
            return;

        SchedulerSettings s;
        s.budgetFraction = budgetFraction.load (std::memory_order_relaxed);
        s.intervalSeconds = intervalSeconds.load (std::memory_order_relaxed);
        s.heapThresholdBytes = static_cast<size_t> (heapThresholdBytes.load (std::memory_order_relaxed));
        s.silenceHoldSeconds = silenceHoldSeconds.load (std::memory_order_relaxed);

        SchedulerInput in;
        in.now = now;
        in.chunkSeconds = chunkSeconds;
        in.heapBytes = dsp->heapBytes();
        in.heapAfterLastFull = heapAfterLastFull;
        in.lastFullAt = lastFullAt;
        in.lastFullSeconds = lastFullSeconds;
        in.slackSeconds = static_cast<double> (publishedLatency.load (std::memory_order_relaxed) - settings.maxBlockSize) / settings.sampleRate - adapter.worstInWindow();
        in.transportPlaying = transportPlaying.load (std::memory_order_relaxed);
        in.silentSeconds = silentSince < 0.0 ? 0.0 : now - silentSince;

        // A concurrent runtime's cycle still running: none is started meanwhile; once it ends, its
        // heap is the one after the last full collection.
        const bool collecting = dsp->isCollecting();
        if (! collecting && awaitingCollection)
            heapAfterLastFull = in.heapAfterLastFull = dsp->heapBytes();
        awaitingCollection = collecting;
        const auto decision = collecting ? SchedulerDecision {} : CollectorScheduler::decide (in, s); // (no slices' budget)
        if (decision.action != CollectorAction::slices)
        {
            fullCollectionOnWorker (now, decision.action == CollectorAction::fullForced);
        }
        else
        {
            // Metronome-style: collector time is a fixed share of real time. Credit accrues per
            // chunk; steps run while it lasts and no new input waits (or the credit piles up).
            // Metronome-style: collector time is a share of real time. Credit accrues per chunk; a
            // young collection runs when there is credit (at most one per chunk: each one frees
            // what the chunks since the last one left), and a long one is paid back over the next.
            collectorCredit = std::min (collectorCredit + decision.sliceBudgetSeconds, 0.02);
            if (collectorCredit > 0.0 && dsp->hasCollectorSteps())
            {
                const double d = dsp->collectorStep();
                pauses.add (d);
                chunkCollectorNanos += static_cast<int64_t> (d * 1.0e9);
                collectorCredit -= d;
                incrementalSteps.store (incrementalSteps.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                collectorSeconds.store (collectorSeconds.load (std::memory_order_relaxed) + d, std::memory_order_relaxed);
            }
            heapBytes.store (dsp->heapBytes(), std::memory_order_relaxed);
        }

        const bool safePoint = ! in.transportPlaying || in.silentSeconds >= s.silenceHoldSeconds;
        if (! isOffline() && adapter.maybeShrink (nowSeconds(), safePoint, adapterSettings()))
        {
            wantedDynamicLatency.store (adapter.wanted(), std::memory_order_release);
            adaptiveShrinks.store (adaptiveShrinks.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
    }

} // namespace pg
