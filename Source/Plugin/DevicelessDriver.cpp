#include "DevicelessDriver.h"

#include <chrono>
#include <thread>

namespace pauseguard
{
    namespace
    {
        int64_t nowNanos() noexcept
        {
            return std::chrono::duration_cast<std::chrono::nanoseconds> (std::chrono::steady_clock::now().time_since_epoch()).count();
        }
    } // namespace

    DevicelessDriver::DevicelessDriver (Target t)
        : target (std::move (t))
    {
        lastHostNanos.store (nowNanos());
        startTimer (10);
    }

    DevicelessDriver::~DevicelessDriver() { stopTimer(); }

    bool DevicelessDriver::hostIsCalling() const noexcept
    {
        return nowNanos() - lastHostNanos.load (std::memory_order_seq_cst) < hostSilenceNanos;
    }

    bool DevicelessDriver::hostProcesses() noexcept
    {
        // (Each side writes its own flag, then reads the other's: one of them sees the other.)
        lastHostNanos.store (nowNanos(), std::memory_order_seq_cst);
        driving.store (false, std::memory_order_relaxed);
        return ! timerInside.load (std::memory_order_seq_cst);
    }

    void DevicelessDriver::hostPrepares() noexcept
    {
        lastHostNanos.store (nowNanos(), std::memory_order_seq_cst);
        while (timerInside.load (std::memory_order_seq_cst))
            std::this_thread::sleep_for (std::chrono::milliseconds (1));
        driving.store (false, std::memory_order_relaxed);
        lastHostNanos.store (nowNanos(), std::memory_order_seq_cst); // the host's own prepare may take a while
    }

    void DevicelessDriver::hiResTimerCallback()
    {
        timerInside.store (true, std::memory_order_seq_cst);
        if (hostIsCalling())
        {
            timerInside.store (false, std::memory_order_seq_cst);
            driving.store (false, std::memory_order_relaxed);
            return;
        }
        if (! driving.load (std::memory_order_relaxed) || ! target.isPrepared())
        {
            target.prepare (sampleRate, blockSize);
            driving.store (true, std::memory_order_relaxed);
        }
        // One block a tick, never a burst to catch up after a late tick: nothing is heard, so the
        // demo may fall behind the clock, but a burst would make the worker late (dropouts).
        buffer.clear(); // silent input: the processor plays its demo signal
        target.process (buffer);
        timerInside.store (false, std::memory_order_seq_cst);
    }
} // namespace pauseguard
