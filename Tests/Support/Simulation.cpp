#include "Simulation.h"

#include "Trace/Trace.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <ucontext.h>

namespace pgtest
{
    namespace
    {
        Simulation* active = nullptr;
        constexpr size_t stackBytes = 1 << 20; // a Lua state or a deep call chain fits
        constexpr int64_t never = INT64_MAX;
    } // namespace

    struct Simulation::MainContext
    {
        ucontext_t context {};
    };

    struct Simulation::Thread
    {
        ucontext_t context {};
        std::unique_ptr<char[]> stack;
        std::function<void()> body;
        int64_t readyAt = 0;
        const std::atomic<uint32_t>* word = nullptr; // waiting while *word == value (or until readyAt)
        uint32_t value = 0;
        bool done = false;
        int64_t worked = 0; // the run time its work() calls took, stalls left out
        pg::trace::TraceBuffer* lane = nullptr; // its trace lane, kept across switches
    };

    Simulation::Simulation()
        : main (std::make_unique<MainContext>())
    {
        if (active != nullptr)
            std::abort(); // one at a time
        active = this;
        pg::setTimeSource (this);
    }

    Simulation::~Simulation()
    {
        pg::setTimeSource (nullptr);
        active = nullptr;
    }

    void Simulation::entry()
    {
        Simulation& sim = *active;
        Thread& t = *sim.threads[static_cast<size_t> (sim.current)];
        t.body();
        t.done = true;
        sim.suspend();
    }

    bool Simulation::startThread (std::function<void()> body)
    {
        auto t = std::make_unique<Thread>();
        t->body = std::move (body);
        t->stack = std::make_unique<char[]> (stackBytes);
        t->readyAt = now();
        getcontext (&t->context);
        t->context.uc_stack.ss_sp = t->stack.get();
        t->context.uc_stack.ss_size = stackBytes;
        t->context.uc_link = nullptr;
        makecontext (&t->context, &Simulation::entry, 0);
        threads.push_back (std::move (t));
        return true;
    }

    void Simulation::suspend() noexcept
    {
        Thread& t = *threads[static_cast<size_t> (current)];
        swapcontext (&t.context, &main->context);
    }

    void Simulation::sleepFor (int64_t nanos) noexcept
    {
        if (current < 0)
        {
            runFor (std::max<int64_t> (nanos, 1)); // the test itself: time passes for the others
            return;
        }
        threads[static_cast<size_t> (current)]->readyAt = now() + std::max<int64_t> (0, nanos);
        suspend();
    }

    void Simulation::work (int64_t nanos) noexcept
    {
        if (current < 0)
        {
            runFor (nanos);
            return;
        }
        auto& t = *threads[static_cast<size_t> (current)];
        t.readyAt = finishTime (current, now(), std::max<int64_t> (0, nanos));
        t.worked += std::max<int64_t> (0, nanos);
        suspend();
    }

    int64_t Simulation::threadCpuNanos() noexcept
    {
        return current >= 0 ? threads[static_cast<size_t> (current)]->worked : -1;
    }

    void Simulation::waitWhileEquals (const std::atomic<uint32_t>& word, uint32_t value, int64_t timeoutNanos) noexcept
    {
        const int64_t until = timeoutNanos >= 0 ? now() + timeoutNanos : never;
        if (current < 0)
        {
            while (word.load() == value && now() < until)
                runFor (std::min<int64_t> (100 * us, until - now()));
            return;
        }
        Thread& t = *threads[static_cast<size_t> (current)];
        t.word = &word;
        t.value = value;
        t.readyAt = until;
        suspend();
        t.word = nullptr;
    }

    int Simulation::every (int64_t first, int64_t period, long count, std::function<void (long)> fn)
    {
        const int index = threadCount();
        startThread ([this, first, period, count, fn = std::move (fn)] {
            for (long k = 0; k < count; ++k)
            {
                const int64_t due = first + k * period;
                if (due > now())
                    sleepFor (due - now());
                fn (k);
            }
        });
        return index;
    }

    void Simulation::stall (int index, int64_t from, int64_t to)
    {
        if (to > from)
            stalls.push_back ({ index, from, to });
    }

    int64_t Simulation::stalledUntil (int index, int64_t t) const
    {
        for (bool moved = true; moved;)
        {
            moved = false;
            for (const auto& s : stalls)
                if ((s.index == index || s.index == everyThread) && s.from <= t && t < s.to)
                {
                    t = s.to;
                    moved = true;
                }
        }
        return t;
    }

    int64_t Simulation::finishTime (int index, int64_t from, int64_t workNanos) const
    {
        // Run time accrues outside the thread's stalls only.
        int64_t t = stalledUntil (index, from), left = workNanos;
        while (left > 0)
        {
            int64_t nextStall = never;
            for (const auto& s : stalls)
                if ((s.index == index || s.index == everyThread) && s.from > t)
                    nextStall = std::min (nextStall, s.from);
            if (t + left <= nextStall)
                return t + left;
            left -= nextStall - t;
            t = stalledUntil (index, nextStall);
        }
        return t;
    }

    int64_t Simulation::wakeTime (int index) const
    {
        const Thread& t = *threads[static_cast<size_t> (index)];
        if (t.done)
            return never;
        int64_t at = t.readyAt;
        if (t.word != nullptr && t.word->load (std::memory_order_relaxed) != t.value)
            at = std::min (at, clock.load (std::memory_order_relaxed));
        return at == never ? never : stalledUntil (index, std::max (at, clock.load (std::memory_order_relaxed)));
    }

    void Simulation::runUntil (int64_t t)
    {
        if (current >= 0)
            std::abort(); // a simulated thread cannot drive the simulation
        for (;;)
        {
            int next = -1;
            int64_t at = never;
            for (int i = 0; i < threadCount(); ++i)
                if (const int64_t w = wakeTime (i); w < at)
                {
                    at = w;
                    next = i;
                }
            if (next < 0 || at > t)
                break;
            clock.store (std::max (now(), at), std::memory_order_relaxed);
            Thread& th = *threads[static_cast<size_t> (next)];
            auto* mainLane = pg::trace::currentThreadLane();
            pg::trace::setCurrentThreadLane (th.lane);
            current = next;
            swapcontext (&main->context, &th.context);
            current = -1;
            th.lane = pg::trace::currentThreadLane();
            pg::trace::setCurrentThreadLane (mainLane);
        }
        clock.store (std::max (now(), t), std::memory_order_relaxed);
    }
} // namespace pgtest
