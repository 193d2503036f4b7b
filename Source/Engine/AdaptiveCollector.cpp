// AdaptiveCollector: the collector's schedule and the adaptive latency (see AdaptiveCollector.h).

#include "AdaptiveCollector.h"

#include "Clock.h"
#include "EngineControl.h"

#include <algorithm>
#include <climits>

namespace pg
{
    // ---- any thread ------------------------------------------------------------------------------

    void AdaptiveCollector::setPacing (int pausePercent, int stepMultiplierPercent) noexcept
    {
        pacingPause.store (std::clamp (pausePercent, 50, 1000), std::memory_order_relaxed);
        pacingStepMul.store (std::clamp (stepMultiplierPercent, 50, 1000), std::memory_order_relaxed);
    }

    void AdaptiveCollector::setDynamicSettings (const DynamicSettings& s) noexcept
    {
        budgetFraction.store (std::clamp (s.scheduler.budgetFraction, 0.0, 1.0), std::memory_order_relaxed);
        intervalSeconds.store (std::max (0.1, s.scheduler.intervalSeconds), std::memory_order_relaxed);
        heapThresholdBytes.store (s.scheduler.heapThresholdBytes, std::memory_order_relaxed);
        silenceHoldSeconds.store (std::max (0.0, s.scheduler.silenceHoldSeconds), std::memory_order_relaxed);
        safetyFactor.store (std::clamp (s.safetyFactor, 1.0, 10.0), std::memory_order_relaxed);
        dynamicMaxLatencySeconds.store (std::max (0.001, s.maxLatencySeconds), std::memory_order_relaxed);
        silenceThreshold.store (std::max (0.0f, s.silenceThreshold), std::memory_order_relaxed);
    }

    void AdaptiveCollector::addCountersTo (EngineCounters& c) const noexcept
    {
        c.fullCollections = fullCollections.load (std::memory_order_relaxed);
        c.forcedCollections = forcedCollections.load (std::memory_order_relaxed);
        c.incrementalSteps = incrementalSteps.load (std::memory_order_relaxed);
        c.collectorSeconds = collectorSeconds.load (std::memory_order_relaxed);
        c.adaptiveGrowths = adaptiveGrowths.load (std::memory_order_relaxed);
        c.adaptiveShrinks = adaptiveShrinks.load (std::memory_order_relaxed);
        c.wantedDynamicLatency = wantedDynamicLatency.load (std::memory_order_relaxed);
    }

    void AdaptiveCollector::clearCounters() noexcept
    {
        for (auto* c : { &fullCollections, &forcedCollections, &incrementalSteps, &adaptiveGrowths, &adaptiveShrinks })
            c->store (0, std::memory_order_relaxed);
        collectorSeconds.store (0.0, std::memory_order_relaxed);
        pauses.reset();
    }

    void AdaptiveCollector::describe (ProfileRequest& q) const noexcept
    {
        q.pausePercent = pacingPause.load();
        q.stepMultiplierPercent = pacingStepMul.load();
        q.safetyFactor = safetyFactor.load();
        q.maxDynamicLatencySamples =
            engine.clampLatency (static_cast<int> (dynamicMaxLatencySeconds.load() * engine.getSettings().sampleRate));
    }

    // Deterministic: Lua's automatic incremental collector with the user's pacing (a DSP program's
    // runtime: its own automatic collector). Dynamic: the generational mode, stopped (the engine
    // runs it; a program's automatic collection is turned off). On the worker, and on the loader
    // for a DSP it prepares.
    void AdaptiveCollector::applyCollectorMode (Dsp& target, Strategy s, int pausePercent, int stepMultiplierPercent)
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

    void AdaptiveCollector::measureFromNow (bool forget) noexcept
    {
        if (forget)
        {
            measuredLatency.store (0, std::memory_order_release); // a new script: its own responses
            measuredFrames.store (0, std::memory_order_release);
        }
        measureFromNanos.store (nowNanos(), std::memory_order_release);
    }

    // ---- control thread, worker stopped ------------------------------------------------------------

