// DspSupervisor: scripts, the loader's jobs and outcomes, and the DSP on the worker (see
// DspSupervisor.h). DSP programs' starts, restarts and state are in DspPrograms.cpp.

#include "DspSupervisor.h"

#include "Clock.h"
#include "EngineControl.h"
#include "ExternalDsp.h"
#include "LuaDsp.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>

namespace pg
{
    DspSupervisor::DspSupervisor (EngineControl& owner)
        : engine (owner)
        , running (std::make_unique<LuaDsp>())
    {
        console.allocate (256);
        loaderConsole.allocate (64);
        controlConsole.allocate (16);
    }

    DspSupervisor::~DspSupervisor() { shutdown(); }

    void DspSupervisor::shutdown()
    {
        loader.shutdown(); // (the worker has stopped: it hands retired DSPs to the loader, which frees them as it stops)
        dropReadyScript();
    }

    void DspSupervisor::dropReadyScript() noexcept
    {
        if (auto* ready = readyScript.exchange (nullptr, std::memory_order_acq_rel))
            delete ready;
    }

    // ---- scripts ---------------------------------------------------------------------------------

    ScriptLoader::Job DspSupervisor::loaderJob (std::string source, std::string name, bool profileIt, bool deliver, bool warm)
    {
        {
            // A new job cancels the running one. A profile still owed carries over to the new
            // script, so waitForProfile() waits for a profile, not for the job that cancelled it.
            std::lock_guard<std::mutex> lock (profileLock);
            profileIt = profileIt || profileRunning;
            profileRunning = profileIt;
        }
        const auto& settings = engine.getSettings();
        ScriptLoader::Job job;
        job.source = std::move (source);
        job.name = std::move (name);
        job.sampleRate = settings.sampleRate;
        job.chunkFrames = engine.getChunkFrames();
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
            job.warm = running.get();
            job.onWarmed = [this] (bool ready) {
                if (! ready && ! running->isReady()) // (a job dropped unrun leaves the script as it was)
                    setScriptFailed (running->getError());
                // Set before the count falls: a pool thread may run the queued chunks at once, before
                // this thread goes on, and they waited for the warm-up (not to be measured).
                engine.collector().measureFromNow (false);
                engine.collector().heapCollectedOffWorker(); // (the warm-up ends with a full collection)
                if (warmingJobs.fetch_sub (1, std::memory_order_acq_rel) == 1)
                    engine.worker().markPending (nowNanos());
            };
        }
        job.tag = generation.load (std::memory_order_acquire);
        auto& q = job.request;
        q.sampleRate = settings.sampleRate;
        q.blockSize = settings.maxBlockSize;
        q.chunkFrames = engine.getChunkFrames();
        q.numChannels = settings.numChannels;
        engine.collector().describe (q);
        q.minLatencySamples = engine.getFixedFloor();
        q.minDynamicLatencySamples = engine.getMeasuredFloor();
        q.fadeSamples = AudioSide::fadeSamplesFor (settings.sampleRate);
        q.maxLatencySamples = engine.clampLatency (INT_MAX);
        const auto s = engine.collector().getStrategy();
        const int pause = q.pausePercent, stepMul = q.stepMultiplierPercent;
        // On the loader: a generational switch's full collection runs there, not on the worker.
        job.configureCollector = [s, pause, stepMul] (Dsp& d) { AdaptiveCollector::applyCollectorMode (d, s, pause, stepMul); };
        job.heapGrowthPercent = AdaptiveCollector::heapGrowthPercent (s, pause);
        return job;
    }

    void DspSupervisor::loadScript (std::string source, std::string name, bool profileIt)
    {
        if (! engine.audio().isPrepared())
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
            controlConsole.push (line);
            return;
        }
        profileAsked = profileIt;
        loader.submit (loaderJob (std::move (source), std::move (name), profileIt, true));
    }

    void DspSupervisor::profileInBackground (double budgetSeconds)
    {
        if (! engine.audio().isPrepared() || profileAsked || isProgramChoicePending())
            return; // (a new job would cancel the choice's start: asked again once it is done)
        profileAsked = true;
        auto job = loaderJob (currentSource, currentName, true, false);
        job.request.budgetSeconds = budgetSeconds;
        loader.submit (std::move (job));
    }

    bool DspSupervisor::waitUntilWarm (double timeoutSeconds) const
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
    void DspSupervisor::onLoaderOutcome (ScriptLoader::Outcome&& o)
    {
        std::lock_guard<std::mutex> published (outcomeLock);
        if (o.tag != generation.load (std::memory_order_acquire))
            return; // a job from before the last prepare or release
        {
            std::lock_guard<std::mutex> lock (planLock);
            const bool choice = proposal && proposal->job == o.job; // its choice takes effect only if it started
            if (choice && o.error.empty() && o.script != nullptr)
            {
                activeProgram = std::move (proposal->program);
                restartPlan = std::move (proposal->plan);
                nextRestartNanos.store (0, std::memory_order_relaxed);
                restartAttempts.store (0, std::memory_order_relaxed);
                restartsStopped.store (false, std::memory_order_relaxed);
            }
            // A failure's line is queued while its choice is still pending: whoever sees the
            // choice no longer pending finds the reason on the console.
            if (! o.error.empty())
                loaderConsole.push (failureLine (o, choice, restartPlan.has_value()));
            if (choice)
                proposal.reset();
        }
        publishOutcomeProfile (o);
        if (! o.error.empty())
            return;
        if (o.script != nullptr)
        {
            auto* ready = new ReadyScript { std::move (o.script), o.name };
            if (auto* previous = readyScript.exchange (ready, std::memory_order_acq_rel))
                delete previous; // the worker had not taken it yet: the newer one replaces it
        }
    }

    // Loader thread: what the console says of a job that failed. choice: the job was the user's
    // choice of a program; restarting: a program's restarts are planned.
    ConsoleLine DspSupervisor::failureLine (const ScriptLoader::Outcome& o, bool choice, bool restarting) const
    {
        ConsoleLine line;
        line.kind = ConsoleLine::error;
        const bool failed = scriptFailed.load (std::memory_order_acquire); // the running DSP has failed
        const char* what = ! failed     ? " (not started: the current DSP keeps playing)"
                           : restarting ? (choice ? " (not started: the delayed dry signal plays; the program before restarts after a backoff)"
                                                  : " (the delayed dry signal plays; restarting after a backoff)")
                                        : " (not started: the delayed dry signal plays)";
        const std::string text = o.error + (! o.program && ! choice ? " (not loaded: the current script keeps playing)" : what);
        std::snprintf (line.text, sizeof (line.text), "%s", text.c_str());
        return line;
    }

    void DspSupervisor::publishOutcomeProfile (const ScriptLoader::Outcome& o)
    {
        {
            std::lock_guard<std::mutex> lock (profileLock);
            if (o.profiled)
            {
                profile = o.profile;
                profileFresh = true;
                engine.collector().offerProfiledStart (o.profile.dynamicLatencySamples);
            }
            profileRunning = false;
        }
        profileDone.notify_all();
    }

    bool DspSupervisor::takeProfile (ProfileResult& result)
    {
        std::lock_guard<std::mutex> lock (profileLock);
        if (! profileFresh)
            return false;
        profileFresh = false;
        result = profile;
        return true;
    }

    ProfileResult DspSupervisor::getProfile() const
    {
        std::lock_guard<std::mutex> lock (profileLock);
        return profile;
    }

    bool DspSupervisor::waitForProfile (double timeoutSeconds) const
    {
        std::unique_lock<std::mutex> lock (profileLock);
        return profileDone.wait_for (lock, std::chrono::duration<double> (timeoutSeconds), [this] { return ! profileRunning; }) && profile.complete;
    }

    std::string DspSupervisor::getScriptName() const
    {
        std::lock_guard<std::mutex> lock (scriptLock);
        return runningName;
    }

    std::vector<ScriptMacro> DspSupervisor::getScriptMacros() const
    {
        std::lock_guard<std::mutex> lock (scriptLock);
        return runningMacros;
    }

    int DspSupervisor::addScriptParameter (const char* name, float initialValue)
    {
        if (numScriptParameters >= maxScriptParameters)
            return -1;
        auto& p = scriptParameters[static_cast<size_t> (numScriptParameters)];
        p.name = name;
        p.value.store (initialValue, std::memory_order_relaxed);
        return numScriptParameters++;
    }

    void DspSupervisor::setScriptParameter (int index, float value) noexcept
    {
        if (index >= 0 && index < numScriptParameters)
            scriptParameters[static_cast<size_t> (index)].value.store (value, std::memory_order_relaxed);
    }

    void DspSupervisor::setScriptFailed (const std::string& message)
    {
        const size_t n = std::min (message.size(), scriptError.size() - 1);
        for (size_t i = 0; i < n; ++i)
            scriptError[i].store (message[i], std::memory_order_relaxed);
        scriptError[n].store ('\0', std::memory_order_relaxed);
        scriptFailed.store (true, std::memory_order_release);
    }

    std::string DspSupervisor::getScriptError() const
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

    void DspSupervisor::addCountersTo (EngineCounters& c) const noexcept
    {
        c.scriptFailed = scriptFailed.load (std::memory_order_acquire);
        c.dspRestarts = dspRestarts.load (std::memory_order_relaxed);
        c.runtime.reported = runtimeReported.load (std::memory_order_acquire);
        c.runtime.heapBytes = runtimeHeap.load (std::memory_order_relaxed);
        c.runtime.collections = runtimeCollections.load (std::memory_order_relaxed);
        c.runtime.pauseCount = runtimePauseCount.load (std::memory_order_relaxed);
        c.runtime.pauseP50Seconds = runtimePauseP50.load (std::memory_order_relaxed);
        c.runtime.pauseP99Seconds = runtimePauseP99.load (std::memory_order_relaxed);
        c.runtime.pauseMaxSeconds = runtimePauseMax.load (std::memory_order_relaxed);
    }

    // ---- worker ------------------------------------------------------------------------------------

    void DspSupervisor::consoleFromWorker (ConsoleLine::Kind kind, const std::string& text) noexcept
    {
        ConsoleLine line;
        line.kind = kind;
        const size_t n = std::min (text.size(), sizeof (line.text) - 1);
        std::memcpy (line.text, text.data(), n);
        line.text[n] = '\0';
        console.push (line); // a full console drops the line: nobody is reading it
    }

    void DspSupervisor::pushParametersToScript()
    {
        for (int i = 0; i < numScriptParameters; ++i)
        {
            const auto& p = scriptParameters[static_cast<size_t> (i)];
            running->setParameter (p.name, p.value.load (std::memory_order_relaxed));
        }
    }

    // Worker: takes a script the loader has prepared; it crossfades in from the next chunk.
    void DspSupervisor::takeReadyScriptOnWorker()
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
        auto& collector = engine.collector();
        collector.configureCollector (*incoming, collector.getWorkerStrategy()); // as the loader set it, unless the strategy changed since
        incomingName = ready->name;
        incomingFadeDone = 0;
        // ready (its name only, now) is freed here: a small string
    }

    // Worker: the incoming script runs on the same input as the running one.
    void DspSupervisor::feedIncomingOnWorker (float* const* input, int nch, int n)
    {
        if (incoming != nullptr)
            for (int ch = 0; ch < nch; ++ch)
                std::copy (input[ch], input[ch] + n, incomingPtrs[static_cast<size_t> (ch)]);
    }

    // Worker, before the chunk: the DSP told whether the host renders (a render waits for the DSP:
    // only a hang fails it), and a script that failed started again for a render (a program that
    // failed is started again on the loader).
    Dsp& DspSupervisor::prepareForChunkOnWorker (bool rendering)
    {
        running->setRendering (rendering);
        if (rendering && ! running->isReady() && dynamic_cast<const LuaDsp*> (running.get()) != nullptr)
            restartDspForRenderOnWorker();
        return *running;
    }

    void DspSupervisor::takePrintedOnWorker()
    {
        for (const auto& line : running->takePrinted())
            consoleFromWorker (ConsoleLine::print, line);
    }

    // Worker: runs the incoming script on the same input and crossfades to it over the engine's
    // crossfade length; if it fails meanwhile, it is dropped and the running script keeps playing.
    void DspSupervisor::crossfadeIncomingOnWorker (float* const* io, int nch, int n)
    {
        if (incoming == nullptr)
            return;
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
            float* out = io[ch];
            const float* in = incomingPtrs[static_cast<size_t> (ch)];
            for (int i = 0; i < n; ++i)
            {
                const float g = std::min (1.0f, static_cast<float> (incomingFadeDone + i + 1) * step);
                out[i] = in[i] * g + out[i] * (1.0f - g);
            }
        }
        incomingFadeDone += n;
        if (incomingFadeDone >= crossfadeSamples)
            takeOverOnWorker();
    }

    // Worker: the new script takes over; the old one is freed by the loader.
    void DspSupervisor::takeOverOnWorker()
    {
        auto* old = running.release();
        running = std::move (incoming);
        takenOverNanos = nowNanos();
        const auto* program = dynamic_cast<const ExternalDsp*> (running.get());
        runningProgram.store (program != nullptr, std::memory_order_relaxed);
        if (program == nullptr)
            runtimeReported.store (false, std::memory_order_release); // a script: no runtime's own figures
        dspProcessId.store (program != nullptr ? static_cast<int> (program->getPid()) : 0, std::memory_order_release);
        if (program != nullptr && ! program->getChildName().empty())
            incomingName = program->getChildName();
        engine.collector().measureFromNow (true); // a new script: its own responses
        engine.collector().heapCollectedOffWorker(); // (collected on the loader, as it came in)
        scriptFailed.store (false, std::memory_order_release);
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            runningName = incomingName;
            runningMacros = running->getMacros();
        }
        consoleFromWorker (ConsoleLine::info, incomingName + " loaded");
        {
            trace::Event e;
            e.kind = trace::Kind::dspStart;
            e.start = e.end = takenOverNanos;
            engine.worker().traceOnWorker (e);
        }
        if (! loader.retire (old))
            delete old; // the loader's queue is full (it frees them every 20 ms): freed here, once
    }

    // Worker, while the host renders: the DSP that failed (a script, or a program that died or
    // hung) starts again, in the collector mode and with the parameters of the one it replaces; a
    // program's old process is stopped and reaped where the loader frees it. False if it cannot
    // start again, or if it has failed to three times in a row (a program that never starts
    // would cost its start-up bound on every chunk).
    bool DspSupervisor::restartDspForRenderOnWorker()
    {
        if (warmingJobs.load (std::memory_order_acquire) > 0 || renderRestartsFailed >= 3)
            return false;
        auto fresh = running->restarted();
        if (fresh == nullptr)
        {
            ++renderRestartsFailed;
            return false;
        }
        renderRestartsFailed = 0;
        fresh->setRendering (true);
        auto& collector = engine.collector();
        collector.configureCollector (*fresh, collector.getWorkerStrategy());
        auto* old = running.release();
        running = std::move (fresh);
        pushParametersToScript();
        scriptFailed.store (false, std::memory_order_release);
        if (const auto* program = dynamic_cast<const ExternalDsp*> (running.get()))
        {
            dspProcessId.store (static_cast<int> (program->getPid()), std::memory_order_release);
            dspRestarts.fetch_add (1, std::memory_order_relaxed);
            takenOverNanos = nowNanos();
        }
        if (! loader.retire (old))
            delete old;
        return true;
    }

    // The DSP failed (a script's error, or a program that crashed, hung or answered late): its
    // chunks pass their input through from now on, so the output is the delayed dry signal. A
    // program is started again on the loader, after a backoff; one that ran 30 s or more before
    // failing starts the backoff over.
    void DspSupervisor::dspFailedOnWorker()
    {
        if (scriptFailed.load (std::memory_order_relaxed))
            return;
        setScriptFailed (running->getError());
        if (! runningProgram.load (std::memory_order_relaxed))
            return;
        dspProcessId.store (0, std::memory_order_release);
        consoleFromWorker (ConsoleLine::error, running->getError() + " (the delayed dry signal plays until it restarts)");
        if (nowNanos() - takenOverNanos > 30'000'000'000)
            restartAttempts.store (0, std::memory_order_relaxed);
        scheduleRestart (restartAttempts.load (std::memory_order_relaxed));
    }

    void DspSupervisor::publishRuntimeFigures() noexcept
    {
        const RuntimeFigures f = running->runtimeFigures();
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
} // namespace pg
