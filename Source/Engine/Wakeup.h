#pragma once

#include <atomic>
#include <cstdint>

namespace pg
{
    // Wakes a sleeping thread without ever blocking the waker. Backed by C++20 atomic
    // wait/notify (a futex on Linux, __ulock on Apple): no mutex, no condition variable.
    class Wakeup
    {
    public:
        // Any thread (the audio thread in practice). Never blocks, never allocates.
        void signal() noexcept
        {
            sequence.fetch_add (1, std::memory_order_release);
            sequence.notify_one();
        }

        // Waiting thread: take a ticket before checking for work...
        uint32_t ticket() const noexcept { return sequence.load (std::memory_order_acquire); }

        // ...then sleep only if nothing was signalled since the ticket was taken.
        void waitSince (uint32_t ticketValue) const noexcept { sequence.wait (ticketValue, std::memory_order_acquire); }

    private:
        std::atomic<uint32_t> sequence { 0 };
    };
} // namespace pg