    Strategy AdaptiveCollector::prepare() noexcept
    {
        profiledDynamicStart.store (0, std::memory_order_relaxed);
        profiledDynamicSeen = 0;
        workerPause = pacingPause.load();
        workerStepMul = pacingStepMul.load();
        // The dynamic strategy starts from L, then adapts.
        workerStrategy = strategy.load (std::memory_order_acquire);
        return workerStrategy;
    }

    void AdaptiveCollector::start (int latencySamples, size_t heapBytes) noexcept
    {
        lastFullAt = nowSeconds();
        lastFullSeconds = 0.0;
        silentSince = -1.0;
        heapAfterLastFull = heapBytes;
        awaitingCollection = false;
        phaseRank = CyclePhases::nextRank();
        phasesStarted = false;
        collectorCredit = 0.0;
        adapter.reset (latencySamples, nowSeconds());
        wantedDynamicLatency.store (latencySamples, std::memory_order_release);
        measuredLatency.store (0, std::memory_order_release);
        measuredFrames.store (0, std::memory_order_release);
        measureFromNanos.store (nowNanos(), std::memory_order_release);
    }

    // ---- worker ------------------------------------------------------------------------------------

    Dsp& AdaptiveCollector::dsp() const noexcept { return engine.supervisor().dsp(); }

    // Deterministic: Lua's automatic incremental collector, paced by the user. Dynamic: Lua's
    // generational mode with automatic collection stopped; each step the scheduler runs is a young
    // collection, whose cost follows the garbage of the last few chunks, not the size of the heap.
    // (The incremental mode sweeps, in one indivisible step, every object that died since its mark
    // phase began; its steps grow with the garbage rate.) Entering generational mode runs a full
    // collection: a strategy switch makes it under the previous, larger, latency.
    void AdaptiveCollector::configureCollector (Strategy s)
    {
        configureCollector (dsp(), s);
        if (auto* incoming = engine.supervisor().incomingDsp())
            configureCollector (*incoming, s);
        appliedStrategy.store (s, std::memory_order_release);
    }

    void AdaptiveCollector::configureCollector (Dsp& target, Strategy s) const
    {
        applyCollectorMode (target, s, workerPause, workerStepMul);
    }

    void AdaptiveCollector::applyStrategyOnWorker()
    {
        const Strategy s = strategy.load (std::memory_order_acquire);
        if (s != workerStrategy && dsp().isReady())
        {
            workerStrategy = s;
            configureCollector (s);
            if (! dsp().isReady())
                engine.supervisor().dspFailedOnWorker();
            if (s == Strategy::dynamic)
            {
                const int profiled = profiledDynamicStart.load (std::memory_order_relaxed);
                const int start = profiled > 0 ? engine.clampLatency (profiled) : engine.audio().getPublishedLatency();
                adapter.reset (start, nowSeconds());
                wantedDynamicLatency.store (adapter.wanted(), std::memory_order_release);
                collectorCredit = 0.0;
            }
        }
        const int pause = pacingPause.load (std::memory_order_relaxed), stepMul = pacingStepMul.load (std::memory_order_relaxed);
        if ((pause != workerPause || stepMul != workerStepMul) && dsp().isReady())
        {
            workerPause = pause;
            workerStepMul = stepMul;
            configureCollector (workerStrategy);
            if (! dsp().isReady())
                engine.supervisor().dspFailedOnWorker();
        }
    }

    // A profile that lands while the dynamic strategy runs gives it its starting point.
    void AdaptiveCollector::takeProfiledStartOnWorker()
    {
        if (const int profiled = profiledDynamicStart.load (std::memory_order_relaxed); profiled != profiledDynamicSeen)
        {
            profiledDynamicSeen = profiled;
            if (workerStrategy == Strategy::dynamic && profiled > 0 && ! engine.audio().isOffline())
            {
                adapter.reset (engine.clampLatency (profiled), nowSeconds());
                wantedDynamicLatency.store (adapter.wanted(), std::memory_order_release);
            }
        }
    }

    bool AdaptiveCollector::takeRequestedCollectionOnWorker()
    {
        if (! pendingCollection.exchange (false, std::memory_order_acq_rel) || ! dsp().isReady())
            return false;
        fullCollectionOnWorker (nowSeconds(), false);
        return true;
    }

