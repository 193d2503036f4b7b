#pragma once

// The loader thread: the slow work around a DSP, off the host's thread and off the worker. It
// compiles and prepares a script (or starts a DSP program), builds its live heap, profiles it, and
// frees the DSPs the worker has swapped out. No JUCE here.
//
// One job at a time, a script's in turn with the other engines' loaders (LoaderTurns.h): a new
// job cancels the one running (it stops at its next chunk) and replaces one waiting. A job may
// also warm a script the caller owns, in place, before the worker plays it. A job's outcome goes
// to the callback given at construction, on the loader thread.

#include "Dsp.h"
#include "LoaderTurns.h"
#include "Profiler.h"
#include "SpscRing.h"

#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace pg
{
    class ScriptLoader
    {
    public:
        struct Job
        {
            std::string source, name;
            ProgramCommand program; // not empty: a DSP program (ExternalDsp) in place of the script
            std::string programState; // the program's saved state, loaded at its start (may be empty)
            double sampleRate = 48000.0;
            int chunkFrames = 512;
            int numChannels = 2;
            LuaDspLimits limits {};
            std::vector<std::pair<const char*, float>> parameters; // the host's parameters, as now
            bool profile = false; // measure the auto latency (ProfileRequest below)
            bool deliverScript = false; // hand the prepared script over (a reload); else profile only
            ProfileRequest request {};
            // Before a script is handed over (or a warmed one played): its collector configured,
            // then one full collection, then this much growth of its live heap mapped ahead
            // (Dsp::reserveHeapGrowth; 0: none).
            std::function<void (Dsp&)> configureCollector;
            int heapGrowthPercent = 0;
            uint64_t tag = 0; // the caller's, given back in the outcome
            // An engine's own script to warm in place first: its live heap built, prepared again,
            // then configured and collected as above. The caller does not touch
            // it until onWarmed, which is called exactly once: after the warm-up (true if the
            // script is still ready), or when the job is dropped unrun (false).
            Dsp* warm = nullptr;
            std::function<void (bool ready)> onWarmed;
        };

        struct Outcome
        {
            uint64_t job = 0, tag = 0;
            std::unique_ptr<Dsp> script; // deliverScript and it prepared: ready to play
            std::string name;
            std::string error; // empty if the script compiled, prepared and ran
            ProfileResult profile {}; // complete if it was asked for and ran to the end
            bool profiled = false;
            bool program = false; // the job was a DSP program's
        };

        // dueJob, if given, is asked for a job of its own each time the loader is idle (20 ms after
        // the last activity, then ever less often, down to every idlePollNanos): the engine's restart
        // of a DSP program that failed. A script's job runs in a turn
        // of `turns`, which the process's other loaders share.
        explicit ScriptLoader (std::function<void (Outcome&&)> onOutcome, std::function<std::optional<Job>()> dueJob = {},
                               LoaderTurns& turns = LoaderTurns::shared());
        ~ScriptLoader(); // shutdown()
        // Control thread: cancels the job running, frees what it holds, and joins the thread. After
        // it, no outcome is given. Idempotent.
        void shutdown();
        ScriptLoader (const ScriptLoader&) = delete;
        ScriptLoader& operator= (const ScriptLoader&) = delete;

        // Control thread. Returns the job's number (its outcome carries it).
        uint64_t submit (Job job);
        // Control thread: drops the job waiting and stops the one running (its outcome is not given).
        void cancel();
        // Control thread: true while a job waits or runs.
        bool isBusy() const;

        // Worker: hands over a script to free. Wait-free; returns false if the queue is full (the
        // caller then frees it itself).
        bool retire (Dsp* script) noexcept;

    private:
        static constexpr int64_t firstPollNanos = 20'000'000, idlePollNanos = 100'000'000;

        void run();
        bool freeRetired(); // true if it freed any
        void dropWaiting(); // with the lock held
        Outcome perform (const Job& job, uint64_t number);
        static void settle (const Job& job, Dsp& script); // the collector configured, the heap collected and reserved

        std::function<void (Outcome&&)> onOutcome;
        std::function<std::optional<Job>()> dueJob;
        LoaderTurns& turns;
        mutable std::mutex lock;
        std::condition_variable wake;
        std::optional<Job> waiting;
        uint64_t waitingNumber = 0, nextNumber = 1;
        bool running = false, quit = false;
        std::atomic<bool> cancelRunning { false };
        SpscQueue<Dsp*> retired; // worker -> loader
        std::thread thread;
    };

    // A new DSP for a job, not yet prepared: its script compiled, or its program started and
    // greeted. A failure is kept as the DSP's error (getError).
    std::unique_ptr<Dsp> makeDsp (const ScriptLoader::Job& job);
} // namespace pg
