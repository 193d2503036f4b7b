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

        // Deterministic: Lua's automatic incremental collector with the user's pacing. Dynamic:
        // the generational mode, stopped (the engine runs it).
        void applyCollectorMode (LuaDsp& target, Strategy s, int pausePercent, int stepMultiplierPercent)
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

    } // namespace

    LatencyEngine::LatencyEngine()
    {
        console.allocate (256);
        loaderConsole.allocate (64);
    }

    LatencyEngine::~LatencyEngine()
    {
        loader.shutdown();
        stopWorker();
        if (auto* ready = readyScript.exchange (nullptr, std::memory_order_acq_rel))
            delete ready;
    }

    // ---- scripts ---------------------------------------------------------------------------------

    ScriptLoader::Job LatencyEngine::loaderJob (std::string source, std::string name, bool profileIt, bool deliver, bool warm)
    {
        {
            // A new job cancels the running one. A profile still owed carries over to the new
            // script, so waitForProfile() waits for a profile, not for the job that cancelled it.
            std::lock_guard<std::mutex> lock (profileLock);
            profileIt = profileIt || profileRunning;
            profileRunning = profileIt;
        }
        ScriptLoader::Job job;
        job.source = std::move (source);
        job.name = std::move (name);
        job.sampleRate = settings.sampleRate;
        job.chunkFrames = chunkMax;
        job.numChannels = settings.numChannels;
        job.limits = settings.luaLimits;
        for (int i = 0; i < numScriptParameters; ++i)
        {
            const auto& p = scriptParameters[static_cast<size_t> (i)];
            job.parameters.emplace_back (p.name, p.value.load (std::memory_order_relaxed));
        }
        job.profile = profileIt;
        job.deliverScript = deliver;
        if (warm || warmingJobs.load (std::memory_order_acquire) > 0)
        {
            // The worker's own script, warmed in place. A warm-up this job cancels or replaces
            // carries over to it: the worker plays again only once every warm job is done.
            warmingJobs.fetch_add (1, std::memory_order_acq_rel);
            job.warm = dsp.get();
            job.onWarmed = [this] (bool ready) {
                if (! ready)
                    setScriptFailed (dsp->getError());
                if (warmingJobs.fetch_sub (1, std::memory_order_acq_rel) == 1)
                {
                    measureFromNanos.store (nowNanos(), std::memory_order_release); // the queued chunks waited for the warm-up
                    pool->markPending (poolSlot.load (std::memory_order_acquire), nowNanos());
                }
            };
        }
        job.tag = generation.load (std::memory_order_acquire);
        auto& q = job.request;
        q.sampleRate = settings.sampleRate;
        q.blockSize = settings.maxBlockSize;
        q.chunkFrames = chunkMax;
        q.numChannels = settings.numChannels;
        q.pausePercent = pacingPause.load();
        q.stepMultiplierPercent = pacingStepMul.load();
        q.safetyFactor = safetyFactor.load();
        q.minLatencySamples = getLatencyFloor();
        q.maxLatencySamples = clampLatency (INT_MAX);
        q.maxDynamicLatencySamples = clampLatency (static_cast<int> (dynamicMaxLatencySeconds.load() * settings.sampleRate));
        const auto s = strategy.load (std::memory_order_acquire);
        const int pause = q.pausePercent, stepMul = q.stepMultiplierPercent;
        // On the loader: a generational switch's full collection runs there, not on the worker.
        job.configureCollector = [s, pause, stepMul] (LuaDsp& d) { applyCollectorMode (d, s, pause, stepMul); };
        return job;
    }

    void LatencyEngine::loadScript (std::string source, std::string name, bool profileIt)
    {
        if (! prepared.load (std::memory_order_acquire))
            return;
        currentSource = source;
        currentName = name;
        profileAsked = profileIt;
        loader.submit (loaderJob (std::move (source), std::move (name), profileIt, true));
    }

    void LatencyEngine::profileInBackground (double budgetSeconds)
    {
        if (! prepared.load (std::memory_order_acquire) || profileAsked)
            return;
        profileAsked = true;
        auto job = loaderJob (currentSource, currentName, true, false);
        job.request.budgetSeconds = budgetSeconds;
        loader.submit (std::move (job));
    }

    bool LatencyEngine::hasProfiled() const { return profileAsked; }

    bool LatencyEngine::waitUntilWarm (double timeoutSeconds) const
    {
        const double deadline = nowSeconds() + timeoutSeconds;
        while (isWarming())
        {
            if (nowSeconds() > deadline)
                return false;
            std::this_thread::sleep_for (std::chrono::milliseconds (1));
        }
        return true;
    }

    // Loader thread.
    void LatencyEngine::onLoaderOutcome (ScriptLoader::Outcome&& o)
    {
        if (o.tag != generation.load (std::memory_order_acquire))
            return; // a job from before the last prepare
        {
            std::lock_guard<std::mutex> lock (profileLock);
            if (o.profiled)
            {
                profile = o.profile;
                profileFresh = true;
                profiledDynamicStart.store (o.profile.dynamicLatencySamples, std::memory_order_relaxed);
            }
            profileRunning = false;
        }
        profileDone.notify_all();

        ConsoleLine line;
        if (! o.error.empty())
        {
            line.kind = ConsoleLine::error;
            const std::string text = o.error + " (not loaded: the current script keeps playing)";
            std::snprintf (line.text, sizeof (line.text), "%s", text.c_str());
            loaderConsole.push (line);
            return;
        }
        if (o.script != nullptr)
        {
            auto* ready = new ReadyScript { std::move (o.script), o.name };
            if (auto* previous = readyScript.exchange (ready, std::memory_order_acq_rel))
                delete previous; // the worker had not taken it yet: the newer one replaces it
        }
    }

    bool LatencyEngine::takeProfile (ProfileResult& result)
    {
        std::lock_guard<std::mutex> lock (profileLock);
        if (! profileFresh)
            return false;
        profileFresh = false;
        result = profile;
        return true;
    }

    ProfileResult LatencyEngine::getProfile() const
    {
        std::lock_guard<std::mutex> lock (profileLock);
        return profile;
    }

    bool LatencyEngine::waitForProfile (double timeoutSeconds) const
    {
        std::unique_lock<std::mutex> lock (profileLock);
        return profileDone.wait_for (lock, std::chrono::duration<double> (timeoutSeconds), [this] { return ! profileRunning; })
               && profile.complete;
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

    void LatencyEngine::consoleFromWorker (ConsoleLine::Kind kind, const std::string& text) noexcept
    {
        ConsoleLine line;
        line.kind = kind;
        const size_t n = std::min (text.size(), sizeof (line.text) - 1);
        std::memcpy (line.text, text.data(), n);
        line.text[n] = '\0';
        console.push (line); // a full console drops the line: nobody is reading it
    }

    // Worker: takes a script the loader has prepared; it crossfades in from the next chunk.
    void LatencyEngine::takeReadyScriptOnWorker()
    {
        if (readyScript.load (std::memory_order_relaxed) == nullptr)
            return;
        std::unique_ptr<ReadyScript> ready (readyScript.exchange (nullptr, std::memory_order_acq_rel));
        if (ready == nullptr)
            return;
        if (incoming != nullptr && ! loader.retire (incoming.get()))
            incoming.reset(); // the loader's queue is full: freed here, once
        else
            (void) incoming.release();
        incoming = std::move (ready->dsp);
        configureCollector (*incoming, workerStrategy); // as the loader set it, unless the strategy changed since
        incomingName = ready->name;
        incomingFadeDone = 0;
        // ready (its name only, now) is freed here: a small string
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
                                 std::string_view scriptName, int latencySamples, bool profileIt,
                                 double profileBudgetSeconds)
    {
        stopWorker();
        prepared.store (false, std::memory_order_release);
        generation.fetch_add (1, std::memory_order_acq_rel); // outcomes of earlier jobs are dropped
        loader.cancel();
        while (warmingJobs.load (std::memory_order_acquire) > 0) // the loader is inside dsp: it stops at its next chunk
            std::this_thread::sleep_for (std::chrono::microseconds (100));
        {
            std::lock_guard<std::mutex> lock (profileLock);
            profileRunning = false;
            profileFresh = false;
            profile = {};
        }
        profiledDynamicStart.store (0, std::memory_order_relaxed);
        profiledDynamicSeen = 0;
        if (auto* ready = readyScript.exchange (nullptr, std::memory_order_acq_rel))
            delete ready;

        settings = newSettings;
        settings.numChannels = std::clamp (settings.numChannels, 1, maxChannels);
        settings.maxBlockSize = std::max (1, settings.maxBlockSize);
        settings.sampleRate = settings.sampleRate > 0.0 ? settings.sampleRate : 48000.0;
        // Room for twice the floor, whatever the caller asked: a latency below it cannot be met.
        settings.maxLatencySeconds = std::max (settings.maxLatencySeconds,
                                               2.0 * latencyFloorFor (settings.maxBlockSize, settings.sampleRate) / settings.sampleRate);
        chunkMax = std::max (settings.maxBlockSize, 32);
        largestBlock.store (settings.maxBlockSize, std::memory_order_relaxed);
        dropoutFade = std::max (1, static_cast<int> (std::lround (0.001 * settings.sampleRate)));
        wetGain = fadeWetGain = 1.0f;

        const auto maxLatency = static_cast<size_t> (std::ceil (settings.maxLatencySeconds * settings.sampleRate));
        const auto block = static_cast<size_t> (settings.maxBlockSize);
        dryLine.allocate (settings.numChannels, maxLatency + block + 16);
        const size_t ringFrames = 2 * (maxLatency + block) + static_cast<size_t> (chunkMax);
        inputRing.allocate (settings.numChannels, ringFrames);
        outputRing.allocate (settings.numChannels, ringFrames);
        // A stamp per block in flight: a sixteenth of the ring's frames is room for every block
        // of 16 frames or more. (With smaller blocks and a stalled worker a stamp may be dropped:
        // the worker then times those frames by the stamp before.) Sized per frame, it alone
        // would cost prepare a few milliseconds of page faults.
        stamps.allocate (std::max<size_t> (1024, inputRing.getCapacity() / 16));
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
        incomingScratch.assign (static_cast<size_t> (settings.numChannels * chunkMax), 0.0f);
        for (int c = 0; c < maxChannels; ++c)
            incomingPtrs[static_cast<size_t> (c)] =
                c < settings.numChannels ? incomingScratch.data() + static_cast<size_t> (c * chunkMax) : nullptr;
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            runningName = std::string (scriptName);
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
        if (! ok)
            setScriptFailed (dsp->getError());
        heapBytes.store (dsp->heapBytes(), std::memory_order_relaxed);

        const int provisional = static_cast<int> (std::ceil (0.010 * settings.sampleRate));
        latency = clampLatency (latencySamples >= 0 ? latencySamples : provisional);
        publishedLatency.store (latency, std::memory_order_relaxed);
        requestedLatency.store (-1, std::memory_order_relaxed);

        // The dynamic strategy starts from L, then adapts.
        workerStrategy = strategy.load (std::memory_order_acquire);
        if (ok)
        {
            configureCollector (workerStrategy);
        }
        lastFullAt = nowSeconds();
        lastFullSeconds = 0.0;
        heapAfterLastFull = dsp->heapBytes();
        collectorCredit = 0.0;
        adapter.reset (latency, nowSeconds());
        wantedDynamicLatency.store (latency, std::memory_order_release);
        measuredLatency.store (0, std::memory_order_release);
        measureFromNanos.store (nowNanos(), std::memory_order_release);

        startWorker();
        prepared.store (true, std::memory_order_release);
        // On the loader thread: the script's live heap is built before the worker plays it (unless
        // offline, where the worker may take its time), and the auto latency's profile runs on a
        // copy of the script of its own.
        currentSource = std::string (scriptSource);
        currentName = std::string (scriptName);
        profileAsked = ok && profileIt;
        const bool warm = ok && ! offline.load (std::memory_order_relaxed);
        if (warm || profileAsked)
        {
            auto job = loaderJob (currentSource, currentName, profileAsked, false, warm);
            job.request.budgetSeconds = profileBudgetSeconds;
            loader.submit (std::move (job));
        }
        return ok;
    }

    void LatencyEngine::release()
    {
        prepared.store (false, std::memory_order_release);
        stopWorker();
    }

    void LatencyEngine::startWorker()
    {
        loadWindowStart = nowNanos();
        loadBusyNanos = 0;
        poolSlot.store (pool->attach ([] (void* e) { return static_cast<LatencyEngine*> (e)->runOnPool(); }, this), std::memory_order_release);
    }

    void LatencyEngine::stopWorker()
    {
        pool->detach (poolSlot.exchange (nullptr, std::memory_order_acq_rel)); // returns once no pool thread is inside this engine
    }

    void LatencyEngine::holdWorker (bool hold) noexcept
    {
        workerHeld.store (hold, std::memory_order_release);
        if (! hold)
            pool->markPending (poolSlot.load (std::memory_order_acquire), nowNanos());
    }

    int64_t LatencyEngine::deadlineNanos (const BlockStamp& s, uint64_t ringPos) const noexcept
    {
        // The callback that plays ring position ringPos: the same rule as the lateness statistic.
        const auto offset = static_cast<int64_t> (ringPos - s.firstRingPos);
        const int64_t blocksAhead = (offset + s.latency) / std::max (1, s.blockSize);
        return s.arrivalNanos + static_cast<int64_t> (static_cast<double> (blocksAhead * s.blockSize) * 1.0e9 / settings.sampleRate);
    }

    int LatencyEngine::latencyFloorFor (int blockSize, double sampleRate) noexcept
    {
        const int block = std::max (1, blockSize);
        const int fade = std::max (1, static_cast<int> (std::lround (0.001 * sampleRate)));
        const int slack = static_cast<int> (std::ceil (0.002 * sampleRate)) + block / 4;
        return block + fade + slack;
    }

    int LatencyEngine::getLatencyFloor() const noexcept
    {
        return latencyFloorFor (std::max (settings.maxBlockSize, largestBlock.load (std::memory_order_relaxed)), settings.sampleRate);
    }

    int LatencyEngine::clampLatency (int samples) const noexcept
    {
        const auto maxLatency = static_cast<int> (std::ceil (settings.maxLatencySeconds * settings.sampleRate));
        return std::clamp (samples, std::min (getLatencyFloor(), maxLatency), maxLatency);
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

    // ---- worker thread ---------------------------------------------------------------------------

    void LatencyEngine::pushParametersToScript()
    {
        for (int i = 0; i < numScriptParameters; ++i)
        {
            const auto& p = scriptParameters[static_cast<size_t> (i)];
            dsp->setParameter (p.name, p.value.load (std::memory_order_relaxed));
        }
    }

    // A pool thread: one chunk, and this engine's share of the thread's time.
    WorkerPool::Ran LatencyEngine::runOnPool() noexcept
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

    WorkerPool::Ran LatencyEngine::processAvailableOnWorker()
    {
        uint64_t w = inputRing.publishedWritePosition();
        uint64_t r = inputRing.consumerPosition();
        if (w == r)
            return WorkerPool::Ran::idle;
        // Held by a test, or the loader is building the script's live heap: no chunk, and the
        // script is not touched.
        if (workerHeld.load (std::memory_order_acquire) || warmingJobs.load (std::memory_order_acquire) > 0)
            return WorkerPool::Ran::blocked;

        if (pendingStatsReset.exchange (false, std::memory_order_acq_rel))
            clearStatistics();
        applyStrategyOnWorker();
        takeReadyScriptOnWorker();
        // A profile that lands while the dynamic strategy runs gives it its starting point.
        if (const int profiled = profiledDynamicStart.load (std::memory_order_relaxed); profiled != profiledDynamicSeen)
        {
            profiledDynamicSeen = profiled;
            if (workerStrategy == Strategy::dynamic && profiled > 0 && ! offline.load (std::memory_order_relaxed))
            {
                adapter.reset (clampLatency (profiled), nowSeconds());
                wantedDynamicLatency.store (adapter.wanted(), std::memory_order_release);
            }
        }

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
            if (known && ! offline.load (std::memory_order_relaxed))
                measureResponse (first, static_cast<double> (nowNanos() - first.arrivalNanos) * 1.0e-9);
            skippedFrames.store (skippedFrames.load (std::memory_order_relaxed) + (to - r), std::memory_order_relaxed);
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
        const int64_t t0 = nowNanos();
        if (dsp->isReady() && ! dsp->process (scratchPtrs.data(), nch, n))
            setScriptFailed (dsp->getError()); // the failed chunk keeps its input: wet = dry from now on
        if (incoming != nullptr)
            crossfadeIncomingOnWorker (nch, n);
        const int64_t t1 = nowNanos();
        for (const auto& line : dsp->takePrinted())
            consoleFromWorker (ConsoleLine::print, line);

        processingTimes.add (static_cast<double> (t1 - t0) * 1.0e-9);
        // Offline, the host waits for the worker: lateness and response times measure nothing
        // real-time, and the latency must not adapt.
        const bool realtime = ! offline.load (std::memory_order_relaxed);
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
        // The pool runs the earliest deadline first: what is left is due later.
        const uint64_t next = r + static_cast<uint64_t> (n);
        if (inputRing.publishedWritePosition() > next)
        {
            BlockStamp following;
            const BlockStamp& nextStamp = stamps.peek (following) && following.firstRingPos <= next ? following : currentStamp;
            pool->setDeadline (poolSlot.load (std::memory_order_relaxed), deadlineNanos (nextStamp, next));
        }
        return WorkerPool::Ran::worked;
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
            measuredLatency.store (0, std::memory_order_release); // a new script: its own responses
            measureFromNanos.store (nowNanos(), std::memory_order_release);
            scriptFailed.store (false, std::memory_order_release);
            {
                std::lock_guard<std::mutex> lock (scriptLock);
                runningName = incomingName;
                runningMacros = dsp->getMacros();
            }
            consoleFromWorker (ConsoleLine::info, incomingName + " loaded");
            if (! loader.retire (old))
                delete old; // the loader's queue is full (it frees them every 20 ms): freed here, once
        }
    }

    // Worker, real time: the deterministic strategy's measured latency covers this response.
    void LatencyEngine::measureResponse (const BlockStamp& stamp, double responseSeconds) noexcept
    {
        if (workerStrategy != Strategy::deterministic || stamp.arrivalNanos < measureFromNanos.load (std::memory_order_acquire))
            return;
        auto a = adapterSettings();
        a.maxLatencySamples = clampLatency (INT_MAX);
        const int need = adapter.latencyFor (responseSeconds, a);
        if (need > measuredLatency.load (std::memory_order_relaxed))
            measuredLatency.store (need, std::memory_order_release);
    }

    AdapterSettings LatencyEngine::adapterSettings() const noexcept
    {
        AdapterSettings a;
        a.blockSize = settings.maxBlockSize;
        a.sampleRate = settings.sampleRate;
        a.safetyFactor = safetyFactor.load (std::memory_order_relaxed);
        a.maxLatencySamples = clampLatency (static_cast<int> (dynamicMaxLatencySeconds.load (std::memory_order_relaxed) * settings.sampleRate));
        a.minLatencySamples = getLatencyFloor();
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
        applyCollectorMode (target, s, workerPause, workerStepMul);
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
        if (! offline.load (std::memory_order_relaxed) && adapter.maybeShrink (nowSeconds(), safePoint, adapterSettings()))
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

        const int toGap = run;
        run = std::min (run, maxLength);
        auto upTo = [run] (uint64_t from, uint64_t to) { return static_cast<int> (std::min<uint64_t> (static_cast<uint64_t> (run), to - from)); };
        if (p < outputReadPos) // released already: only after the latency grew
            return { RunKind::transition, p, upTo (p, outputReadPos) };
        if (p < lo) // skipped by a worker that was far behind
            return { RunKind::missing, p, upTo (p, lo) };
        if (p >= hi) // not delivered yet: the worker is late
            return { RunKind::missing, p, run };
        const auto delivered = static_cast<int> (std::min<uint64_t> (static_cast<uint64_t> (toGap), hi - p));
        return { RunKind::wet, p, upTo (p, hi), delivered };
    }

    void LatencyEngine::passThrough (float* const*, int, int) noexcept {}

    // Audio thread. Writes the output for the current block at latency L into out (which may be
    // the host's buffer: the input is already in the dry line). Returns the frames that were missing.
    //
    // Where the worker was late, the delayed dry signal stands in, and the switch is a linear fade
    // of dropoutFade frames, never a hard cut: wetGain (this latency's own) falls towards 0 as soon
    // as the wet signal delivered so far ends within one fade length (a look-ahead: it reaches 0
    // just as the wet signal runs out), and rises back to 1 once a whole fade length is there.
    // out = mix x (wetGain x wet + (1 - wetGain) x dry) + (1 - mix) x dry.
    int LatencyEngine::renderAt (int latencySamples, float& gain, float* const* out, int nch, int n, float mixStep) noexcept
    {
        const uint64_t hi = outputRing.publishedWritePosition();
        const uint64_t lo = std::max (outputValidFrom.load (std::memory_order_acquire), outputReadPos);
        const int64_t firstAbs = static_cast<int64_t> (audioTime) - latencySamples;
        const float gainStep = 1.0f / static_cast<float> (dropoutFade);
        int missing = 0;
        for (int i = 0; i < n;)
        {
            const Run run = classify (firstAbs + i, n - i, lo, hi);
            const bool wet = run.kind == RunKind::wet;
            const bool steady = wet ? (gain >= 1.0f && run.length + dropoutFade <= run.available) : gain <= 0.0f;
            float endGain = gain;
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
                if (steady && mixStep == 0.0f && (! wet || mixCurrent == 0.0f))
                {
                    dryLine.readFrames (dryStart, &out[c], 1, static_cast<size_t> (i), len, c);
                    continue;
                }
                if (steady && mixStep == 0.0f && mixCurrent == 1.0f)
                {
                    outputRing.readFrames (run.ringPos, &out[c], 1, static_cast<size_t> (i), len, c);
                    continue;
                }
                float g = gain;
                for (int k = 0; k < run.length; ++k)
                {
                    if (! wet)
                        g = 0.0f; // (a fade that began in time is at 0 already)
                    else if (k + dropoutFade <= run.available)
                        g = std::min (1.0f, g + gainStep);
                    else
                        g = std::max (0.0f, g - gainStep);
                    const float dry = dryLine.sample (c, dryStart + static_cast<uint64_t> (k));
                    const float w = wet ? outputRing.sample (c, run.ringPos + static_cast<uint64_t> (k)) : dry;
                    const float m = mixCurrent + mixStep * static_cast<float> (i + k);
                    const float faded = g >= 1.0f ? w : w * g + dry * (1.0f - g);
                    dst[k] = faded * m + dry * (1.0f - m);
                }
                endGain = g;
            }
            if (run.kind != RunKind::preRoll)
                gain = steady ? (wet ? 1.0f : 0.0f) : endGain;
            if (run.kind == RunKind::missing)
                missing += run.length;
            i += run.length;
        }
        return missing;
    }

    // Audio thread: takes a requested latency. A request during a latency crossfade waits for its
    // end, unless it asks for the previous latency: the fade then turns back from its current gain.
    void LatencyEngine::takeLatencyRequestOnAudio() noexcept
    {
        int requested = requestedLatency.load (std::memory_order_acquire);
        if (requested < 0)
            return;
        if (requested == latency)
        {
            requestedLatency.compare_exchange_strong (requested, -1, std::memory_order_acq_rel);
            return;
        }
        if (latencyFade.isActive())
        {
            if (requested != fadeFromLatency || ! requestedLatency.compare_exchange_strong (requested, -1, std::memory_order_acq_rel))
                return;
            std::swap (latency, fadeFromLatency);
            std::swap (wetGain, fadeWetGain);
            latencyFade.reverse();
        }
        else
        {
            if (! requestedLatency.compare_exchange_strong (requested, -1, std::memory_order_acq_rel))
                return;
            fadeFromLatency = latency;
            fadeWetGain = wetGain;
            latencyFade.start();
            latency = requested;
        }
        publishedLatency.store (latency, std::memory_order_relaxed);
    }

    // Audio thread, offline only: waits until the worker has delivered what this block plays (and a
    // fade length beyond it), at most offlineWaitSeconds. Blocking is allowed here: the host renders
    // faster than real time and waits for us.
    void LatencyEngine::waitForOutputOnAudio (int n) noexcept
    {
        PG_RTSAN_ALLOW_BLOCKING;
        const int smallest = latencyFade.isActive() ? std::min (latency, fadeFromLatency) : latency;
        const int64_t lastAbs = std::min (static_cast<int64_t> (audioTime) + n - smallest + dropoutFade,
                                          static_cast<int64_t> (audioTime) + n);
        if (lastAbs <= 0)
            return;
        uint64_t neededPos = 0;
        int ignored = 0;
        mapToRing (static_cast<uint64_t> (lastAbs - 1), neededPos, ignored);
        const int64_t deadline = nowNanos() + static_cast<int64_t> (offlineWaitSeconds * 1.0e9);
        for (int spins = 0; outputRing.publishedWritePosition() <= neededPos && neededPos < inputWritePos; ++spins)
        {
            if (nowNanos() > deadline)
                return; // the worker is stuck: the fade to dry covers it, and counts it
            if (spins < 64)
                std::this_thread::yield();
            else
                std::this_thread::sleep_for (std::chrono::microseconds (50));
        }
    }

    void LatencyEngine::processBlock (float* const* channels, int numChannels, int numFrames) noexcept
    {
        if (! prepared.load (std::memory_order_acquire) || numFrames <= 0 || numChannels <= 0)
            return passThrough (channels, numChannels, numFrames);

        if (numFrames > largestBlock.load (std::memory_order_relaxed))
            largestBlock.store (numFrames, std::memory_order_relaxed); // the floor follows the blocks really sent

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

        takeLatencyRequestOnAudio();

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
            const BlockStamp stamp { inputWritePos, nowNanos(), n, latency };
            stamps.push (stamp);
            inputWritePos += un;
            inputRing.publishWrite (inputWritePos);
            pool->markPending (poolSlot.load (std::memory_order_acquire), deadlineNanos (stamp, stamp.firstRingPos));
        }
        else
        {
            recordDroppedInput (audioTime, n);
            inputOverflowFrames.store (inputOverflowFrames.load (std::memory_order_relaxed) + un, std::memory_order_relaxed);
        }
        if (offline.load (std::memory_order_relaxed))
            waitForOutputOnAudio (n);

        // 3. The output: wet from the worker where it arrived in time, delayed dry elsewhere (with a
        //    fade each way). After a latency change, the output at the previous L is crossfaded into
        //    the new one.
        const float target = bypassed.load (std::memory_order_relaxed) ? 0.0f : mixTarget.load (std::memory_order_relaxed);
        const float mixStep = (target - mixCurrent) / static_cast<float> (n);
        const int missing = renderAt (latency, wetGain, channels, nch, n, mixStep);
        if (latencyFade.isActive())
            renderAt (fadeFromLatency, fadeWetGain, fadePtrs.data(), nch, n, mixStep);
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
