// DspSupervisor, starts and restarts: the DSP that prepare starts (a script, a DSP program or a
// test's DSP), release, and a program's choice, restarts with their backoff, and state.

#include "DspSupervisor.h"

#include "Clock.h"
#include "EngineControl.h"
#include "ExternalDsp.h"
#include "LuaDsp.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace pg
{
    // ---- prepare and release (control thread, worker stopped) ------------------------------------

    void DspSupervisor::cancelJobs()
    {
        generation.fetch_add (1, std::memory_order_acq_rel); // outcomes of earlier jobs are dropped
        {
            std::lock_guard<std::mutex> published (outcomeLock);
        } // one being published has ended
        loader.cancel();
        while (warmingJobs.load (std::memory_order_acquire) > 0) // the loader is inside the DSP: it stops at its next chunk
            sleepNanos (100'000);
        {
            std::lock_guard<std::mutex> lock (profileLock);
            profileRunning = false;
            profileFresh = false;
            profile = {};
        }
        dropReadyScript();
    }

    void DspSupervisor::choose (const ProgramCommand& program)
    {
        std::lock_guard<std::mutex> lock (planLock);
        activeProgram = program;
        proposal.reset();
    }

    bool DspSupervisor::startDsp (std::string_view scriptSource, std::string_view scriptName, std::string& name)
    {
        const auto& settings = engine.getSettings();
        const int chunkMax = engine.getChunkFrames();
        crossfadeSamples = engine.audio().getCrossfadeNominalSamples();
        renderRestartsFailed = 0;
        scriptFailed.store (false, std::memory_order_relaxed);
        incoming.reset();
        incomingScratch.assign (static_cast<size_t> (settings.numChannels * chunkMax), 0.0f);
        for (int c = 0; c < maxChannels; ++c)
            incomingPtrs[static_cast<size_t> (c)] =
                c < settings.numChannels ? incomingScratch.data() + static_cast<size_t> (c * chunkMax) : nullptr;
        bool ok = false;
        name = std::string (scriptName);
        if (programChosen())
        {
            ok = startProgram();
            if (const auto* program = dynamic_cast<const ExternalDsp*> (running.get()); program != nullptr && ! program->getChildName().empty())
                name = program->getChildName();
            else
                name = settings.dspProgram.argv.front();
        }
        else if (dspFactory)
        {
            running = dspFactory();
            ok = running->prepare (settings.sampleRate, chunkMax, settings.numChannels);
        }
        else
        {
            if (dynamic_cast<LuaDsp*> (running.get()) == nullptr)
                running = std::make_unique<LuaDsp>(); // a DSP program before: stopped here
            auto& lua = static_cast<LuaDsp&> (*running);
            lua.setLimits (settings.luaLimits);
            pushParametersToScript();
            ok = lua.load (scriptSource, scriptName) && lua.prepare (settings.sampleRate, chunkMax, settings.numChannels);
        }
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            runningName = name;
            runningMacros = running->getMacros();
        }
        if (ok)
            running->setAutomaticCollection (true);
        return ok;
    }

    // After startDsp and the collector's configuration: ok, the DSP is ready.
    void DspSupervisor::started (bool ok, const std::string& name)
    {
        if (! ok)
        {
            setScriptFailed (running->getError());
            dspProcessId.store (0, std::memory_order_release);
        }
        engine.worker().setHeapBytes (running->heapBytes());
        runningProgram.store (programChosen(), std::memory_order_relaxed);
        setRestartPlan (programChosen() ? std::optional (loaderJob ({}, name, false, true)) : std::nullopt);
        if (programChosen() && ! ok)
            scheduleRestart (0);
        takenOverNanos = nowNanos();
        {
            trace::Event e;
            e.kind = trace::Kind::dspStart;
            e.instance = engine.getTraceInstance();
            e.start = e.end = takenOverNanos;
            trace::Recorder::global().recordControl (e);
        }
        dspRestarts.store (0, std::memory_order_relaxed);
        runtimeReported.store (false, std::memory_order_relaxed);
        publishRuntimeFigures();
    }

    // On the loader thread: the script's live heap is built before the worker plays it (unless
    // offline, where the worker may take its time), and the auto latency's profile runs on a copy
    // of the script of its own. The job is made before the worker starts: it marks the worker's
    // script as warming, so that no chunk enters it while the loader does.
    std::optional<ScriptLoader::Job> DspSupervisor::warmUpJob (std::string_view scriptSource, std::string_view scriptName, bool ok,
                                                               bool profileIt, double profileBudgetSeconds)
    {
        currentSource = std::string (scriptSource);
        currentName = std::string (scriptName);
        profileAsked = ok && profileIt;
        const bool warm = ok && ! engine.audio().isHostOffline() && ! programChosen() // a program builds its heap in its prepare
                          && ! dspFactory;
        std::optional<ScriptLoader::Job> job;
        if (warm || profileAsked)
        {
            job = loaderJob (currentSource, currentName, profileAsked, false, warm);
            job->request.budgetSeconds = profileBudgetSeconds;
        }
        return job;
    }

    void DspSupervisor::release()
    {
        if (! programChosen() && ! runningProgram.load (std::memory_order_relaxed) && ! isProgramChoicePending())
            return;
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
        while (warmingJobs.load (std::memory_order_acquire) > 0) // as prepare: the loader leaves the DSP first
            sleepNanos (100'000);
        dropReadyScript();
        incoming.reset();
        running = std::make_unique<LuaDsp>();
        dspProcessId.store (0, std::memory_order_release);
    }

    bool DspSupervisor::startProgram()
    {
        const auto& settings = engine.getSettings();
        const int chunkMax = engine.getChunkFrames();
        auto* current = dynamic_cast<ExternalDsp*> (running.get());
        const bool keep = current != nullptr && current->isRunning() && current->getError().empty() && current->getOptions().program == settings.dspProgram && current->getOptions().maxChannels >= settings.numChannels && current->getOptions().maxFrames >= chunkMax;
        if (! keep)
        {
            running.reset(); // the previous program (if any) is stopped first
            ScriptLoader::Job job;
            job.program = settings.dspProgram;
            job.programState = latestProgramState();
            job.numChannels = settings.numChannels;
            job.chunkFrames = chunkMax;
            job.limits = settings.luaLimits;
            running = makeDsp (job);
        }
        const bool ok = running->getError().empty() && running->prepare (settings.sampleRate, chunkMax, settings.numChannels);
        const auto* program = dynamic_cast<const ExternalDsp*> (running.get());
        const int pid = ok && program != nullptr ? static_cast<int> (program->getPid()) : 0;
        dspProcessId.store (std::max (pid, 0), std::memory_order_release);
        return ok;
    }

    // ---- programs: the choice, restarts and state ---------------------------------------------------

    ProgramCommand DspSupervisor::getActiveProgram() const
    {
        std::lock_guard<std::mutex> lock (planLock);
        return activeProgram;
    }

    bool DspSupervisor::isProgramChoicePending() const
    {
        std::lock_guard<std::mutex> lock (planLock);
        return proposal.has_value();
    }

    bool DspSupervisor::programChosen() const
    {
        std::lock_guard<std::mutex> lock (planLock);
        return ! activeProgram.empty();
    }

    // A program's start job as its restarts repeat it: no profile, and nothing warmed in place.
    ScriptLoader::Job DspSupervisor::restartJobFrom (ScriptLoader::Job job)
    {
        job.profile = false;
        job.warm = nullptr;
        job.onWarmed = {};
        return job;
    }

    // Control thread: the job that restarts the program (none: no restarts), and no restart due.
    void DspSupervisor::setRestartPlan (std::optional<ScriptLoader::Job> plan)
    {
        if (plan)
            plan = restartJobFrom (std::move (*plan));
        std::lock_guard<std::mutex> lock (planLock);
        restartPlan = std::move (plan);
        nextRestartNanos.store (0, std::memory_order_relaxed);
        restartAttempts.store (0, std::memory_order_relaxed);
        restartsStopped.store (false, std::memory_order_relaxed);
    }

    void DspSupervisor::setProgramState (std::string state)
    {
        std::lock_guard<std::mutex> lock (stateLock);
        programState = std::move (state);
    }

    std::string DspSupervisor::latestProgramState() const
    {
        std::lock_guard<std::mutex> lock (stateLock);
        return programState;
    }

    // Control thread: the worker saves the running program's state before its next chunk.
    std::string DspSupervisor::getProgramState (double timeoutSeconds)
    {
        if (! engine.audio().isPrepared() || ! runningProgram.load (std::memory_order_acquire))
            return latestProgramState();
        const uint32_t wanted = stateRequests.fetch_add (1, std::memory_order_acq_rel) + 1;
        std::unique_lock<std::mutex> lock (stateLock);
        stateSaved.wait_for (lock, std::chrono::duration<double> (timeoutSeconds),
                             [&] { return static_cast<int32_t> (stateAnswers.load (std::memory_order_acquire) - wanted) >= 0; });
        return programState;
    }

    void DspSupervisor::saveProgramStateIfAskedOnWorker()
    {
        if (stateRequests.load (std::memory_order_acquire) != stateAnswers.load (std::memory_order_relaxed))
            saveProgramStateOnWorker();
    }

    void DspSupervisor::saveProgramStateOnWorker()
    {
        const uint32_t wanted = stateRequests.load (std::memory_order_acquire);
        auto* program = dynamic_cast<ExternalDsp*> (running.get());
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

    bool DspSupervisor::retryProgram()
    {
        std::lock_guard<std::mutex> lock (planLock);
        if (! restartPlan || ! restartsStopped.load (std::memory_order_acquire))
            return false;
        restartsStopped.store (false, std::memory_order_release);
        restartAttempts.store (0, std::memory_order_release);
        nextRestartNanos.store (nowNanos(), std::memory_order_release);
        return true;
    }

    void DspSupervisor::loadProgram (ProgramCommand program, bool profileIt)
    {
        if (! engine.audio().isPrepared())
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
    void DspSupervisor::scheduleRestart (int attempt) noexcept
    {
        const double delay = std::min (firstBackoffSeconds.load (std::memory_order_relaxed) * static_cast<double> (1 << std::clamp (attempt, 0, 5)), 8.0);
        nextRestartNanos.store (nowNanos() + static_cast<int64_t> (delay * 1.0e9), std::memory_order_release);
    }

    // Loader thread, when idle: the restart that is due, if any. The next attempt is scheduled at
    // once, in case this one fails or is cancelled. After maxRestartsInARow attempts in a row,
    // restarts stop with a message, until retryProgram.
    std::optional<ScriptLoader::Job> DspSupervisor::dueRestartOnLoader()
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
} // namespace pg
