#pragma once

// The engine's one clock and its one way to pause a thread. By default std::chrono::steady_clock
// and a real sleep. A simulation (Tests/Support/Simulation.h) can take both over, and the
// engine's threads with them, so that the code that decides *when* (the pool's scheduling, the
// latency adaptation, the fades) runs under virtual time, exactly, whatever the machine's load.
// Every thread (audio, worker, loader, pool) reads this one clock, so their times compare.
// nowNanos() is real-time safe.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

namespace pg
{
    // What drives time when it is not the machine's: a simulation's virtual clock and threads.
    class TimeSource
    {
    public:
        virtual ~TimeSource() = default;
        virtual int64_t now() noexcept = 0;
        // The calling thread pauses for `nanos` of this source's time.
        virtual void sleepFor (int64_t nanos) noexcept = 0;
        // The calling thread waits until `word` no longer holds `value`, or for timeoutNanos (< 0:
        // no limit). Another thread changes the word (Wakeup.h); no wake call is needed.
        virtual void waitWhileEquals (const std::atomic<uint32_t>& word, uint32_t value, int64_t timeoutNanos) noexcept = 0;
        // Runs `body` on a thread of this source's own; false: the caller makes a real thread.
        virtual bool startThread (std::function<void()> body) = 0;
        // The calling thread's CPU time so far, in this source's time (the trace's; -1: unknown).
        virtual int64_t threadCpuNanos() noexcept { return -1; }
    };

    namespace detail
    {
        inline std::atomic<TimeSource*> injectedTime { nullptr };
    }

    // A simulation only, before the engines it drives are made, and back to nullptr after.
    inline void setTimeSource (TimeSource* source) noexcept { detail::injectedTime.store (source, std::memory_order_release); }
    inline TimeSource* getTimeSource() noexcept { return detail::injectedTime.load (std::memory_order_acquire); }

    inline int64_t nowNanos() noexcept
    {
        if (auto* t = getTimeSource())
            return t->now();
        using namespace std::chrono;
        return duration_cast<nanoseconds> (steady_clock::now().time_since_epoch()).count();
    }

    inline double nowSeconds() noexcept { return static_cast<double> (nowNanos()) * 1.0e-9; }

    // Not on the audio thread (but for an offline render's bounded wait).
    inline void sleepNanos (int64_t nanos) noexcept
    {
        if (auto* t = getTimeSource())
            t->sleepFor (nanos);
        else
            std::this_thread::sleep_for (std::chrono::nanoseconds (nanos));
    }
} // namespace pg