    void AdaptiveCollector::afterChunkOnWorker (float peak, const BlockStamp* measured, double response, int frames, double now, bool realtime)
    {
        if (peak >= silenceThreshold.load (std::memory_order_relaxed))
            silentSince = -1.0;
        else if (silentSince < 0.0)
            silentSince = now;

        if (measured != nullptr)
            observeResponseOnWorker (*measured, frames, response, now);
        runOnWorker (static_cast<double> (frames) / engine.getSettings().sampleRate, now);
        if (realtime)
            spreadCycleOnWorker (now);
    }

    // Worker, real time: a block's response, played or skipped (AdaptiveCollector.h).
    void AdaptiveCollector::observeResponseOnWorker (const BlockStamp& stamp, int frames, double responseSeconds, double now) noexcept
    {
        if (stamp.arrivalNanos < measureFromNanos.load (std::memory_order_acquire))
            return; // it waited for a warm-up or a new DSP
        measuredFrames.store (measuredFrames.load (std::memory_order_relaxed) + static_cast<uint64_t> (std::max (frames, 0)), std::memory_order_release);
        if (workerStrategy == Strategy::deterministic)
            measureResponseOnWorker (responseSeconds);
        else if (adapter.observe (responseSeconds, now, adapterSettings()))
        {
            wantedDynamicLatency.store (adapter.wanted(), std::memory_order_release);
            adaptiveGrowths.store (adaptiveGrowths.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
    }

    // The deterministic strategy's measured latency covers this response.
    void AdaptiveCollector::measureResponseOnWorker (double responseSeconds) noexcept
    {
        auto a = adapterSettings();
        a.minLatencySamples = engine.getFixedFloor(); // (the deterministic strategy's floor)
        a.maxLatencySamples = engine.clampLatency (INT_MAX);
        const int need = adapter.latencyFor (responseSeconds, a);
        if (need > measuredLatency.load (std::memory_order_relaxed))
            measuredLatency.store (need, std::memory_order_release);
    }

    AdapterSettings AdaptiveCollector::adapterSettings() const noexcept
    {
        const auto& settings = engine.getSettings();
        AdapterSettings a;
        a.blockSize = settings.maxBlockSize;
        a.sampleRate = settings.sampleRate;
        a.safetyFactor = safetyFactor.load (std::memory_order_relaxed);
        a.maxLatencySamples = engine.clampLatency (static_cast<int> (dynamicMaxLatencySeconds.load (std::memory_order_relaxed) * settings.sampleRate));
        a.fadeSamples = engine.audio().getDropoutFadeSamples();
        a.minLatencySamples = engine.getMeasuredFloor();
        return a;
    }

    void AdaptiveCollector::fullCollectionOnWorker (double now, bool forced)
    {
        // A concurrent runtime's cycle runs beside the next chunks in real time. Offline, nothing is
        // due: the collection is waited for, so that a render, which makes garbage as fast as the
        // machine allows, cannot outrun it (the heap stays within the threshold and a chunk's garbage).
        const double d = engine.audio().isOffline() ? dsp().fullCollection() : dsp().startFullCollection();
        if (d < 0.0)
        {
            engine.supervisor().dspFailedOnWorker();
            return;
        }
        pauses.add (d);
        auto& worker = engine.worker();
        worker.addCollectorNanos (static_cast<int64_t> (d * 1.0e9));
        {
            trace::Event e;
            e.kind = trace::Kind::collection;
            e.end = nowNanos();
            e.start = e.end - static_cast<int64_t> (d * 1.0e9);
            e.value = forced ? 1 : 0;
            worker.traceOnWorker (e);
        }
        fullCollections.store (fullCollections.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        if (forced)
            forcedCollections.store (forcedCollections.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        collectorSeconds.store (collectorSeconds.load (std::memory_order_relaxed) + d, std::memory_order_relaxed);
        heapAfterLastFull = dsp().heapBytes();
        worker.setHeapBytes (heapAfterLastFull);
        awaitingCollection = dsp().isCollecting(); // a concurrent cycle: its heap is taken when it ends
        lastFullAt = now + d;
        lastFullSeconds = d;
        phases.collected (heapAfterLastFull, lastFullAt); // a cycle ended here, asked for or not
    }

    // Deterministic, a script: its collector's cycles moved to this instance's phase (CyclePhases.h),
    // so that many instances do not collect in step. Starts at the first chunk after a warm-up
    // (whose last full collection left the heap the estimate starts from).
    void AdaptiveCollector::spreadCycleOnWorker (double now)
    {
        if (workerStrategy != Strategy::deterministic || ! dsp().isReady() || engine.supervisor().isRunningProgram())
        {
            if (phasesStarted)
                phases.stop();
            phasesStarted = false;
            return;
        }
        if (! phasesStarted)
        {
            phases.reset (phaseRank, dsp().heapBytes(), workerPause, now);
            phasesStarted = true;
        }
        else if (phases.afterChunk (dsp().heapBytes(), now))
        {
            fullCollectionOnWorker (now, false);
        }
    }

    void AdaptiveCollector::runOnWorker (double chunkSeconds, double now)
    {
        if (workerStrategy != Strategy::dynamic || ! dsp().isReady())
            return;
        if (collectedOffWorker.exchange (false, std::memory_order_acq_rel))
            heapAfterLastFull = dsp().heapBytes();

        SchedulerSettings s;
        s.budgetFraction = budgetFraction.load (std::memory_order_relaxed);
        s.intervalSeconds = intervalSeconds.load (std::memory_order_relaxed);
        s.heapThresholdBytes = static_cast<size_t> (heapThresholdBytes.load (std::memory_order_relaxed));
        s.silenceHoldSeconds = silenceHoldSeconds.load (std::memory_order_relaxed);

        const auto& settings = engine.getSettings();
        SchedulerInput in;
        in.now = now;
        in.chunkSeconds = chunkSeconds;
        in.heapBytes = dsp().heapBytes();
        in.heapAfterLastFull = heapAfterLastFull;
        in.lastFullAt = lastFullAt;
        in.lastFullSeconds = lastFullSeconds;
        in.slackSeconds = static_cast<double> (engine.audio().getPublishedLatency() - settings.maxBlockSize - engine.audio().getDropoutFadeSamples()) / settings.sampleRate - adapter.worstInWindow();
        in.transportPlaying = engine.audio().isTransportPlaying();
        in.silentSeconds = silentSince < 0.0 ? 0.0 : now - silentSince;

        // A concurrent runtime's cycle still running: none is started meanwhile; once it ends, its
        // heap is the one after the last full collection.
        const bool collecting = dsp().isCollecting();
        if (! collecting && awaitingCollection)
            heapAfterLastFull = in.heapAfterLastFull = dsp().heapBytes();
        awaitingCollection = collecting;
        const auto decision = collecting ? SchedulerDecision {} : CollectorScheduler::decide (in, s); // (no slices' budget)
        if (decision.action != CollectorAction::slices)
            fullCollectionOnWorker (now, decision.action == CollectorAction::fullForced);
        else
            runSlicesOnWorker (decision.sliceBudgetSeconds);

        const bool safePoint = ! in.transportPlaying || in.silentSeconds >= s.silenceHoldSeconds;
        if (! engine.audio().isOffline() && adapter.maybeShrink (nowSeconds(), safePoint, adapterSettings()))
        {
            wantedDynamicLatency.store (adapter.wanted(), std::memory_order_release);
            adaptiveShrinks.store (adaptiveShrinks.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
    }

    // Metronome-style: collector time is a share of real time. Credit accrues per chunk; a young
    // collection runs when there is credit (at most one per chunk: each one frees what the chunks
    // since the last one left), and a long one is paid back over the next.
    void AdaptiveCollector::runSlicesOnWorker (double sliceBudgetSeconds)
    {
        collectorCredit = std::min (collectorCredit + sliceBudgetSeconds, 0.02);
        if (collectorCredit > 0.0 && dsp().hasCollectorSteps())
        {
            const double d = dsp().collectorStep();
            pauses.add (d);
            engine.worker().addCollectorNanos (static_cast<int64_t> (d * 1.0e9));
            collectorCredit -= d;
            incrementalSteps.store (incrementalSteps.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            collectorSeconds.store (collectorSeconds.load (std::memory_order_relaxed) + d, std::memory_order_relaxed);
        }
        engine.worker().setHeapBytes (dsp().heapBytes());
    }
} // namespace pg
