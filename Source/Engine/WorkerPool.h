#pragma once

// The worker threads every engine in a process shares. No JUCE here.
//
// An engine attaches itself as a client. Its audio thread marks it pending, with the time by
// which its oldest input must be processed; the pool's threads run the pending clients earliest
// deadline first, one chunk at a time, so that a client with a long chunk (a collection) delays
// only what waits behind it on that one thread. A client is never run by two threads at once.
//
// Threads: by default one per core less one for the host's audio thread, and at least two (with
// one, a single long collection would hold every instance up). They run at a raised priority,
// below the audio thread, where the OS allows it, with flush-to-zero set.
//
// Waiting: while audio flows (a block marked in the last 50 ms), an idle thread naps on a futex
// until just after the next callback is due, then 0.5 ms at a time. The audio thread wakes one (a
// syscall) only if no thread is looking for work and none wakes by itself at least 1 ms before the
// new work is due: at the usual latencies it never does. Without audio for 50 ms the threads sleep
// until woken.

#include "Clock.h"
#include "Wakeup.h"

#include <atomic>
#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace pg
{
    class WorkerPool
    {
    public:
        // What a client's run did.
        enum class Ran
        {
            worked, // processed a chunk (there may be more)
            idle, // nothing pending
            blocked // input pending but no progress possible now (held, or its output is full)
        };
        using RunFunction = Ran (*) (void* client);

        struct Slot; // a client's place in the pool; opaque to clients

        static constexpr int maxClients = 1024;
        static constexpr int64_t noDeadline = INT64_MAX;
        // The pool threads' SCHED_FIFO priority: above normal threads, below the audio thread. A
        // thread stays at the normal policy where the system does not allow it.
        static constexpr int realtimePriority = 5;
        // The calling thread as the pool's threads run: at realtimePriority where the system allows
        // it (quietly normal elsewhere), with flush-to-zero set. (A measurement that stands in for
        // the pool uses it too: EngineCost.h.)
        static void enterPoolThreadSettings() noexcept;

        // The process's pool, created with the first engine and stopped with the last.
        static std::shared_ptr<WorkerPool> shared();
        // Thread count for a pool created from now on (0: the default). Call before the first engine.
        static void setDefaultThreadCount (int threads) noexcept;
        // Engines made from now on use `pool` (a simulation's); nullptr: back to the default.
        static void replaceShared (std::shared_ptr<WorkerPool> pool);
        static int defaultThreadCount() noexcept;

        explicit WorkerPool (int threads);
        ~WorkerPool();
        WorkerPool (const WorkerPool&) = delete;
        WorkerPool& operator= (const WorkerPool&) = delete;

        // Control thread. nullptr if maxClients are attached.
        Slot* attach (RunFunction run, void* client);
        // Control thread. Returns once no thread runs the client, and none will again.
        void detach (Slot* slot);

        // Any thread (the audio thread): the client has input whose output is due at
        // deadlineNanos (steady clock). An earlier pending deadline is kept. Wait-free; the wake
        // makes a syscall only when a pool thread sleeps. `now` is the steady clock's time (a
        // caller that has just read it passes it: the audio thread reads the clock once a block).
        void markPending (Slot* slot, int64_t deadlineNanos, int64_t now) noexcept;
        void markPending (Slot* slot, int64_t deadlineNanos) noexcept { markPending (slot, deadlineNanos, nowNanos()); }

        // The thread running the client: its oldest pending input is now due at deadlineNanos.
        void setDeadline (Slot* slot, int64_t deadlineNanos) noexcept;

        int threadCount() const noexcept { return static_cast<int> (threadTotal); }
        // The pool threads' busy share of wall time over the last ~0.5 s window, summed (100 =
        // one core's worth) and per thread.
        double loadPercent() const noexcept;
        std::vector<double> threadLoadPercent() const;
        int attachedClients() const;

    private:
        void threadMain (size_t index);
        // A thread's state, for markPending: looking for work, running a client, napping until a
        // time (steady clock, ns), or asleep until woken.
        static constexpr int64_t scanning = 0, running = -1, asleep = INT64_MAX;
        static constexpr int64_t napNanos = 500'000, wakeMarginNanos = 1'000'000, trafficNanos = 50'000'000;
        // Marks closer than this are one callback's (its instances, one after another).
        static constexpr int64_t burstGapNanos = 250'000;
        Slot* pickEarliest (int64_t now, int64_t& retryAt) noexcept;
        // How long an idle thread naps while blocks arrive: until a quarter of a millisecond after
        // the next callback is due (the last callback's first mark + the shorter of the last two
        // periods), or napNanos when that is past or unknown: one wake-up a period, which finds
        // the callback's blocks there.
        int64_t napWhileTraffic (int64_t now) const noexcept;
        // When the next callback is due: the last callback's first mark + the shorter of the last
        // two periods; -1 without a steady period.
        int64_t nextCallbackAt() const noexcept;
        bool trafficAt (int64_t now) const noexcept; // blocks arrived in the last trafficNanos
        // Whether a thread starting a run now can do without another: with this run as long as the
        // longest of the last second or two (a collection, say) and every other pending client's
        // as long as the recent ones, one after another, it finishes them wakeMarginNanos before
        // the earliest of their deadlines; and while blocks arrive at a steady period, at the
        // recent runs, it is idle again napNanos before the next callback is due (nextCallbackAt),
        // to nap for that callback itself.
        bool canRunAlone (int64_t now) const noexcept;
        void noteRun (int64_t took, int64_t now) noexcept; // a client's run ended at now
        bool anotherNaps (size_t self) const noexcept; // another thread naps (it wakes by itself)
        bool anotherLooks (size_t self) const noexcept; // another thread scans or naps

        std::unique_ptr<Slot[]> slots;
        std::atomic<int> slotsInUse { 0 }; // a high-water mark: slots at and above it are empty
        mutable std::mutex attachLock;
        Wakeup wake;
        std::atomic<bool> quit { false };
        std::unique_ptr<std::atomic<double>[]> loads;
        std::unique_ptr<std::atomic<int64_t>[]> states; // per thread: see `scanning`
        std::atomic<int64_t> lastMark { 0 }; // when the audio thread last marked a client
        // Written by the audio thread(s) at a callback's first mark; read by idle pool threads.
        std::atomic<int64_t> burstStart { 0 }, lastPeriod { 0 }, periodBefore { 0 };
        // The longest recent run of a client (ns): each run's length or, if longer, the last
        // value less an eighth. (Several threads store it: a race only blurs it.)
        std::atomic<int64_t> recentRunNanos { 0 };
        // The longest run in the current window of longestRunWindowNanos (from longestRunSince),
        // and in the one before.
        static constexpr int64_t longestRunWindowNanos = 1'000'000'000;
        std::atomic<int64_t> longestRun { 0 }, longestRunBefore { 0 }, longestRunSince { 0 };
        size_t threadTotal = 0;
        std::vector<std::thread> threads; // real ones (none in a simulation)
        std::atomic<int> simulatedRunning { 0 }; // a simulation's threads still in threadMain
    };
} // namespace pg
