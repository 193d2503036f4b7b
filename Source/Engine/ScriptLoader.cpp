#include "ScriptLoader.h"

#include "ExternalDsp.h"
#include "LuaDsp.h"

#include <algorithm>
#include <chrono>
#include <optional>

namespace pg
{
    ScriptLoader::ScriptLoader (std::function<void (Outcome&&)> callback, std::function<std::optional<Job>()> due, LoaderTurns& t)
        : onOutcome (std::move (callback))
        , dueJob (std::move (due))
        , turns (t)
    {
        retired.allocate (16);
        thread = std::thread ([this] { run(); });
    }

    ScriptLoader::~ScriptLoader() { shutdown(); }

    void ScriptLoader::shutdown()
    {
        if (! thread.joinable())
            return;
        {
            std::lock_guard<std::mutex> l (lock);
            quit = true;
            dropWaiting();
            cancelRunning.store (true, std::memory_order_release);
        }
        wake.notify_all();
        thread.join();
        freeRetired();
    }

    uint64_t ScriptLoader::submit (Job job)
    {
        uint64_t number = 0;
        {
            std::lock_guard<std::mutex> l (lock);
            number = nextNumber++;
            dropWaiting();
            waiting = std::move (job);
            waitingNumber = number;
            cancelRunning.store (true, std::memory_order_release);
        }
        wake.notify_all();
        return number;
    }

    void ScriptLoader::cancel()
    {
        std::lock_guard<std::mutex> l (lock);
        dropWaiting();
        cancelRunning.store (true, std::memory_order_release);
    }

    void ScriptLoader::dropWaiting()
    {
        if (waiting.has_value() && waiting->warm != nullptr && waiting->onWarmed)
            waiting->onWarmed (false);
        waiting.reset();
    }

    bool ScriptLoader::isBusy() const
    {
        std::lock_guard<std::mutex> l (lock);
        return running || waiting.has_value();
    }

    bool ScriptLoader::retire (Dsp* script) noexcept { return script == nullptr || retired.push (script); }

    bool ScriptLoader::freeRetired()
    {
        bool any = false;
        Dsp* script = nullptr;
        while (retired.pop (script))
        {
            delete script;
            any = true;
        }
        return any;
    }

    void ScriptLoader::run()
    {
        std::unique_lock<std::mutex> l (lock);
        int64_t pollNanos = firstPollNanos;
        while (! quit)
        {
            // Retired scripts and due jobs are polled: the worker hands scripts over without
            // waking anyone. A poll that finds nothing waits twice as long for the next one, up
            // to idlePollNanos: many idle instances would otherwise wake 50 times a second each.
            wake.wait_for (l, std::chrono::nanoseconds (pollNanos), [this] { return quit || waiting.has_value(); });
            const bool idle = ! waiting.has_value();
            l.unlock();
            const bool freed = freeRetired();
            std::optional<Job> due;
            if (dueJob && idle)
                due = dueJob(); // without the lock: it takes the engine's own
            pollNanos = idle && ! freed && ! due.has_value() ? std::min (2 * pollNanos, idlePollNanos) : firstPollNanos;
            l.lock();
            if (due.has_value() && ! quit && ! waiting.has_value())
            {
                waiting = std::move (*due);
                waitingNumber = nextNumber++;
            }
            else if (due.has_value() && due->warm != nullptr && due->onWarmed)
            {
                due->onWarmed (false); // superseded unrun, as dropWaiting does
            }
            if (quit || ! waiting.has_value())
                continue;
            Job job = std::move (*waiting);
            const uint64_t number = waitingNumber;
            waiting.reset();
            running = true;
            cancelRunning.store (false, std::memory_order_release);
            l.unlock();

            Outcome outcome;
            {
                // A script's job takes its turn with the other engines' loaders (a cancelled wait
                // runs the job at once: it stops at its first chunk). A program's does not: its
                // work is in its own process, and this thread mostly waits for its answers (up to
                // its timeout, for one that never answers).
                std::optional<LoaderTurn> turn;
                if (job.program.empty())
                    turn.emplace (turns, cancelRunning);
                outcome = perform (job, number);
            }
            const bool cancelled = cancelRunning.load (std::memory_order_acquire);
            if (! cancelled && onOutcome)
                onOutcome (std::move (outcome));
            outcome = {}; // a cancelled script's heap is freed here, on this thread

            l.lock();
            running = false;
        }
    }

