#include "LatencyEngine.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <limits>
#include <cmath>

#if defined(__linux__) || defined(__APPLE__)
#include <pthread.h>
#include <sched.h>
#endif

namespace pg
{
    namespace
    {
        int64_t nowNanos() noexcept
        {
            using namespace std::chrono;
            return duration_cast<nanoseconds> (steady_clock::now().time_since_epoch()).count();
        }

        double nowSeconds() noexcept { return static_cast<double> (nowNanos()) * 1.0e-9; }

        // Above normal threads, below the audio thread; quietly stays normal where not allowed.
        void raiseWorkerPriority() noexcept
        {
#if defined(__linux__)
            sched_param param {};
            param.sched_priority = std::max (1, sched_get_priority_min (SCHED_FIFO) + 4);
            pthread_setschedparam (pthread_self(), SCHED_FIFO, &param);
#endif
        }
    } // namespace

    LatencyEngine::LatencyEngine() { console.allocate (256); }

    LatencyEngine::~LatencyEngine()
    {
        stopWorker();
        releaseRetiredScript();
    }

    // ---- scripts ---------------------------------------------------------------------------------

    void LatencyEngine::loadScript (std::string source, std::string name)
    {
        std::lock_guard<std::mutex> lock (scriptLock);
        pendingSource = std::move (source);
        pendingName = std::move (name);
        scriptRequest.store (true, std::memory_order_release);
    }

    std::string LatencyEngine::getScriptName() const
    {
        std::lock_guard<std::mutex> lock (scriptLock);
        return runningName;
    }

    std::vector<LuaDsp::MacroSpec> LatencyEngine::getScriptMacros() const
    {
        std::lock_guard<std::mutex> lock (scriptLock);
        return runningMacros;
    }

    void LatencyEngine::releaseRetiredScript() { delete retired.exchange (nullptr, std::memory_order_acq_rel); }

    void LatencyEngine::consoleFromWorker (ConsoleLine::Kind kind, const std::string& text) noexcept
    {
        ConsoleLine line;
        line.kind = kind;
        const size_t n = std::min (text.size(), sizeof (line.text) - 1);
        std::memcpy (line.text, text.data(), n);
        line.text[n] = '\0';
        console.push (line); // a full console drops the line: nobody is reading it
    }

