#pragma once

#include "Realtime.h"

#include <atomic>
#include <cstdint>

namespace pg
{
    // Wakes a sleeping thread without ever blocking the waker. Backed by C++20 atomic
    // wait/notify (a futex on Linux, __ulock on Apple): no mutex, no condition variable.
    // The wake's syscall is made only when a thread sleeps (or is about to).
    class Wakeup
    {
    public:
        // Any thread (the audio thread in practice). Never blocks, never allocates.
        void signal() noexcept
        {
            sequence.fetch_add (1, std::memory_order_seq_cst);
            if (sleepers.load (std::memory_order_seq_cst) == 0)
                return; // nobody sleeps: no syscall
            // FUTEX_WAKE never blocks; libstdc++ makes it with syscall(), which RealtimeSanitizer
            // cannot tell from a blocking one, so it is vouched for here.
            PG_RTSAN_ALLOW_BLOCKING;
            sequence.notify_one();
        }

        // Waiting thread: take a ticket before checking for work...
        uint32_t ticket() const noexcept { return sequence.load (std::memory_order_acquire); }

        // ...then sleep only if nothing was signalled since the ticket was taken.
        void waitSince (uint32_t ticketValue) noexcept
        {
            sleepers.fetch_add (1, std::memory_order_seq_cst);
            if (sequence.load (std::memory_order_seq_cst) == ticketValue) // (a signal in between: no sleep)
                sequence.wait (ticketValue, std::memory_order_acquire);
            sleepers.fetch_sub (1, std::memory_order_seq_cst);
        }

    private:
        std::atomic<uint32_t> sequence { 0 };
        std::atomic<uint32_t> sleepers { 0 };
    };
} // namespace pg