    std::unique_ptr<Dsp> makeDsp (const ScriptLoader::Job& job)
    {
        if (job.program.empty())
        {
            auto script = std::make_unique<LuaDsp> (job.limits);
            script->load (job.source, job.name);
            return script;
        }
        auto program = std::make_unique<ExternalDsp>();
        ExternalDsp::Options options;
        options.program = job.program;
        options.initialState = job.programState;
        options.maxChannels = job.numChannels;
        options.maxFrames = job.chunkFrames;
        options.callBudgetSeconds = job.limits.callBudgetSeconds;
        program->start (options); // a failure is kept as its error
        return program;
    }

    // The collection comes after the collector's mode: restarting Lua's collector starts a cycle
    // at once, and after a full collection the next one waits until the heap has grown by the
    // pause (so instances warmed together do not all collect at once). The reservation comes
    // after the collection, which leaves the live heap it is measured from. A DSP program's heap
    // is its own process's: it is configured only.
    void ScriptLoader::settle (const Job& job, Dsp& script)
    {
        if (job.configureCollector)
            job.configureCollector (script);
        if (! job.program.empty())
            return;
        script.fullCollection();
        if (job.heapGrowthPercent > 0)
            script.reserveHeapGrowth (job.heapGrowthPercent);
    }

    ScriptLoader::Outcome ScriptLoader::perform (const Job& job, uint64_t number)
    {
        Outcome out;
        out.job = number;
        out.tag = job.tag;
        out.name = job.name;
        out.program = ! job.program.empty();
        const auto push = [&job] (Dsp& d) {
            for (const auto& [name, value] : job.parameters)
                d.setParameter (name, value);
        };
        if (job.warm != nullptr)
        {
            // Cancelled or not, the warm-up ends with the script at its initial DSP state and the
            // garbage it made collected.
            warmUpScript (*job.warm, job.request, push, cancelRunning);
            const bool ready = job.warm->isReady() && job.warm->prepare (job.sampleRate, job.chunkFrames, job.numChannels);
            if (ready)
                settle (job, *job.warm);
            if (job.onWarmed)
                job.onWarmed (ready);
            if (! job.profile && ! job.deliverScript)
                return out;
        }
        std::unique_ptr<Dsp> script = makeDsp (job);
        push (*script);
        if (! script->getError().empty() || ! script->prepare (job.sampleRate, job.chunkFrames, job.numChannels))
        {
            out.error = script->getError();
            return out;
        }
        if (job.profile)
        {
            out.profile = profileScript (*script, job.request, push, cancelRunning);
            out.profiled = out.profile.complete;
        }
        else if (job.deliverScript && job.program.empty())
        {
            warmUpScript (*script, job.request, push, cancelRunning); // (a program builds its heap in its own prepare)
        }
        if (! script->isReady())
        {
            out.error = script->getError();
            return out;
        }
        if (job.deliverScript)
        {
            // Play from the script's initial DSP state, not from the profile's or warm-up's tone
            // (the live heap they built stays warm). A program that ran no tone is prepared already.
            const bool ranTone = job.profile || job.program.empty();
            if (ranTone && ! script->prepare (job.sampleRate, job.chunkFrames, job.numChannels))
            {
                out.error = script->getError();
                return out;
            }
            settle (job, *script);
            out.script = std::move (script);
        }
        return out;
    }
} // namespace pg
