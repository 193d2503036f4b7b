#include "WorkerPool.h"

#include "Clock.h"
#include "Trace/Trace.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace pg
{
    struct alignas (64) WorkerPool::Slot
    {
        std::atomic<RunFunction> run { nullptr };
        std::atomic<void*> client { nullptr };
        std::atomic<int64_t> deadline { noDeadline }; // of the oldest pending input; noDeadline: none
        std::atomic<int64_t> retryAt { 0 }; // blocked: not picked again before this
        std::atomic<bool> busy { false }; // a thread runs the client
    };

    namespace
    {
        constexpr int64_t blockedRetryNanos = 200'000; // a blocked client is tried again after 0.2 ms

        std::atomic<int> configuredThreads { 0 };

        // Above normal threads, below the audio thread; quietly stays normal where not allowed.
        void raisePriority() noexcept
        {
#if defined(__linux__)
            sched_param param {};
            param.sched_priority = std::clamp (WorkerPool::realtimePriority, sched_get_priority_min (SCHED_FIFO), sched_get_priority_max (SCHED_FIFO));
            pthread_setschedparam (pthread_self(), SCHED_FIFO, &param);
#endif
        }

        // Subnormal floats and doubles are flushed to zero: a decaying filter in a script never
        // falls onto the slow path.
        void setFlushToZero() noexcept
        {
#if defined(__SSE__) || defined(__x86_64__)
            _mm_setcsr (_mm_getcsr() | 0x8040); // FTZ and DAZ
#elif defined(__aarch64__)
            uint64_t fpcr = 0;
            asm volatile("mrs %0, fpcr"
                         : "=r"(fpcr));
            asm volatile("msr fpcr, %0"
                         :
                         : "r"(fpcr | (uint64_t (1) << 24)));
#endif
        }
    } // namespace

    namespace
    {
        std::mutex sharedLock;
        std::weak_ptr<WorkerPool> sharedPool;
        std::shared_ptr<WorkerPool> replacement; // sharedLock
    } // namespace

    void WorkerPool::replaceShared (std::shared_ptr<WorkerPool> pool)
    {
        std::lock_guard<std::mutex> l (sharedLock);
        replacement = std::move (pool);
    }

    std::shared_ptr<WorkerPool> WorkerPool::shared()
    {
        std::lock_guard<std::mutex> l (sharedLock);
        if (replacement != nullptr)
            return replacement;
        auto& current = sharedPool;
        auto pool = current.lock();
        if (pool == nullptr)
        {
            pool = std::make_shared<WorkerPool> (defaultThreadCount());
            current = pool;
        }
        return pool;
    }

    void WorkerPool::setDefaultThreadCount (int threads) noexcept { configuredThreads.store (std::max (0, threads)); }

    int WorkerPool::defaultThreadCount() noexcept
    {
        if (const int n = configuredThreads.load(); n > 0)
            return n;
        if (const char* env = std::getenv ("PAUSEGUARD_WORKERS"); env != nullptr && std::atoi (env) > 0)
            return std::min (64, std::atoi (env));
        const int cores = static_cast<int> (std::thread::hardware_concurrency());
        return std::max (2, cores - 1);
    }

    void WorkerPool::enterPoolThreadSettings() noexcept
    {
        raisePriority();
        setFlushToZero();
    }

    WorkerPool::WorkerPool (int threadCount)
        : slots (std::make_unique<Slot[]> (maxClients))
    {
        const auto n = static_cast<size_t> (std::max (1, threadCount));
        loads = std::make_unique<std::atomic<double>[]> (n);
        states = std::make_unique<std::atomic<int64_t>[]> (n);
        for (size_t i = 0; i < n; ++i)
        {
            loads[i].store (0.0);
            states[i].store (scanning);
        }
        threadTotal = n;
        threads.reserve (n);
        for (size_t i = 0; i < n; ++i)
        {
            // A simulation runs the same loop on a virtual thread of its own (Clock.h).
            auto* simulation = getTimeSource();
            simulatedRunning.fetch_add (1);
            if (simulation == nullptr || ! simulation->startThread ([this, i] { threadMain (i); simulatedRunning.fetch_sub (1); }))
            {
                simulatedRunning.fetch_sub (1);
                threads.emplace_back ([this, i] { threadMain (i); });
            }
        }
    }

    WorkerPool::~WorkerPool()
    {
        // A thread takes its ticket before it reads quit: each either sees quit, or has a ticket
        // older than these signals and so does not sleep past them. One signal wakes one sleeper.
        quit.store (true, std::memory_order_seq_cst);
        for (size_t i = 0; i < threadTotal; ++i)
            wake.signal();
        for (auto& t : threads)
            t.join();
        while (simulatedRunning.load() > 0)
            sleepNanos (100'000); // (a simulation's main thread: runs its threads until they end)
    }

    WorkerPool::Slot* WorkerPool::attach (RunFunction run, void* client)
    {
        std::lock_guard<std::mutex> l (attachLock);
        for (int i = 0; i < maxClients; ++i)
        {
            Slot& s = slots[static_cast<size_t> (i)];
            if (s.client.load (std::memory_order_acquire) != nullptr)
                continue;
            s.deadline.store (noDeadline, std::memory_order_relaxed);
            s.retryAt.store (0, std::memory_order_relaxed);
            s.run.store (run, std::memory_order_relaxed);
            s.client.store (client, std::memory_order_seq_cst);
            if (i >= slotsInUse.load (std::memory_order_relaxed))
                slotsInUse.store (i + 1, std::memory_order_release);
            return &s;
        }
        return nullptr;
    }

    void WorkerPool::detach (Slot* slot)
    {
        if (slot == nullptr)
            return;
        {
            std::lock_guard<std::mutex> l (attachLock);
            slot->client.store (nullptr, std::memory_order_seq_cst);
            slot->deadline.store (noDeadline, std::memory_order_relaxed);
        }
        // A thread that claimed the slot before the store above may still be inside the client.
        while (slot->busy.load (std::memory_order_seq_cst))
            sleepNanos (50'000);
    }

    void WorkerPool::markPending (Slot* slot, int64_t deadlineNanos, int64_t now) noexcept
    {
        if (slot == nullptr)
            return;
        int64_t current = slot->deadline.load (std::memory_order_relaxed);
        while (deadlineNanos < current && ! slot->deadline.compare_exchange_weak (current, deadlineNanos, std::memory_order_seq_cst))
        {
        }
        if (now - lastMark.load (std::memory_order_relaxed) > burstGapNanos)
        {
            // A callback's first mark: the period since the last one. (Loads and stores, no
            // read-modify-write: a host calling from two threads at once only blurs the estimate.)
            periodBefore.store (lastPeriod.load (std::memory_order_relaxed), std::memory_order_relaxed);
            lastPeriod.store (now - burstStart.load (std::memory_order_relaxed), std::memory_order_relaxed);
            burstStart.store (now, std::memory_order_relaxed);
        }
        lastMark.store (now, std::memory_order_relaxed);
        // Pairs with the threads' publish-then-rescan in threadMain: either a thread going idle
        // sees this deadline, or this sees its state.
        std::atomic_thread_fence (std::memory_order_seq_cst);
        int64_t soonest = asleep;
        for (size_t i = 0; i < threadTotal; ++i)
        {
            const int64_t s = states[i].load (std::memory_order_seq_cst);
            if (s == scanning)
                return; // a thread is looking for work: it finds this
            if (s != running)
                soonest = std::min (soonest, s);
        }
        if (soonest != asleep && soonest < now)
            wake.signalAll(); // a napping thread is overdue (the machine does not run it): every one is woken
        else if (soonest == asleep || soonest > deadlineNanos - wakeMarginNanos)
            wake.signal(); // a syscall only if a thread sleeps
        // (else a napping thread wakes by itself in time)
    }

    void WorkerPool::setDeadline (Slot* slot, int64_t deadlineNanos) noexcept
    {
        if (slot != nullptr && slot->deadline.load (std::memory_order_relaxed) != noDeadline)
            slot->deadline.store (deadlineNanos, std::memory_order_release);
    }

    bool WorkerPool::anotherNaps (size_t self) const noexcept
    {
        for (size_t i = 0; i < threadTotal; ++i)
            if (const int64_t st = states[i].load (std::memory_order_seq_cst); i != self && st != scanning && st != running && st != asleep)
                return true;
        return false;
    }

    bool WorkerPool::anotherLooks (size_t self) const noexcept
    {
        for (size_t i = 0; i < threadTotal; ++i)
            if (const int64_t st = states[i].load (std::memory_order_seq_cst); i != self && st != running && st != asleep)
                return true; // scanning, or napping: it finds the work by itself
        return false;
    }

    bool WorkerPool::trafficAt (int64_t now) const noexcept { return now - lastMark.load (std::memory_order_relaxed) < trafficNanos; }

    int64_t WorkerPool::nextCallbackAt() const noexcept
    {
        const int64_t period = std::min (lastPeriod.load (std::memory_order_relaxed), periodBefore.load (std::memory_order_relaxed));
        if (period <= burstGapNanos || period >= trafficNanos)
            return -1; // no steady period: no prediction
        return burstStart.load (std::memory_order_relaxed) + period;
    }

    bool WorkerPool::canRunAlone (int64_t now) const noexcept
    {
        // The other pending clients (this thread's own is busy), and the earliest of their deadlines.
        int64_t others = 0, earliest = noDeadline;
        const int n = slotsInUse.load (std::memory_order_acquire);
        for (int i = 0; i < n; ++i)
        {
            const Slot& s = slots[static_cast<size_t> (i)];
            const int64_t d = s.deadline.load (std::memory_order_acquire);
            if (d == noDeadline || s.busy.load (std::memory_order_relaxed))
                continue;
            ++others;
            earliest = std::min (earliest, d);
        }
        // This thread's run may be the longest of late (a collection); the others as recent ones.
        const int64_t run = recentRunNanos.load (std::memory_order_relaxed);
        const int64_t longest = std::max ({ run, longestRun.load (std::memory_order_relaxed), longestRunBefore.load (std::memory_order_relaxed) });
        if (earliest != noDeadline && now + longest + others * run + wakeMarginNanos > earliest)
            return false;
        if (! trafficAt (now))
            return true;
        const int64_t next = nextCallbackAt(); // (at the recent runs: a long one is rare, and the next mark wakes a thread)
        return next >= 0 && now + (others + 1) * run + napNanos <= next;
    }

    void WorkerPool::noteRun (int64_t took, int64_t now) noexcept
    {
        const int64_t recent = recentRunNanos.load (std::memory_order_relaxed);
        recentRunNanos.store (std::max (took, recent - recent / 8), std::memory_order_relaxed);
        if (now - longestRunSince.load (std::memory_order_relaxed) >= longestRunWindowNanos)
        {
            longestRunBefore.store (longestRun.load (std::memory_order_relaxed), std::memory_order_relaxed);
            longestRun.store (0, std::memory_order_relaxed);
            longestRunSince.store (now, std::memory_order_relaxed);
        }
        if (took > longestRun.load (std::memory_order_relaxed))
            longestRun.store (took, std::memory_order_relaxed);
    }

    int64_t WorkerPool::napWhileTraffic (int64_t now) const noexcept
    {
        const int64_t next = nextCallbackAt();
        if (next < 0)
            return napNanos;
        // A quarter of a nap after the callback is due: its marks are there then, and the thread
        // runs them on that one wake-up. (Waking before it, to nap again for it, costs a second
        // wake-up and context switch each period, which this machine charges dearly, for a start
        // no earlier.) A callback that comes later than that finds the thread napping napNanos.
        const int64_t untilNext = next + napNanos / 2 - now;
        return untilNext > 0 ? untilNext : napNanos;
    }

    WorkerPool::Slot* WorkerPool::pickEarliest (int64_t now, int64_t& retryAt) noexcept
    {
        Slot* best = nullptr;
        int64_t bestDeadline = noDeadline;
        retryAt = noDeadline;
        const int n = slotsInUse.load (std::memory_order_acquire);
        for (int i = 0; i < n; ++i)
        {
            Slot& s = slots[static_cast<size_t> (i)];
            const int64_t d = s.deadline.load (std::memory_order_acquire);
            if (d == noDeadline || s.busy.load (std::memory_order_relaxed))
                continue;
            if (const int64_t r = s.retryAt.load (std::memory_order_relaxed); r > now)
            {
                retryAt = std::min (retryAt, r);
                continue;
            }
            if (d < bestDeadline)
            {
                best = &s;
                bestDeadline = d;
            }
        }
        return best;
    }

    void WorkerPool::threadMain (size_t index)
    {
        if (getTimeSource() == nullptr) // (a simulation's threads share the test's own)
        {
#if defined(__linux__)
            pthread_setname_np (pthread_self(), "pg-pool"); // for top, a debugger, and the CLI's engine cost
#endif
            enterPoolThreadSettings();
        }
        int64_t windowStart = nowNanos(), busy = 0;
        auto& recorder = trace::Recorder::global();
        uint64_t traceGeneration = 0;
        std::shared_ptr<trace::TraceBuffer> lane; // this thread's: it goes when the thread ends
        for (;;)
        {
            const auto ticket = wake.ticket();
            if (quit.load (std::memory_order_seq_cst))
                break;
            lane = recorder.poolThreadLane (static_cast<int> (index), traceGeneration, lane);
            trace::setCurrentThreadLane (lane.get()); // the chunks this thread runs record there
            const int64_t now = nowNanos();
            if (now - windowStart >= 500'000'000)
            {
                loads[index].store (100.0 * static_cast<double> (busy) / static_cast<double> (now - windowStart), std::memory_order_relaxed);
                windowStart = now;
                busy = 0;
            }
            int64_t retryAt = noDeadline;
            Slot* s = pickEarliest (now, retryAt);
            if (s == nullptr)
            {
                // Idle: publish how long, look once more (markPending reads the state after
                // setting its deadline), then wait.
                // While blocks arrive, one idle thread naps (so that the audio thread need not
                // wake it) and the others sleep: the one that finds work wakes another if more is
                // pending.
                const bool traffic = trafficAt (now);
                int64_t nap = -1;
                if (retryAt != noDeadline)
                    nap = std::clamp<int64_t> (retryAt - now, 0, blockedRetryNanos);
                else if (traffic && ! anotherNaps (index))
                    nap = napWhileTraffic (now);
                states[index].store (nap >= 0 ? now + nap : asleep, std::memory_order_seq_cst);
                std::atomic_thread_fence (std::memory_order_seq_cst);
                if (pickEarliest (nowNanos(), retryAt) == nullptr)
                {
                    wake.waitSince (ticket, nap);
                    if (lane != nullptr)
                    {
                        trace::Event e;
                        e.kind = trace::Kind::nap;
                        e.start = now;
                        e.end = nowNanos();
                        e.due = nap >= 0 ? now + nap : trace::untilWoken;
                        lane->push (e);
                    }
                }
                states[index].store (scanning, std::memory_order_seq_cst);
                continue;
            }
            if (s->busy.exchange (true, std::memory_order_seq_cst))
                continue; // another thread took it first
            void* client = s->client.load (std::memory_order_seq_cst);
            const RunFunction run = s->run.load (std::memory_order_relaxed);
            if (client == nullptr || run == nullptr)
            {
                s->busy.store (false, std::memory_order_seq_cst);
                continue;
            }
            states[index].store (running, std::memory_order_seq_cst);
            std::atomic_thread_fence (std::memory_order_seq_cst);
            const int64_t t0 = nowNanos();
            // No other thread looks for work: a sleeper is woken unless this thread can run this
            // client and every other pending one in turn before the earliest deadline, and, while
            // blocks arrive, be back before the next callback to nap for it itself (canRunAlone).
            // A wake-up and its context switches cost more than a short chunk. (If this thread is
            // late after all, the audio thread's mark wakes one.)
            if (! anotherLooks (index) && ! canRunAlone (t0))
                wake.signal();
            Ran ran = run (client);
            if (ran == Ran::idle)
            {
                // Clear, then look again: input that arrived in between is either seen here or
                // has set a new deadline (markPending).
                s->deadline.store (noDeadline, std::memory_order_seq_cst);
                std::atomic_thread_fence (std::memory_order_seq_cst);
                ran = run (client);
                if (ran != Ran::idle)
                {
                    int64_t none = noDeadline;
                    s->deadline.compare_exchange_strong (none, t0, std::memory_order_seq_cst);
                }
            }
            if (ran == Ran::blocked)
                s->retryAt.store (nowNanos() + blockedRetryNanos, std::memory_order_relaxed);
            const int64_t t1 = nowNanos(), took = t1 - t0;
            busy += took;
            noteRun (took, t1);
            s->busy.store (false, std::memory_order_seq_cst);
            states[index].store (scanning, std::memory_order_seq_cst);
        }
        trace::setCurrentThreadLane (nullptr); // (its lane goes with this function)
    }

    double WorkerPool::loadPercent() const noexcept
    {
        double sum = 0.0;
        for (size_t i = 0; i < threadTotal; ++i)
            sum += loads[i].load (std::memory_order_relaxed);
        return sum;
    }

    std::vector<double> WorkerPool::threadLoadPercent() const
    {
        std::vector<double> v;
        for (size_t i = 0; i < threadTotal; ++i)
            v.push_back (loads[i].load (std::memory_order_relaxed));
        return v;
    }

    int WorkerPool::attachedClients() const
    {
        std::lock_guard<std::mutex> l (attachLock);
        int n = 0;
        for (int i = 0; i < slotsInUse.load(); ++i)
            n += slots[static_cast<size_t> (i)].client.load() != nullptr ? 1 : 0;
        return n;
    }
} // namespace pg
