#pragma once

// Virtual time for the engine (Clock.h's TimeSource): its pool's threads, an audio callback and a
// simulated DSP run as fibers on the test's one OS thread, each until it sleeps, waits or works,
// and the clock jumps from one event to the next. The pool runs its real scheduling loop
// (WorkerPool::threadMain), the engines their real processBlock and chunk loop: only the clock,
// the sleeps, the futex waits and the threads themselves are the simulation's. So a run is exact
// and repeatable, takes milliseconds of real time for seconds of audio, and does not depend on the
// machine's load.
//
// Machine stalls are injected: a thread (or every thread) runs nothing from t to t + d, its work
// then taking that much longer. A stall trace recorded on a real machine (cyclictest's worst
// wake-ups, say) can be replayed the same way.
//
// Not thread-safe: one simulation at a time, driven from the thread that made it.

#include "Clock.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace pgtest
{
    constexpr int64_t us = 1'000, ms = 1'000'000, seconds = 1'000'000'000;

    class Simulation final : public pg::TimeSource
    {
    public:
        static constexpr int everyThread = -1;

        Simulation(); // takes over the engine's clock and threads; virtual time starts at 1 s
        ~Simulation() override; // gives them back (destroy what the simulation drives first)

        // ---- pg::TimeSource ---------------------------------------------------------------
        int64_t now() noexcept override { return clock.load (std::memory_order_relaxed); }
        void sleepFor (int64_t nanos) noexcept override;
        void waitWhileEquals (const std::atomic<uint32_t>& word, uint32_t value, int64_t timeoutNanos) noexcept override;
        bool startThread (std::function<void()> body) override;
        int64_t threadCpuNanos() noexcept override; // the work() the calling thread has done

        // ---- what a test drives -----------------------------------------------------------
        // The calling simulated thread computes for `nanos` (a DSP's cost): done that much later,
        // plus whatever stalls fall in between.
        void work (int64_t nanos) noexcept;
        // A thread that calls fn(k) for k = 0 … count-1 at first + k·period (each call as late as
        // a stall of its thread makes it). Returns the thread's index.
        int every (int64_t first, int64_t period, long count, std::function<void (long)> fn);
        // Thread `index` (everyThread: all of them, the machine) runs nothing in [from, to).
        void stall (int index, int64_t from, int64_t to);
        // Runs the threads until virtual time t (or until nothing is left to run).
        void runUntil (int64_t t);
        void runFor (int64_t nanos) { runUntil (now() + nanos); }
        int threadCount() const noexcept { return static_cast<int> (threads.size()); }

    private:
        struct Thread;
        int64_t wakeTime (int index) const;
        int64_t stalledUntil (int index, int64_t t) const;
        int64_t finishTime (int index, int64_t from, int64_t work) const;
        void suspend() noexcept; // back to runUntil
        static void entry();

        std::atomic<int64_t> clock { seconds }; // (read by real threads too: a loader's)
        std::vector<std::unique_ptr<Thread>> threads;
        struct Stall
        {
            int index;
            int64_t from, to;
        };
        std::vector<Stall> stalls;
        int current = -1;
        struct MainContext;
        std::unique_ptr<MainContext> main;
    };
} // namespace pgtest