    void LatencyEngine::takeScriptRequestOnWorker()
    {
        if (! scriptRequest.load (std::memory_order_acquire))
            return;
        std::string source, name;
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            source = std::move (pendingSource);
            name = pendingName;
            scriptRequest.store (false, std::memory_order_relaxed);
        }
        auto next = std::make_unique<LuaDsp> (settings.luaLimits);
        for (int i = 0; i < numScriptParameters; ++i)
            next->setParameter (scriptParameters[static_cast<size_t> (i)].name,
                                scriptParameters[static_cast<size_t> (i)].value.load (std::memory_order_relaxed));
        if (! next->load (source, name) || ! next->prepare (settings.sampleRate, chunkMax, settings.numChannels))
        {
            consoleFromWorker (ConsoleLine::error, next->getError() + " (not loaded: the current script keeps playing)");
            return;
        }
        configureCollector (*next, workerStrategy);
        incoming = std::move (next);
        incomingName = name;
        incomingFadeDone = 0;
    }

    int LatencyEngine::addScriptParameter (const char* name, float initialValue)
    {
        if (numScriptParameters >= maxScriptParameters)
            return -1;
        auto& p = scriptParameters[static_cast<size_t> (numScriptParameters)];
        p.name = name;
        p.value.store (initialValue, std::memory_order_relaxed);
        return numScriptParameters++;
    }

    void LatencyEngine::setScriptParameter (int index, float value) noexcept
    {
        if (index >= 0 && index < numScriptParameters)
            scriptParameters[static_cast<size_t> (index)].value.store (value, std::memory_order_relaxed);
    }

    void LatencyEngine::setPacing (int pausePercent, int stepMultiplierPercent) noexcept
    {
        pacingPause.store (std::clamp (pausePercent, 50, 1000), std::memory_order_relaxed);
        pacingStepMul.store (std::clamp (stepMultiplierPercent, 50, 1000), std::memory_order_relaxed);
    }

    void LatencyEngine::setDynamicSettings (const DynamicSettings& s) noexcept
    {
        budgetFraction.store (std::clamp (s.scheduler.budgetFraction, 0.0, 1.0), std::memory_order_relaxed);
        intervalSeconds.store (std::max (0.1, s.scheduler.intervalSeconds), std::memory_order_relaxed);
        heapThresholdBytes.store (s.scheduler.heapThresholdBytes, std::memory_order_relaxed);
        silenceHoldSeconds.store (std::max (0.0, s.scheduler.silenceHoldSeconds), std::memory_order_relaxed);
        safetyFactor.store (std::clamp (s.safetyFactor, 1.0, 10.0), std::memory_order_relaxed);
        dynamicMaxLatencySeconds.store (std::max (0.001, s.maxLatencySeconds), std::memory_order_relaxed);
        silenceThreshold.store (std::max (0.0f, s.silenceThreshold), std::memory_order_relaxed);
    }

    void LatencyEngine::clearStatistics() noexcept
    {
        for (auto* c : { &dropoutFrames, &dropoutEvents, &inputOverflowFrames, &skippedFrames, &chunksProcessed, &framesProcessed,
                         &fullCollections, &forcedCollections, &incrementalSteps, &adaptiveGrowths, &adaptiveShrinks })
            c->store (0, std::memory_order_relaxed);
        collectorSeconds.store (0.0, std::memory_order_relaxed);
        processingTimes.reset();
        lateness.reset();
        pauses.reset();
        responseTimes.reset();
    }

    // ---- control thread --------------------------------------------------------------------------

    bool LatencyEngine::prepare (const EngineSettings& newSettings, std::string_view scriptSource,
                                 std::string_view scriptName, int latencySamples, bool profileFirst,
                                 double profileBudgetSeconds)
    {
        stopWorker();
        prepared.store (false, std::memory_order_release);

        settings = newSettings;
        settings.numChannels = std::clamp (settings.numChannels, 1, maxChannels);
        settings.maxBlockSize = std::max (1, settings.maxBlockSize);
        settings.sampleRate = settings.sampleRate > 0.0 ? settings.sampleRate : 48000.0;
        chunkMax = std::max (settings.maxBlockSize, 32);

        const auto maxLatency = static_cast<size_t> (std::ceil (settings.maxLatencySeconds * settings.sampleRate));
        const auto block = static_cast<size_t> (settings.maxBlockSize);
        dryLine.allocate (settings.numChannels, maxLatency + block + 16);
        const size_t ringFrames = 2 * (maxLatency + block) + static_cast<size_t> (chunkMax);
        inputRing.allocate (settings.numChannels, ringFrames);
        outputRing.allocate (settings.numChannels, ringFrames);
        stamps.allocate (inputRing.getCapacity());
        scratch.assign (static_cast<size_t> (settings.numChannels * chunkMax), 0.0f);
        for (int c = 0; c < maxChannels; ++c)
            scratchPtrs[static_cast<size_t> (c)] =
                c < settings.numChannels ? scratch.data() + static_cast<size_t> (c * chunkMax) : nullptr;

        audioTime = inputWritePos = outputReadPos = 0;
        numGaps = 0;
        baseOffset = 0;
        haveStamp = false;
        outputValidFrom.store (0, std::memory_order_relaxed);
        audioNeededRingPos.store (0, std::memory_order_relaxed);
        mixCurrent = bypassed.load() ? 0.0f : mixTarget.load();
        clearStatistics();
        heapBytes.store (0, std::memory_order_relaxed);
        workerLoadPercent.store (0.0, std::memory_order_relaxed);
        pendingStatsReset.store (false, std::memory_order_relaxed);
        latencyFade.prepare (settings.sampleRate, 0.005, 0.050);
        crossfadeSamples = latencyFade.getNominalSamples();
        fadeScratch.assign (static_cast<size_t> (settings.numChannels * settings.maxBlockSize), 0.0f);
        for (int c = 0; c < maxChannels; ++c)
            fadePtrs[static_cast<size_t> (c)] =
                c < settings.numChannels ? fadeScratch.data() + static_cast<size_t> (c * settings.maxBlockSize) : nullptr;
        heapAfterLastFull = 0;
        lastFullAt = -1.0e9;
        lastFullSeconds = 0.0;
        silentSince = -1.0;
        scriptFailed.store (false, std::memory_order_relaxed);
        pendingPause.store (0.0);

        incoming.reset();
        releaseRetiredScript();
        incomingScratch.assign (static_cast<size_t> (settings.numChannels * chunkMax), 0.0f);
        for (int c = 0; c < maxChannels; ++c)
            incomingPtrs[static_cast<size_t> (c)] =
                c < settings.numChannels ? incomingScratch.data() + static_cast<size_t> (c * chunkMax) : nullptr;
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            runningName = std::string (scriptName);
            scriptRequest.store (false, std::memory_order_relaxed);
        }
        dsp->setLimits (settings.luaLimits);
        pushParametersToScript();
        bool ok = dsp->load (scriptSource, scriptName) && dsp->prepare (settings.sampleRate, chunkMax, settings.numChannels);
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            runningMacros = dsp->getMacros();
        }
        if (ok)
            dsp->setAutomaticCollection (true);

        workerPause = pacingPause.load();
        workerStepMul = pacingStepMul.load();
        profile = {};
        if (ok && profileFirst)
        {
            profile = runProfile (profileBudgetSeconds);
            // Start the audio from the script's initial DSP state, not from the profile's tone
            // (prepare resets the effect; the live heap the profile built stays warm).
            ok = dsp->isReady() && dsp->prepare (settings.sampleRate, chunkMax, settings.numChannels);
        }
        if (! ok)
            setScriptFailed (dsp->getError());
        heapBytes.store (dsp->heapBytes(), std::memory_order_relaxed);

        latency = clampLatency (latencySamples >= 0 ? latencySamples : profile.latencySamples);
        publishedLatency.store (latency, std::memory_order_relaxed);
        requestedLatency.store (-1, std::memory_order_relaxed);

        // The dynamic strategy starts from the profile (or from L), then adapts.
        workerStrategy = strategy.load (std::memory_order_acquire);
        if (ok)
        {
            configureCollector (workerStrategy);
        }
        // The profile's forced collections were the last full ones.
        lastFullAt = nowSeconds();
        lastFullSeconds = profile.worstCollectionSeconds;
        heapAfterLastFull = dsp->heapBytes();
        collectorCredit = 0.0;
        const int dynamicStart = profileFirst && profile.dynamicLatencySamples > 0 ? profile.dynamicLatencySamples : latency;
        adapter.reset (dynamicStart, nowSeconds());
        wantedDynamicLatency.store (dynamicStart, std::memory_order_release);

        startWorker();
        prepared.store (true, std::memory_order_release);
        return ok;
    }

    void LatencyEngine::release()
    {
        prepared.store (false, std::memory_order_release);
        stopWorker();
    }

    void LatencyEngine::startWorker()
    {
        stopRequested.store (false, std::memory_order_release);
        worker = std::thread ([this] { workerMain(); });
    }

    void LatencyEngine::stopWorker()
    {
        if (! worker.joinable())
            return;
        stopRequested.store (true, std::memory_order_release);
        wakeup.signal();
        worker.join();
    }

    int LatencyEngine::clampLatency (int samples) const noexcept
    {
        const auto maxLatency = static_cast<int> (std::ceil (settings.maxLatencySeconds * settings.sampleRate));
        return std::clamp (samples, 0, maxLatency);
    }

    void LatencyEngine::requestLatency (int samples) noexcept
    {
        const int clamped = clampLatency (samples);
        requestedLatency.store (clamped, std::memory_order_release);
        if (! prepared.load (std::memory_order_acquire))
            publishedLatency.store (clamped, std::memory_order_relaxed);
    }

    int LatencyEngine::getLatencySamples() const noexcept
    {
        const int pending = requestedLatency.load (std::memory_order_acquire);
        return pending >= 0 ? pending : publishedLatency.load (std::memory_order_relaxed);
    }

    void LatencyEngine::setScriptFailed (const std::string& message)
    {
        const size_t n = std::min (message.size(), scriptError.size() - 1);
        for (size_t i = 0; i < n; ++i)
            scriptError[i].store (message[i], std::memory_order_relaxed);
        scriptError[n].store ('\0', std::memory_order_relaxed);
        scriptFailed.store (true, std::memory_order_release);
    }

    std::string LatencyEngine::getScriptError() const
    {
        if (! scriptFailed.load (std::memory_order_acquire))
            return {};
        std::string s;
        for (const auto& ch : scriptError)
        {
            const char c = ch.load (std::memory_order_relaxed);
            if (c == '\0')
                break;
            s.push_back (c);
        }
        return s;
    }

    EngineCounters LatencyEngine::getCounters() const noexcept
    {
        EngineCounters c;
        c.dropoutFrames = dropoutFrames.load (std::memory_order_relaxed);
        c.dropoutEvents = dropoutEvents.load (std::memory_order_relaxed);
        c.inputOverflowFrames = inputOverflowFrames.load (std::memory_order_relaxed);
        c.skippedFrames = skippedFrames.load (std::memory_order_relaxed);
        c.chunksProcessed = chunksProcessed.load (std::memory_order_relaxed);
        c.framesProcessed = framesProcessed.load (std::memory_order_relaxed);
        c.heapBytes = heapBytes.load (std::memory_order_relaxed);
        c.workerLoadPercent = workerLoadPercent.load (std::memory_order_relaxed);
        c.latencySamples = getLatencySamples();
        c.scriptFailed = scriptFailed.load (std::memory_order_acquire);
        c.fullCollections = fullCollections.load (std::memory_order_relaxed);
        c.forcedCollections = forcedCollections.load (std::memory_order_relaxed);
        c.incrementalSteps = incrementalSteps.load (std::memory_order_relaxed);
        c.collectorSeconds = collectorSeconds.load (std::memory_order_relaxed);
        c.adaptiveGrowths = adaptiveGrowths.load (std::memory_order_relaxed);
        c.adaptiveShrinks = adaptiveShrinks.load (std::memory_order_relaxed);
        c.wantedDynamicLatency = wantedDynamicLatency.load (std::memory_order_relaxed);
        return c;
    }

    bool LatencyEngine::waitForWorker (double timeoutSeconds) const noexcept
    {
        const double deadline = nowSeconds() + timeoutSeconds;
        while (outputRing.publishedWritePosition() < inputWritePos)
        {
            if (nowSeconds() > deadline)
                return false;
            std::this_thread::sleep_for (std::chrono::microseconds (20));
        }
        return true;
    }

    ProfileResult LatencyEngine::runProfile (double budgetSeconds)
    {
        ProfileResult r;
        const double start = nowSeconds();
        const auto elapsed = [start] { return nowSeconds() - start; };
        const int n = chunkMax;
        double phase = 0.0;

        // One chunk of a test tone through the script; returns its duration, or < 0 on error.
        const auto chunk = [&] {
            for (int c = 0; c < settings.numChannels; ++c)
                for (int i = 0; i < n; ++i)
                    scratchPtrs[static_cast<size_t> (c)][i] = 0.25f * static_cast<float> (std::sin (phase + 0.0576 * i));
            phase = std::fmod (phase + 0.0576 * n, 2.0 * 3.141592653589793);
            pushParametersToScript();
            const double t0 = nowSeconds();
            return dsp->process (scratchPtrs.data(), settings.numChannels, n) ? nowSeconds() - t0 : -1.0;
        };

        // 1. Build the script's live heap: run until it stops growing (scripts may read
        //    params.profiling to build it faster meanwhile). Building is not the steady state:
        //    its chunks are not counted.
        dsp->setParameter ("profiling", 1.0);
        dsp->setAutomaticCollection (false); // collecting a heap that is being built is wasted time
        size_t bestHeap = 0;
        //    A heap still growing is built on past the budget (up to 3 s): a profile of part of it
        //    would underestimate its collections.
        for (int flat = 0; flat < 16 && (elapsed() < 0.35 * budgetSeconds || (flat == 0 && elapsed() < 3.0));)
        {
            if (chunk() < 0.0)
                return r;
            const size_t heap = dsp->heapBytes();
            flat = heap > bestHeap + bestHeap / 50 + 4096 ? 0 : flat + 1;
            bestHeap = std::max (bestHeap, heap);
        }
        dsp->setParameter ("profiling", 0.0);
        dsp->setAutomaticCollection (true);

        // 2. The steady state, with Lua's automatic collector: run until the collector has finished
        //    two cycles (each time the heap falls from its peak) so its largest steps are seen. The
        //    first cycle after building the heap is milder than the ones after it.
        size_t peak = dsp->heapBytes();
        for (int cycles = 0; cycles < 2 && elapsed() < 0.75 * budgetSeconds;)
        {
            const double took = chunk();
            if (took < 0.0)
                return r;
            r.worstChunkSeconds = std::max (r.worstChunkSeconds, took);
            const size_t heap = dsp->heapBytes();
            peak = std::max (peak, heap);
            if (heap + peak / 5 < peak)
            {
                ++cycles;
                peak = heap;
            }
        }

        // 2b. The collector as the dynamic strategy runs it (generational, stopped): the script's own
        //     time, and the longest young collection (one per chunk, as the scheduler runs them).
        //     At least 16 chunks, even when building a large heap used up the budget: without them
        //     the dynamic strategy would start from one block and meet its first stall at once.
        dsp->setGenerational();
        dsp->setAutomaticCollection (false);
        for (int k = 0; k < 64 && (k < 16 || elapsed() < 0.85 * budgetSeconds); ++k)
        {
            const double took = chunk();
            if (took < 0.0)
                return r;
            r.worstBareChunkSeconds = std::max (r.worstBareChunkSeconds, took);
            r.worstStepSeconds = std::max (r.worstStepSeconds, dsp->collectorStep());
        }
        dsp->setIncrementalPacing (workerPause, workerStepMul, 13);
        dsp->setAutomaticCollection (true);

        // 3. Forced full collections of that heap: the longest pause the collector can make.
        for (int k = 0; k < 3 && dsp->isReady(); ++k)
        {
            const double d = dsp->fullCollection(); // the profile's pauses are not the run's: not in the histogram
            r.worstCollectionSeconds = std::max (r.worstCollectionSeconds, d);
            if (elapsed() > budgetSeconds)
                break;
        }

        r.heapBytes = dsp->heapBytes();
        r.elapsedSeconds = elapsed();
        // A full collection measured here follows another one; at run time the heap may also hold
        // up to (pause - 100) % of garbage, which a full collection sweeps: scale for it.
        const double garbageFactor = std::max (1.0, workerPause / 100.0);
        const double worstPause = std::max (r.worstCollectionSeconds * garbageFactor, r.worstChunkSeconds);
        const int fromPauses = settings.maxBlockSize + static_cast<int> (std::ceil (2.0 * worstPause * settings.sampleRate));
        const int floor10ms = static_cast<int> (std::ceil (0.010 * settings.sampleRate));
        r.latencySamples = clampLatency (std::max (fromPauses, floor10ms));
        AdapterSettings a;
        a.blockSize = settings.maxBlockSize;
        a.sampleRate = settings.sampleRate;
        a.safetyFactor = safetyFactor.load();
        a.maxLatencySamples = clampLatency (static_cast<int> (dynamicMaxLatencySeconds.load() * settings.sampleRate));
        // The dynamic strategy's start: the script's own time plus its longest young collection.
        r.dynamicLatencySamples = adapter.latencyFor (r.worstBareChunkSeconds + r.worstStepSeconds, a);
        return r;
    }

    // ---- worker thread ---------------------------------------------------------------------------

    void LatencyEngine::pushParametersToScript()
    {
        for (int i = 0; i < numScriptParameters; ++i)
        {
            const auto& p = scriptParameters[static_cast<size_t> (i)];
            dsp->setParameter (p.name, p.value.load (std::memory_order_relaxed));
        }
    }

    void LatencyEngine::workerMain()
    {
        raiseWorkerPriority();
        // Load: time spent processing (script and collector) over wall time, per window of ~0.5 s.
        int64_t windowStart = nowNanos(), busyNanos = 0;
        while (! stopRequested.load (std::memory_order_acquire))
        {
            const auto ticket = wakeup.ticket();
            const int64_t t0 = nowNanos();
            const bool worked = processAvailableOnWorker();
            const int64_t t1 = nowNanos();
            if (worked)
                busyNanos += t1 - t0;
            if (t1 - windowStart >= 500'000'000)
            {
                workerLoadPercent.store (100.0 * static_cast<double> (busyNanos) / static_cast<double> (t1 - windowStart),
                                         std::memory_order_relaxed);
                windowStart = t1;
                busyNanos = 0;
            }
            if (! worked && ! stopRequested.load (std::memory_order_acquire))
                wakeup.waitSince (ticket);
        }
    }

    bool LatencyEngine::processAvailableOnWorker()
    {
        uint64_t w = inputRing.publishedWritePosition();
        uint64_t r = inputRing.consumerPosition();
        if (w == r)
            return false;

        if (pendingStatsReset.exchange (false, std::memory_order_acq_rel))
            clearStatistics();
        applyStrategyOnWorker();
        takeScriptRequestOnWorker();

        const double pause = pendingPause.exchange (0.0, std::memory_order_acq_rel);
        if (pause > 0.0)
        {
            std::this_thread::sleep_for (std::chrono::duration<double> (pause));
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
            skippedFrames.store (skippedFrames.load (std::memory_order_relaxed) + (to - r), std::memory_order_relaxed);
            outputValidFrom.store (to, std::memory_order_release);
            outputRing.publishWrite (to);
            inputRing.publishRead (to);
            r = to;
            if (r == w)
                return true;
        }

        const int64_t space = outputRing.freeForProducer();
        if (space <= 0)
        {
            std::this_thread::sleep_for (std::chrono::microseconds (100));
            return true;
        }
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
        const int64_t t0 = nowNanos();
        if (dsp->isReady() && ! dsp->process (scratchPtrs.data(), nch, n))
            setScriptFailed (dsp->getError()); // the failed chunk keeps its input: wet = dry from now on
        if (incoming != nullptr)
            crossfadeIncomingOnWorker (nch, n);
        const int64_t t1 = nowNanos();
        for (const auto& line : dsp->takePrinted())
            consoleFromWorker (ConsoleLine::print, line);

        processingTimes.add (static_cast<double> (t1 - t0) * 1.0e-9);
        if (haveStamp && currentStamp.blockSize > 0)
        {
            const auto offset = static_cast<int64_t> (r - currentStamp.firstRingPos);
            const int64_t blocksAhead = (offset + currentStamp.latency) / currentStamp.blockSize;
            const double deadline = static_cast<double> (currentStamp.arrivalNanos) * 1.0e-9
                                    + static_cast<double> (blocksAhead * currentStamp.blockSize) / settings.sampleRate;
            const double late = static_cast<double> (t1) * 1.0e-9 - deadline;
            lateness.add (std::max (late, 0.0));
        }

        outputRing.writeFrames (r, scratchPtrs.data(), nch, 0, static_cast<size_t> (n));
        outputRing.publishWrite (r + static_cast<uint64_t> (n));
        inputRing.publishRead (r + static_cast<uint64_t> (n));
        chunksProcessed.store (chunksProcessed.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        framesProcessed.store (framesProcessed.load (std::memory_order_relaxed) + static_cast<uint64_t> (n),
                               std::memory_order_relaxed);
        heapBytes.store (dsp->heapBytes(), std::memory_order_relaxed);

        const double now = static_cast<double> (t1) * 1.0e-9;
        if (peak >= silenceThreshold.load (std::memory_order_relaxed))
            silentSince = -1.0;
        else if (silentSince < 0.0)
            silentSince = now;

        if (haveStamp)
        {
            const double response = now - static_cast<double> (currentStamp.arrivalNanos) * 1.0e-9;
            responseTimes.add (response);
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
        return true;
    }

    // Worker: runs the incoming script on the same input and crossfades to it over the engine's
    // crossfade length; if it fails meanwhile, it is dropped and the running script keeps playing.
    void LatencyEngine::crossfadeIncomingOnWorker (int nch, int n)
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
            scriptFailed.store (false, std::memory_order_release);
            {
                std::lock_guard<std::mutex> lock (scriptLock);
                runningName = incomingName;
                runningMacros = dsp->getMacros();
            }
            consoleFromWorker (ConsoleLine::info, incomingName + " loaded");
            if (auto* previous = retired.exchange (old, std::memory_order_acq_rel))
                delete previous; // the control thread has not collected the last one: free it here
        }
    }

    AdapterSettings LatencyEngine::adapterSettings() const noexcept
    {
        AdapterSettings a;
        a.blockSize = settings.maxBlockSize;
        a.sampleRate = settings.sampleRate;
        a.safetyFactor = safetyFactor.load (std::memory_order_relaxed);
        a.maxLatencySamples = clampLatency (static_cast<int> (dynamicMaxLatencySeconds.load (std::memory_order_relaxed) * settings.sampleRate));
        return a;
    }

    void LatencyEngine::applyStrategyOnWorker()
    {
        const Strategy s = strategy.load (std::memory_order_acquire);
        if (s != workerStrategy && dsp->isReady())
        {
            workerStrategy = s;
            configureCollector (s);
            if (s == Strategy::dynamic)
            {
                const int start = profile.dynamicLatencySamples > 0 ? profile.dynamicLatencySamples : publishedLatency.load();
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
        }
    }

    // Deterministic: Lua's automatic incremental collector, paced by the user. Dynamic: Lua's
    // generational mode with automatic collection stopped; each step the scheduler runs is a young
    // collection, whose cost follows the garbage of the last few chunks, not the size of the heap.
    // (The incremental mode sweeps, in one indivisible step, every object that died since its mark
    // phase began; its steps grow with the garbage rate.) Entering generational mode runs a full
    // collection: a strategy switch makes it under the previous, larger, latency.
    void LatencyEngine::configureCollector (Strategy s)
    {
        configureCollector (*dsp, s);
        if (incoming != nullptr)
            configureCollector (*incoming, s);
        appliedStrategy.store (s, std::memory_order_release);
    }

    void LatencyEngine::configureCollector (LuaDsp& target, Strategy s)
    {
        if (s == Strategy::deterministic)
        {
            target.setIncrementalPacing (workerPause, workerStepMul, 13);
            target.setAutomaticCollection (true);
        }
        else
        {
            target.setGenerational();
            target.setAutomaticCollection (false);
        }
    }

    void LatencyEngine::fullCollectionOnWorker (double now, bool forced)
    {
        const double d = dsp->fullCollection();
        pauses.add (d);
        fullCollections.store (fullCollections.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        if (forced)
            forcedCollections.store (forcedCollections.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        collectorSeconds.store (collectorSeconds.load (std::memory_order_relaxed) + d, std::memory_order_relaxed);
        heapAfterLastFull = dsp->heapBytes();
        heapBytes.store (heapAfterLastFull, std::memory_order_relaxed);
        lastFullAt = now + d;
        lastFullSeconds = d;
    }

    void LatencyEngine::runCollectorOnWorker (double chunkSeconds, double now)
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
        in.slackSeconds = static_cast<double> (publishedLatency.load (std::memory_order_relaxed) - settings.maxBlockSize) / settings.sampleRate
                          - adapter.worstInWindow();
        in.transportPlaying = transportPlaying.load (std::memory_order_relaxed);
        in.silentSeconds = silentSince < 0.0 ? 0.0 : now - silentSince;

        const auto decision = CollectorScheduler::decide (in, s);
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
            if (collectorCredit > 0.0)
            {
                const double d = dsp->collectorStep();
                pauses.add (d);
                collectorCredit -= d;
                incrementalSteps.store (incrementalSteps.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                collectorSeconds.store (collectorSeconds.load (std::memory_order_relaxed) + d, std::memory_order_relaxed);
            }
            heapBytes.store (dsp->heapBytes(), std::memory_order_relaxed);
        }

        const bool safePoint = ! in.transportPlaying || in.silentSeconds >= s.silenceHoldSeconds;
        if (adapter.maybeShrink (nowSeconds(), safePoint, adapterSettings()))
        {
            wantedDynamicLatency.store (adapter.wanted(), std::memory_order_release);
            adaptiveShrinks.store (adaptiveShrinks.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
    }

    // ---- audio thread ----------------------------------------------------------------------------

    bool LatencyEngine::mapToRing (uint64_t abs, uint64_t& ringPos, int& runLength) const noexcept
    {
        auto clampRun = [] (uint64_t len) { return static_cast<int> (std::min<uint64_t> (len, INT_MAX)); };
        for (int i = numGaps - 1; i >= 0; --i)
        {
            const auto& g = gaps[static_cast<size_t> (i)];
            if (abs >= g.absEnd)
            {
                ringPos = static_cast<uint64_t> (static_cast<int64_t> (abs) - g.offsetAfter);
                runLength = i + 1 < numGaps ? clampRun (gaps[static_cast<size_t> (i + 1)].absStart - abs) : INT_MAX;
                return true;
            }
            if (abs >= g.absStart)
            {
                ringPos = static_cast<uint64_t> (static_cast<int64_t> (g.absEnd) - g.offsetAfter);
                runLength = clampRun (g.absEnd - abs);
                return false;
            }
        }
        ringPos = static_cast<uint64_t> (static_cast<int64_t> (abs) - baseOffset);
        runLength = numGaps > 0 ? clampRun (gaps[0].absStart - abs) : INT_MAX;
        return true;
    }

    void LatencyEngine::recordDroppedInput (uint64_t absStart, int n) noexcept
    {
        const auto un = static_cast<uint64_t> (n);
        if (numGaps > 0 && gaps[static_cast<size_t> (numGaps - 1)].absEnd == absStart)
        {
            auto& g = gaps[static_cast<size_t> (numGaps - 1)];
            g.absEnd += un;
            g.offsetAfter += n;
            return;
        }
        // Forget gaps that no latency can reach any more (or the oldest, if the table is full).
        const auto reach = static_cast<uint64_t> (std::ceil (settings.maxLatencySeconds * settings.sampleRate))
                           + static_cast<uint64_t> (settings.maxBlockSize);
        while (numGaps > 0 && (numGaps == static_cast<int> (gaps.size()) || gaps[0].absEnd + reach < absStart))
        {
            baseOffset = gaps[0].offsetAfter;
            std::copy (gaps.begin() + 1, gaps.begin() + numGaps, gaps.begin());
            --numGaps;
        }
        gaps[static_cast<size_t> (numGaps++)] = { absStart, absStart + un,
                                                  static_cast<int64_t> (absStart + un) - static_cast<int64_t> (inputWritePos) };
    }

    LatencyEngine::Run LatencyEngine::classify (int64_t abs, int maxLength, uint64_t lo, uint64_t hi) const noexcept
    {
        if (abs < 0)
            return { RunKind::preRoll, 0, static_cast<int> (std::min<int64_t> (maxLength, -abs)) };

        uint64_t p = 0;
        int run = 0;
        if (! mapToRing (static_cast<uint64_t> (abs), p, run))
            return { RunKind::missing, p, std::min (run, maxLength) };

        run = std::min (run, maxLength);
        auto upTo = [run] (uint64_t from, uint64_t to) { return static_cast<int> (std::min<uint64_t> (static_cast<uint64_t> (run), to - from)); };
        if (p < outputReadPos) // released already: only after the latency grew
            return { RunKind::transition, p, upTo (p, outputReadPos) };
        if (p < lo) // skipped by a worker that was far behind
            return { RunKind::missing, p, upTo (p, lo) };
        if (p >= hi) // not delivered yet: the worker is late
            return { RunKind::missing, p, run };
        return { RunKind::wet, p, upTo (p, hi) };
    }

    void LatencyEngine::passThrough (float* const*, int, int) noexcept {}

    // Audio thread. Writes the output for the current block at latency L into out (which may be
    // the host's buffer: the input is already in the dry line). Returns the frames that were missing.
    int LatencyEngine::renderAt (int latencySamples, float* const* out, int nch, int n, float mixStep) noexcept
    {
        const uint64_t hi = outputRing.publishedWritePosition();
        const uint64_t lo = std::max (outputValidFrom.load (std::memory_order_acquire), outputReadPos);
        const int64_t firstAbs = static_cast<int64_t> (audioTime) - latencySamples;
        int missing = 0;
        for (int i = 0; i < n;)
        {
            const Run run = classify (firstAbs + i, n - i, lo, hi);
            for (int c = 0; c < nch; ++c)
            {
                float* dst = out[c] + i;
                if (run.kind == RunKind::preRoll)
                {
                    std::fill (dst, dst + run.length, 0.0f);
                    continue;
                }
                const auto dryStart = static_cast<uint64_t> (firstAbs + i);
                const auto len = static_cast<size_t> (run.length);
                if (mixStep == 0.0f && (run.kind != RunKind::wet || mixCurrent == 0.0f))
                {
                    dryLine.readFrames (dryStart, &out[c], 1, static_cast<size_t> (i), len, c);
                    continue;
                }
                if (mixStep == 0.0f && mixCurrent == 1.0f)
                {
                    outputRing.readFrames (run.ringPos, &out[c], 1, static_cast<size_t> (i), len, c);
                    continue;
                }
                for (int k = 0; k < run.length; ++k)
                {
                    const float dry = dryLine.sample (c, dryStart + static_cast<uint64_t> (k));
                    const float wet = run.kind == RunKind::wet ? outputRing.sample (c, run.ringPos + static_cast<uint64_t> (k)) : dry;
                    const float m = mixCurrent + mixStep * static_cast<float> (i + k);
                    dst[k] = wet * m + dry * (1.0f - m);
                }
            }
            if (run.kind == RunKind::missing)
                missing += run.length;
            i += run.length;
        }
        return missing;
    }

    void LatencyEngine::processBlock (float* const* channels, int numChannels, int numFrames) noexcept
    {
        if (! prepared.load (std::memory_order_acquire) || numFrames <= 0 || numChannels <= 0)
            return passThrough (channels, numChannels, numFrames);

        if (numFrames > settings.maxBlockSize) // larger than prepared: in pieces
        {
            std::array<float*, maxChannels> part {};
            const int nch = std::min (numChannels, maxChannels);
            for (int offset = 0; offset < numFrames; offset += settings.maxBlockSize)
            {
                for (int c = 0; c < nch; ++c)
                    part[static_cast<size_t> (c)] = channels[c] + offset;
                processBlock (part.data(), nch, std::min (settings.maxBlockSize, numFrames - offset));
            }
            return;
        }

        const int requested = requestedLatency.exchange (-1, std::memory_order_acq_rel);
        if (requested >= 0 && requested != latency)
        {
            fadeFromLatency = latency;
            latencyFade.start();
            latency = requested;
            publishedLatency.store (latency, std::memory_order_relaxed);
        }

        const int nch = std::min (numChannels, settings.numChannels);
        const int n = numFrames;
        const auto un = static_cast<size_t> (n);

        // 1. Sanitise the input: non-finite and subnormal samples are silence, on both paths.
        for (int c = 0; c < nch; ++c)
            for (int i = 0; i < n; ++i)
                if (! (std::abs (channels[c][i]) >= std::numeric_limits<float>::min()) || ! std::isfinite (channels[c][i]))
                    channels[c][i] = 0.0f;

        // 2. The dry delay line, and the input handed to the worker.
        dryLine.writeFrames (audioTime, channels, nch, 0, un);
        if (inputRing.freeForProducer() >= static_cast<int64_t> (n))
        {
            inputRing.writeFrames (inputWritePos, channels, nch, 0, un);
            stamps.push ({ inputWritePos, nowNanos(), n, latency });
            inputWritePos += un;
            inputRing.publishWrite (inputWritePos);
        }
        else
        {
            recordDroppedInput (audioTime, n);
            inputOverflowFrames.store (inputOverflowFrames.load (std::memory_order_relaxed) + un, std::memory_order_relaxed);
        }
        wakeup.signal();

        // 3. The output: wet from the worker where it arrived in time, delayed dry elsewhere. After a
        //    latency change, the output at the previous L is crossfaded into the new one.
        const float target = bypassed.load (std::memory_order_relaxed) ? 0.0f : mixTarget.load (std::memory_order_relaxed);
        const float mixStep = (target - mixCurrent) / static_cast<float> (n);
        const int missing = renderAt (latency, channels, nch, n, mixStep);
        if (latencyFade.isActive())
            renderAt (fadeFromLatency, fadePtrs.data(), nch, n, mixStep);
        latencyFade.process (fadePtrs.data(), channels, nch, n);
        for (int c = nch; c < numChannels; ++c)
            std::fill (channels[c], channels[c] + n, 0.0f);
        mixCurrent = target;

        if (missing > 0)
        {
            dropoutFrames.store (dropoutFrames.load (std::memory_order_relaxed) + static_cast<uint64_t> (missing), std::memory_order_relaxed);
            dropoutEvents.store (dropoutEvents.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }

        // 4. Release what no latency up to the maximum can need again (so that a latency that grows
        //    finds the worker's output still there), and tell the worker where the audio is.
        audioTime += un;
        const auto reach = static_cast<int64_t> (std::ceil (settings.maxLatencySeconds * settings.sampleRate));
        const uint64_t hi = outputRing.publishedWritePosition();
        const int64_t oldestAbs = static_cast<int64_t> (audioTime) - reach;
        if (oldestAbs > 0)
        {
            uint64_t oldestPos = 0;
            int ignored = 0;
            mapToRing (static_cast<uint64_t> (oldestAbs), oldestPos, ignored);
            const uint64_t release = std::min (oldestPos, hi);
            if (release > outputReadPos)
            {
                outputReadPos = release;
                outputRing.publishRead (outputReadPos);
            }
        }
        const int64_t nextAbs = static_cast<int64_t> (audioTime) - std::max (latency, latencyFade.isActive() ? fadeFromLatency : 0);
        uint64_t nextPos = 0;
        if (nextAbs >= 0)
        {
            int ignored = 0;
            mapToRing (static_cast<uint64_t> (nextAbs), nextPos, ignored);
        }
        audioNeededRingPos.store (nextPos, std::memory_order_release);
    }
} // namespace pg
