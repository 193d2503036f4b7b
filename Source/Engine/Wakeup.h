#pragma once

#include "Clock.h"
#include "Realtime.h"

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <thread>

#if defined(__linux__)
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace pg
{
    // Wakes a sleeping thread without ever blocking the waker: no mutex, no condition variable.
    // On Linux a futex on the sequence word; elsewhere C++20 atomic wait/notify (where a timed
    // wait is a plain sleep). The wake's syscall is made only when a thread sleeps (or is about to).
    class Wakeup
    {
    public:
        // Any thread (the audio thread in practice). Never blocks, never allocates.
        void signal() noexcept { wakeUp (1); }
        // Any thread: as signal(), but wakes every waiting thread (the one a single wake would reach
        // may be one the machine does not run).
        void signalAll() noexcept { wakeUp (INT_MAX); }

        // Waiting thread: take a ticket before checking for work...
        uint32_t ticket() const noexcept { return sequence.load (std::memory_order_acquire); }

        // ...then sleep only if nothing was signalled since the ticket was taken: until a signal,
        // or for at most timeoutNanos (< 0: no limit).
        void waitSince (uint32_t ticketValue, int64_t timeoutNanos = -1) noexcept
        {
            if (auto* t = getTimeSource()) // a simulation's thread: it waits in virtual time
            {
                t->waitWhileEquals (sequence, ticketValue, timeoutNanos);
                return;
            }
            sleepers.fetch_add (1, std::memory_order_seq_cst);
            if (sequence.load (std::memory_order_seq_cst) == ticketValue) // (a signal in between: no sleep)
            {
#if defined(__linux__)
                timespec ts { static_cast<time_t> (timeoutNanos / 1000000000), static_cast<long> (timeoutNanos % 1000000000) };
                syscall (SYS_futex, word(), FUTEX_WAIT_PRIVATE, ticketValue, timeoutNanos >= 0 ? &ts : nullptr, nullptr, 0);
#else
                if (timeoutNanos >= 0)
                    std::this_thread::sleep_for (std::chrono::nanoseconds (timeoutNanos));
                else
                    sequence.wait (ticketValue, std::memory_order_acquire);
#endif
            }
            sleepers.fetch_sub (1, std::memory_order_seq_cst);
        }

    private:
        void wakeUp (int waiters) noexcept
        {
            sequence.fetch_add (1, std::memory_order_seq_cst);
            if (sleepers.load (std::memory_order_seq_cst) == 0)
                return; // nobody sleeps: no syscall
            // FUTEX_WAKE never blocks; RealtimeSanitizer cannot tell it from a blocking syscall,
            // so it is vouched for here.
            PG_RTSAN_ALLOW_BLOCKING;
#if defined(__linux__)
            syscall (SYS_futex, word(), FUTEX_WAKE_PRIVATE, waiters, nullptr, nullptr, 0);
#else
            if (waiters == 1)
                sequence.notify_one();
            else
                sequence.notify_all();
#endif
        }

#if defined(__linux__)
        uint32_t* word() noexcept
        {
            return reinterpret_cast<uint32_t*> (&sequence);
        }
        static_assert (sizeof (std::atomic<uint32_t>) == sizeof (uint32_t) && std::atomic<uint32_t>::is_always_lock_free);
#endif
        std::atomic<uint32_t> sequence { 0 };
        std::atomic<uint32_t> sleepers { 0 };
    };
} // namespace pg
