// EngineCore, the control side: construction, prepare and release, scripts and the loader,
// latency requests, settings and statistics. The worker's side is EngineCoreWorker.cpp, the
// audio thread's EngineCoreAudio.cpp.

#include "EngineCore.h"

#include "Clock.h"
#include "ExternalDsp.h"
#include "LuaDsp.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <limits>
#include <optional>
#include <thread>

namespace pg
{
    EngineCore::EngineCore()
        : dsp (std::make_unique<LuaDsp>())
    {
        console.allocate (256);
        loaderConsole.allocate (64);
    }

    EngineCore::~EngineCore()
    {
        stopWorker(); // first: the worker hands retired DSPs to the loader, which frees them as it stops
        loader.shutdown();
        if (auto* ready = readyScript.exchange (nullptr, std::memory_order_acq_rel))
            delete ready;
    }

    // ---- scripts ---------------------------------------------------------------------------------

    ScriptLoader::Job EngineCore::loaderJob (std::string source, std::string name, bool profileIt, bool deliver, bool warm)
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
        {
            std::lock_guard<std::mutex> lock (planLock);
            job.program = activeProgram;
        }
        job.programState = latestProgramState();
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
                if (! ready && ! dsp->isReady()) // (a job dropped unrun leaves the script as it was)
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
        job.configureCollector = [s, pause, stepMul] (Dsp& d) { applyCollectorMode (d, s, pause, stepMul); };
        return job;
    }

    void EngineCore::loadScript (std::string source, std::string name, bool profileIt)
    {
        if (! prepared.load (std::memory_order_acquire))
            return;
        currentSource = source; // what going back from a program plays
        currentName = name;
        bool programAhead = false; // a program runs, or one is on its way in
        {
            std::lock_guard<std::mutex> lock (planLock);
            programAhead = ! activeProgram.empty() || (proposal && ! proposal->program.empty());
        }
        if (programAhead)
        {
            ConsoleLine line;
            line.kind = ConsoleLine::info;
            std::snprintf (line.text, sizeof (line.text), "%s", "a DSP program runs: the script plays once the program is put away");
            loaderConsole.push (line);
            return;
        }
        profileAsked = profileIt;
        loader.submit (loaderJob (std::move (source), std::move (name), profileIt, true));
    }

    void EngineCore::profileInBackground (double budgetSeconds)
    {
        if (! prepared.load (std::memory_order_acquire) || profileAsked || isProgramChoicePending())
            return; // (a new job would cancel the choice's start: asked again once it is done)
        profileAsked = true;
        auto job = loaderJob (currentSource, currentName, true, false);
        job.request.budgetSeconds = budgetSeconds;
        loader.submit (std::move (job));
    }

    bool EngineCore::hasProfiled() const { return profileAsked; }

    bool EngineCore::waitUntilWarm (double timeoutSeconds) const
    {
        const double deadline = nowSeconds() + timeoutSeconds;
        while (isWarming())
        {
            if (nowSeconds() > deadline)
                return false;
            sleepNanos (1'000'000);
        }
        return true;
    }

    // Loader thread.
    void EngineCore::onLoaderOutcome (ScriptLoader::Outcome&& o)
    {
        std::lock_guard<std::mutex> published (outcomeLock);
        if (o.tag != generation.load (std::memory_order_acquire))
            return; // a job from before the last prepare or release
        bool choice = false; // a loadProgram's job: its choice takes effect only if it started
        bool restarting = false; // a program's restarts are planned (as the outcome leaves them)
        {
            std::lock_guard<std::mutex> lock (planLock);
            if (proposal && proposal->job == o.job)
            {
                choice = true;
                if (o.error.empty() && o.script != nullptr)
                {
                    activeProgram = std::move (proposal->program);
                    restartPlan = std::move (proposal->plan);
                    nextRestartNanos.store (0, std::memory_order_relaxed);
                    restartAttempts.store (0, std::memory_order_relaxed);
                    restartsStopped.store (false, std::memory_order_relaxed);
                }
                proposal.reset();
            }
            restarting = restartPlan.has_value();
        }
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
            const bool failed = scriptFailed.load (std::memory_order_acquire); // the running DSP has failed
            const char* what = ! failed     ? " (not started: the current DSP keeps playing)"
                               : restarting ? (choice ? " (not started: the delayed dry signal plays; the program before restarts after a backoff)"
                                                      : " (the delayed dry signal plays; restarting after a backoff)")
                                            : " (not started: the delayed dry signal plays)";
            const std::string text = o.error + (! o.program && ! choice ? " (not loaded: the current script keeps playing)" : what);
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

    bool EngineCore::takeProfile (ProfileResult& result)
    {
        std::lock_guard<std::mutex> lock (profileLock);
        if (! profileFresh)
            return false;
        profileFresh = false;
        result = profile;
        return true;
    }

    ProfileResult EngineCore::getProfile() const
    {
        std::lock_guard<std::mutex> lock (profileLock);
        return profile;
    }

    bool EngineCore::waitForProfile (double timeoutSeconds) const
    {
        std::unique_lock<std::mutex> lock (profileLock);
        return profileDone.wait_for (lock, std::chrono::duration<double> (timeoutSeconds), [this] { return ! profileRunning; }) && profile.complete;
    }

    std::string EngineCore::getScriptName() const
    {
        std::lock_guard<std::mutex> lock (scriptLock);
        return runningName;
    }

    std::vector<ScriptMacro> EngineCore::getScriptMacros() const
    {
        std::lock_guard<std::mutex> lock (scriptLock);
        return runningMacros;
    }

    void EngineCore::consoleFromWorker (ConsoleLine::Kind kind, const std::string& text) noexcept
    {
        ConsoleLine line;
        line.kind = kind;
        const size_t n = std::min (text.size(), sizeof (line.text) - 1);
        std::memcpy (line.text, text.data(), n);
        line.text[n] = '\0';
        console.push (line); // a full console drops the line: nobody is reading it
    }

    // Worker: takes a script the loader has prepared; it crossfades in from the next chunk.
    void EngineCore::takeReadyScriptOnWorker()
    {
        if (readyScript.load (std::memory_order_relaxed) == nullptr)
            return;
        std::unique_ptr<ReadyScript> ready (readyScript.exchange (nullptr, std::memory_order_acq_rel));
        if (ready == nullptr)
            return;
        if (incoming != nullptr && ! loader.retire (incoming.get()))
            incoming.reset(); // the loader's queue is full: freed here, once
        else
            (void)incoming.release();
        incoming = std::move (ready->dsp);
        configureCollector (*incoming, workerStrategy); // as the loader set it, unless the strategy changed since
        incomingName = ready->name;
        incomingFadeDone = 0;
        // ready (its name only, now) is freed here: a small string
    }

    int EngineCore::addScriptParameter (const char* name, float initialValue)
    {
        if (numScriptParameters >= maxScriptParameters)
            return -1;
        auto& p = scriptParameters[static_cast<size_t> (numScriptParameters)];
        p.name = name;
        p.value.store (initialValue, std::memory_order_relaxed);
        return numScriptParameters++;
    }

    void EngineCore::setScriptParameter (int index, float value) noexcept
    {
        if (index >= 0 && index < numScriptParameters)
            scriptParameters[static_cast<size_t> (index)].value.store (value, std::memory_order_relaxed);
    }

    void EngineCore::setPacing (int pausePercent, int stepMultiplierPercent) noexcept
    {
        pacingPause.store (std::clamp (pausePercent, 50, 1000), std::memory_order_relaxed);
        pacingStepMul.store (std::clamp (stepMultiplierPercent, 50, 1000), std::memory_order_relaxed);
    }

    void EngineCore::setDynamicSettings (const DynamicSettings& s) noexcept
    {
        budgetFraction.store (std::clamp (s.scheduler.budgetFraction, 0.0, 1.0), std::memory_order_relaxed);
        intervalSeconds.store (std::max (0.1, s.scheduler.intervalSeconds), std::memory_order_relaxed);
        heapThresholdBytes.store (s.scheduler.heapThresholdBytes, std::memory_order_relaxed);
        silenceHoldSeconds.store (std::max (0.0, s.scheduler.silenceHoldSeconds), std::memory_order_relaxed);
        safetyFactor.store (std::clamp (s.safetyFactor, 1.0, 10.0), std::memory_order_relaxed);
        dynamicMaxLatencySeconds.store (std::max (0.001, s.maxLatencySeconds), std::memory_order_relaxed);
        silenceThreshold.store (std::max (0.0f, s.silenceThreshold), std::memory_order_relaxed);
    }

    void EngineCore::clearStatistics() noexcept
    {
        for (auto* c : { &dropoutFrames, &dropoutEvents, &inputOverflowFrames, &skippedFrames, &unprocessedFrames, &chunksProcessed, &framesProcessed,
                         &fullCollections, &forcedCollections, &incrementalSteps, &adaptiveGrowths, &adaptiveShrinks })
            c->store (0, std::memory_order_relaxed);
        collectorSeconds.store (0.0, std::memory_order_relaxed);
        processingTimes.reset();
        lateness.reset();
        pauses.reset();
        responseTimes.reset();
    }

    // ---- control thread --------------------------------------------------------------------------

    bool EngineCore::prepare (const EngineSettings& newSettings, std::string_view scriptSource,
                              std::string_view scriptName, int latencySamples, bool profileIt,
                              double profileBudgetSeconds)
    {
        leaveAudioThread();
        stopWorker();
        generation.fetch_add (1, std::memory_order_acq_rel); // outcomes of earlier jobs are dropped
        {
            std::lock_guard<std::mutex> published (outcomeLock);
        } // one being published has ended
        loader.cancel();
        while (warmingJobs.load (std::memory_order_acquire) > 0) // the loader is inside dsp: it stops at its next chunk
            sleepNanos (100'000);
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
        {
            std::lock_guard<std::mutex> lock (planLock);
            activeProgram = settings.dspProgram;
            proposal.reset();
        }
        settings.numChannels = std::clamp (settings.numChannels, 1, maxChannels);
        announcedRealtimeBlock = settings.maxBlockSize <= maxBufferedBlock ? std::max (0, settings.maxBlockSize) : 0;
        settings.maxBlockSize = std::clamp (settings.maxBlockSize, 1, maxBufferedBlock); // sizes the buffers only
        settings.sampleRate = settings.sampleRate > 0.0 ? settings.sampleRate : 48000.0;
        // Room for twice the floor, whatever the caller asked: a latency below it cannot be met.
        settings.maxLatencySeconds = std::max (settings.maxLatencySeconds,
                                               2.0 * latencyFloorFor (settings.maxBlockSize, settings.sampleRate) / settings.sampleRate);
        chunkMax = std::max (settings.maxBlockSize, 32);
        largestBlock.store (0, std::memory_order_relaxed);
        rendering.store (false, std::memory_order_relaxed);
        renderPace.reset (settings.sampleRate, maxBufferedBlock, newSettings.maxBlockSize);
        dropoutFade = std::max (1, static_cast<int> (std::lround (0.001 * settings.sampleRate)));
        wetGain = fadeWetGain = 1.0f;
        // The trace's lane for this instance's audio side: its blocks, dropouts and latency changes.
        audioLane = trace::Recorder::global().newLane ("instance " + std::to_string (instanceId) + " (audio)",
                                                       2.0 * settings.sampleRate / std::max (16, settings.maxBlockSize) + 100.0);

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
        outputGainCurrent = outputGainTarget.load();
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
        renderRestartsFailed = 0;
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
        bool ok = false;
        std::string name (scriptName);
        if (programChosen())
        {
            ok = startProgram();
            if (const auto* program = dynamic_cast<const ExternalDsp*> (dsp.get()); program != nullptr && ! program->getChildName().empty())
                name = program->getChildName();
            else
                name = settings.dspProgram.argv.front();
        }
        else if (dspFactory)
        {
            dsp = dspFactory();
            ok = dsp->prepare (settings.sampleRate, chunkMax, settings.numChannels);
        }
        else
        {
            if (dynamic_cast<LuaDsp*> (dsp.get()) == nullptr)
                dsp = std::make_unique<LuaDsp>(); // a DSP program before: stopped here
            auto& lua = static_cast<LuaDsp&> (*dsp);
            lua.setLimits (settings.luaLimits);
            pushParametersToScript();
            ok = lua.load (scriptSource, scriptName) && lua.prepare (settings.sampleRate, chunkMax, settings.numChannels);
        }
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            runningName = name;
            runningMacros = dsp->getMacros();
        }
        if (ok)
            dsp->setAutomaticCollection (true);

        workerPause = pacingPause.load();
        workerStepMul = pacingStepMul.load();
        // The dynamic strategy starts from L, then adapts.
        workerStrategy = strategy.load (std::memory_order_acquire);
        if (ok)
        {
            configureCollector (workerStrategy);
            ok = dsp->isReady(); // (a program that died or refused on its way in is not)
        }
        if (! ok)
        {
            setScriptFailed (dsp->getError());
            dspProcessId.store (0, std::memory_order_release);
        }
        heapBytes.store (dsp->heapBytes(), std::memory_order_relaxed);
        runningProgram.store (programChosen(), std::memory_order_relaxed);
        setRestartPlan (programChosen() ? std::optional (loaderJob ({}, name, false, true)) : std::nullopt);
        if (programChosen() && ! ok)
            scheduleRestart (0);
        takenOverNanos = nowNanos();
        {
            trace::Event e;
            e.kind = trace::Kind::dspStart;
            e.instance = instanceId;
            e.start = e.end = takenOverNanos;
            trace::Recorder::global().recordControl (e);
        }
        dspRestarts.store (0, std::memory_order_relaxed);
        runtimeReported.store (false, std::memory_order_relaxed);
        publishRuntimeFigures();

        const int provisional = static_cast<int> (std::ceil (0.010 * settings.sampleRate));
        latency = clampLatency (latencySamples >= 0 ? latencySamples : provisional);
        publishedLatency.store (latency, std::memory_order_relaxed);
        requestedLatency.store (-1, std::memory_order_relaxed);

        lastFullAt = nowSeconds();
        lastFullSeconds = 0.0;
        heapAfterLastFull = dsp->heapBytes();
        awaitingCollection = false;
        phaseRank = CyclePhases::nextRank();
        phasesStarted = false;
        collectorCredit = 0.0;
        adapter.reset (latency, nowSeconds());
        wantedDynamicLatency.store (latency, std::memory_order_release);
        measuredLatency.store (0, std::memory_order_release);
        measureFromNanos.store (nowNanos(), std::memory_order_release);

        // On the loader thread: the script's live heap is built before the worker plays it (unless
        // offline, where the worker may take its time), and the auto latency's profile runs on a
        // copy of the script of its own. The job is made before the worker starts: it marks the
        // worker's script as warming, so that no chunk enters it while the loader does.
        currentSource = std::string (scriptSource);
        currentName = std::string (scriptName);
        profileAsked = ok && profileIt;
        const bool warm = ok && ! hostOffline.load (std::memory_order_relaxed) && ! programChosen() // a program builds its heap in its prepare
                          && ! dspFactory;
        std::optional<ScriptLoader::Job> job;
        if (warm || profileAsked)
        {
            job = loaderJob (currentSource, currentName, profileAsked, false, warm);
            job->request.budgetSeconds = profileBudgetSeconds;
        }
        startWorker();
        prepared.store (true, std::memory_order_release);
        if (job)
            loader.submit (std::move (*job));
        return ok;
    }

    void EngineCore::release()
    {
        leaveAudioThread();
        stopWorker();
        if (programChosen() || runningProgram.load (std::memory_order_relaxed) || isProgramChoicePending())
        {
            // The program's process goes with the engine's resources (prepare starts it again).
            setRestartPlan (std::nullopt);
            {
                std::lock_guard<std::mutex> lock (planLock);
                proposal.reset(); // its job is cancelled below
            }
            runningProgram.store (false, std::memory_order_relaxed);
            generation.fetch_add (1, std::memory_order_acq_rel); // a restart running now is dropped
            {
                std::lock_guard<std::mutex> published (outcomeLock);
            }
            loader.cancel();
            while (warmingJobs.load (std::memory_order_acquire) > 0) // as prepare: the loader leaves dsp first
                sleepNanos (100'000);
            if (auto* ready = readyScript.exchange (nullptr, std::memory_order_acq_rel))
                delete ready;
            incoming.reset();
            dsp = std::make_unique<LuaDsp>();
            dspProcessId.store (0, std::memory_order_release);
        }
    }

    bool EngineCore::startProgram()
    {
        auto* running = dynamic_cast<ExternalDsp*> (dsp.get());
        const bool keep = running != nullptr && running->isRunning() && running->getError().empty() && running->getOptions().program == settings.dspProgram && running->getOptions().maxChannels >= settings.numChannels && running->getOptions().maxFrames >= chunkMax;
        if (! keep)
        {
            dsp.reset(); // the previous program (if any) is stopped first
            ScriptLoader::Job job;
            job.program = settings.dspProgram;
            job.programState = latestProgramState();
            job.numChannels = settings.numChannels;
            job.chunkFrames = chunkMax;
            job.limits = settings.luaLimits;
            dsp = makeDsp (job);
        }
        const bool ok = dsp->getError().empty() && dsp->prepare (settings.sampleRate, chunkMax, settings.numChannels);
        const auto* program = dynamic_cast<const ExternalDsp*> (dsp.get());
        const int pid = ok && program != nullptr ? static_cast<int> (program->getPid()) : 0;
        dspProcessId.store (std::max (pid, 0), std::memory_order_release);
        return ok;
    }

    ProgramCommand EngineCore::getActiveProgram() const
    {
        std::lock_guard<std::mutex> lock (planLock);
        return activeProgram;
    }

    bool EngineCore::isProgramChoicePending() const
    {
        std::lock_guard<std::mutex> lock (planLock);
        return proposal.has_value();
    }

    bool EngineCore::programChosen() const
    {
        std::lock_guard<std::mutex> lock (planLock);
        return ! activeProgram.empty();
    }

    // A program's start job as its restarts repeat it: no profile, and nothing warmed in place.
    ScriptLoader::Job EngineCore::restartJobFrom (ScriptLoader::Job job)
    {
        job.profile = false;
        job.warm = nullptr;
        job.onWarmed = {};
        return job;
    }

    // Control thread: the job that restarts the program (none: no restarts), and no restart due.
    void EngineCore::setRestartPlan (std::optional<ScriptLoader::Job> plan)
    {
        if (plan)
            plan = restartJobFrom (std::move (*plan));
        std::lock_guard<std::mutex> lock (planLock);
        restartPlan = std::move (plan);
        nextRestartNanos.store (0, std::memory_order_relaxed);
        restartAttempts.store (0, std::memory_order_relaxed);
        restartsStopped.store (false, std::memory_order_relaxed);
    }

    void EngineCore::setProgramState (std::string state)
    {
        std::lock_guard<std::mutex> lock (stateLock);
        programState = std::move (state);
    }

    std::string EngineCore::latestProgramState() const
    {
        std::lock_guard<std::mutex> lock (stateLock);
        return programState;
    }

    // Control thread: the worker saves the running program's state before its next chunk.
    std::string EngineCore::getProgramState (double timeoutSeconds)
    {
        if (! prepared.load (std::memory_order_acquire) || ! runningProgram.load (std::memory_order_acquire))
            return latestProgramState();
        const uint32_t wanted = stateRequests.fetch_add (1, std::memory_order_acq_rel) + 1;
        std::unique_lock<std::mutex> lock (stateLock);
        stateSaved.wait_for (lock, std::chrono::duration<double> (timeoutSeconds),
                             [&] { return static_cast<int32_t> (stateAnswers.load (std::memory_order_acquire) - wanted) >= 0; });
        return programState;
    }

    bool EngineCore::retryProgram()
    {
        std::lock_guard<std::mutex> lock (planLock);
        if (! restartPlan || ! restartsStopped.load (std::memory_order_acquire))
            return false;
        restartsStopped.store (false, std::memory_order_release);
        restartAttempts.store (0, std::memory_order_release);
        nextRestartNanos.store (nowNanos(), std::memory_order_release);
        return true;
    }

    void EngineCore::loadProgram (ProgramCommand program, bool profileIt)
    {
        if (! prepared.load (std::memory_order_acquire))
            return; // prepare takes settings.dspProgram
        // The choice takes effect (and restarts follow it) only once its job has started it: one
        // that fails leaves the running DSP, and its restarts, as they were (onLoaderOutcome).
        const bool toProgram = ! program.empty();
        auto job = toProgram ? loaderJob ({}, program.argv.front(), profileIt, true) : loaderJob (currentSource, currentName, profileIt, true);
        job.program = program;
        Proposal p;
        p.program = std::move (program);
        if (toProgram)
        {
            profileAsked = profileIt;
            p.plan = restartJobFrom (job);
        }
        std::lock_guard<std::mutex> lock (planLock); // held across submit: the outcome cannot come first
        p.job = loader.submit (std::move (job));
        proposal = std::move (p);
    }

    // Worker (a chunk's failure) or control thread (prepare's): the next start, after a backoff.
    void EngineCore::scheduleRestart (int attempt) noexcept
    {
        const double delay = std::min (0.25 * static_cast<double> (1 << std::clamp (attempt, 0, 5)), 8.0);
        nextRestartNanos.store (nowNanos() + static_cast<int64_t> (delay * 1.0e9), std::memory_order_release);
    }

    // Loader thread, when idle: the restart that is due, if any. The next attempt is scheduled at
    // once, in case this one fails or is cancelled. After maxRestartsInARow attempts in a row,
    // restarts stop with a message, until retryProgram.
    std::optional<ScriptLoader::Job> EngineCore::dueRestartOnLoader()
    {
        int64_t due = nextRestartNanos.load (std::memory_order_acquire);
        const int64_t now = nowNanos();
        if (due == 0 || now < due || ! scriptFailed.load (std::memory_order_acquire) || readyScript.load (std::memory_order_acquire) != nullptr)
            return std::nullopt;
        std::lock_guard<std::mutex> lock (planLock);
        if (! restartPlan || ! nextRestartNanos.compare_exchange_strong (due, 0, std::memory_order_acq_rel))
            return std::nullopt;
        if (restartAttempts.load (std::memory_order_acquire) >= maxRestartsInARow)
        {
            restartsStopped.store (true, std::memory_order_release);
            ConsoleLine line;
            line.kind = ConsoleLine::error;
            std::snprintf (line.text, sizeof (line.text), "the DSP program failed %d times in a row: restarts stopped (the delayed dry "
                                                          "signal plays until you try again)",
                           maxRestartsInARow + 1);
            loaderConsole.push (line);
            return std::nullopt;
        }
        const int attempt = restartAttempts.fetch_add (1, std::memory_order_acq_rel) + 1;
        scheduleRestart (attempt);
        dspRestarts.fetch_add (1, std::memory_order_relaxed);
        auto job = restartPlan;
        job->programState = latestProgramState(); // a restart goes on from the last state saved
        return job;
    }

    void EngineCore::leaveAudioThread() noexcept
    {
        // Pairs with processBlock's count-then-check: either a call sees `prepared` cleared, or this
        // sees the call inside and waits for it.
        prepared.store (false, std::memory_order_seq_cst);
        while (audioCallsInside.load (std::memory_order_seq_cst) != 0)
            std::this_thread::yield();
    }

    void EngineCore::startWorker()
    {
        loadWindowStart = nowNanos();
        loadBusyNanos = 0;
        poolSlot.store (pool->attach ([] (void* e) { return static_cast<EngineCore*> (e)->runOnPool(); }, this), std::memory_order_release);
    }

    void EngineCore::stopWorker()
    {
        pool->detach (poolSlot.exchange (nullptr, std::memory_order_acq_rel)); // returns once no pool thread is inside this engine
    }

    void EngineCore::holdWorker (bool hold) noexcept
    {
        workerHeld.store (hold, std::memory_order_release);
        if (! hold)
            pool->markPending (poolSlot.load (std::memory_order_acquire), nowNanos());
    }

    int64_t EngineCore::deadlineNanos (const BlockStamp& s, uint64_t ringPos) const noexcept
    {
        // The callback that plays ring position ringPos: the same rule as the lateness statistic.
        const auto offset = static_cast<int64_t> (ringPos - s.firstRingPos);
        const int64_t blocksAhead = (offset + s.latency) / std::max (1, s.blockSize);
        return s.arrivalNanos + static_cast<int64_t> (static_cast<double> (blocksAhead * s.blockSize) * 1.0e9 / settings.sampleRate);
    }

    int EngineCore::latencyFloorFor (int blockSize, double sampleRate) noexcept
    {
        const int block = std::max (1, blockSize);
        const int fade = std::max (1, static_cast<int> (std::lround (0.001 * sampleRate)));
        const int slack = static_cast<int> (std::ceil (0.002 * sampleRate)) + block / 4;
        return block + fade + slack;
    }

    int EngineCore::getLatencyFloor() const noexcept
    {
        return latencyFloorFor (getLargestBlock(), settings.sampleRate);
    }

    int EngineCore::clampLatency (int samples) const noexcept
    {
        const auto maxLatency = static_cast<int> (std::ceil (settings.maxLatencySeconds * settings.sampleRate));
        return std::clamp (samples, std::min (getLatencyFloor(), maxLatency), maxLatency);
    }

    void EngineCore::requestLatency (int samples) noexcept
    {
        const int clamped = clampLatency (samples);
        requestedLatency.store (clamped, std::memory_order_release);
        if (! prepared.load (std::memory_order_acquire))
            publishedLatency.store (clamped, std::memory_order_relaxed);
    }

    int EngineCore::getLatencySamples() const noexcept
    {
        const int pending = requestedLatency.load (std::memory_order_acquire);
        return pending >= 0 ? pending : publishedLatency.load (std::memory_order_relaxed);
    }

    void EngineCore::setScriptFailed (const std::string& message)
    {
        const size_t n = std::min (message.size(), scriptError.size() - 1);
        for (size_t i = 0; i < n; ++i)
            scriptError[i].store (message[i], std::memory_order_relaxed);
        scriptError[n].store ('\0', std::memory_order_relaxed);
        scriptFailed.store (true, std::memory_order_release);
    }

    std::string EngineCore::getScriptError() const
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

    EngineCounters EngineCore::getCounters() const noexcept
    {
        EngineCounters c;
        c.dropoutFrames = dropoutFrames.load (std::memory_order_relaxed);
        c.dropoutEvents = dropoutEvents.load (std::memory_order_relaxed);
        c.inputOverflowFrames = inputOverflowFrames.load (std::memory_order_relaxed);
        c.skippedFrames = skippedFrames.load (std::memory_order_relaxed);
        c.unprocessedFrames = unprocessedFrames.load (std::memory_order_relaxed);
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
        c.dspRestarts = dspRestarts.load (std::memory_order_relaxed);
        c.runtime.reported = runtimeReported.load (std::memory_order_acquire);
        c.runtime.heapBytes = runtimeHeap.load (std::memory_order_relaxed);
        c.runtime.collections = runtimeCollections.load (std::memory_order_relaxed);
        c.runtime.pauseCount = runtimePauseCount.load (std::memory_order_relaxed);
        c.runtime.pauseP50Seconds = runtimePauseP50.load (std::memory_order_relaxed);
        c.runtime.pauseP99Seconds = runtimePauseP99.load (std::memory_order_relaxed);
        c.runtime.pauseMaxSeconds = runtimePauseMax.load (std::memory_order_relaxed);
        return c;
    }

    bool EngineCore::waitForWorker (double timeoutSeconds) const noexcept
    {
        pool->markPending (poolSlot.load (std::memory_order_acquire), nowNanos()); // due now: a napping thread is woken
        const double deadline = nowSeconds() + timeoutSeconds;
        while (outputRing.publishedWritePosition() < inputWritePos)
        {
            if (nowSeconds() > deadline)
                return false;
            sleepNanos (20'000);
        }
        return true;
    }

} // namespace pg
