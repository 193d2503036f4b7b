#include "Trace.h"

#include "../Clock.h"

#include <algorithm>
#include <cmath>
#include <climits>
#include <ctime>

namespace pg::trace
{
    namespace
    {
        thread_local TraceBuffer* threadLane = nullptr;
        constexpr double poolEventsPerSecond = 12'000.0; // chunks and naps of one pool thread, 40 instances
    } // namespace

    Recorder& Recorder::global()
    {
        static Recorder recorder;
        return recorder;
    }

    void Recorder::enable (double seconds)
    {
        std::lock_guard<std::mutex> l (lock);
        buffers.clear();
        nextLane = 0;
        windowSeconds.store (std::max (0.1, seconds), std::memory_order_relaxed);
        control = makeLaneLocked ("control", 100.0);
        generation.fetch_add (1, std::memory_order_release);
        enabled.store (true, std::memory_order_release);
    }

    void Recorder::enableIfOff (double seconds)
    {
        {
            std::lock_guard<std::mutex> l (lock);
            if (isEnabled())
                return;
        }
        enable (seconds); // (two callers at once: the second clears the first's few events)
    }

    void Recorder::disable()
    {
        std::lock_guard<std::mutex> l (lock);
        enabled.store (false, std::memory_order_release);
        generation.fetch_add (1, std::memory_order_release);
    }

    std::shared_ptr<TraceBuffer> Recorder::makeLaneLocked (std::string name, double eventsPerSecond)
    {
        const auto capacity = static_cast<size_t> (std::ceil (eventsPerSecond * windowSeconds.load (std::memory_order_relaxed)));
        auto b = std::make_shared<TraceBuffer> (std::move (name), nextLane++, capacity);
        buffers.erase (std::remove_if (buffers.begin(), buffers.end(), [] (const auto& w) { return w.expired(); }), buffers.end());
        buffers.push_back (b);
        return b;
    }

    std::shared_ptr<TraceBuffer> Recorder::newLane (std::string name, double eventsPerSecond)
    {
        if (! isEnabled())
            return nullptr;
        std::lock_guard<std::mutex> l (lock);
        return makeLaneLocked (std::move (name), eventsPerSecond);
    }

    std::shared_ptr<TraceBuffer> Recorder::poolThreadLane (int threadIndex, uint64_t& generationSeen, std::shared_ptr<TraceBuffer> lane)
    {
        if (generation.load (std::memory_order_acquire) == generationSeen)
            return lane;
        std::lock_guard<std::mutex> l (lock);
        generationSeen = generation.load (std::memory_order_relaxed);
        return isEnabled() ? makeLaneLocked ("pool thread " + std::to_string (threadIndex), poolEventsPerSecond) : nullptr;
    }

    void Recorder::recordControl (const Event& e)
    {
        if (! isEnabled())
            return;
        std::lock_guard<std::mutex> l (lock);
        if (control != nullptr)
            control->push (e);
    }

    Snapshot Recorder::snapshot (int64_t from, int64_t to) const
    {
        std::vector<std::shared_ptr<TraceBuffer>> copy;
        {
            std::lock_guard<std::mutex> l (lock);
            for (const auto& w : buffers)
                if (auto b = w.lock())
                    copy.push_back (std::move (b));
        }
        Snapshot s;
        s.from = from;
        s.to = to;
        for (const auto& b : copy)
        {
            s.lanes.push_back ({ b->lane(), b->laneName() });
            const auto events = b->read (from);
            for (const auto& e : events)
                if (e.start >= from && e.start < to)
                    s.events.push_back (e);
        }
        std::stable_sort (s.events.begin(), s.events.end(), [] (const Event& a, const Event& b) { return a.start < b.start; });
        return s;
    }

    TraceBuffer* currentThreadLane() noexcept { return threadLane; }

    void setCurrentThreadLane (TraceBuffer* lane) noexcept { threadLane = lane; }

    namespace
    {
        // This thread's last CPU-time reading, and when (nowNanos) it was taken.
        thread_local int64_t lastCpuReading = -1, lastCpuReadAt = INT64_MIN;

        int64_t readThreadCpuNanos() noexcept
        {
            if (auto* simulation = getTimeSource())
                return simulation->threadCpuNanos();
#if defined(CLOCK_THREAD_CPUTIME_ID)
            timespec ts {};
            if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
                return static_cast<int64_t> (ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
#endif
            return -1;
        }
    } // namespace

    int64_t threadCpuNanos() noexcept
    {
        lastCpuReading = readThreadCpuNanos();
        lastCpuReadAt = nowNanos();
        return lastCpuReading;
    }

    int64_t threadCpuNanosReusing (int64_t now, int64_t within) noexcept
    {
        if (lastCpuReading >= 0 && now >= lastCpuReadAt && now - lastCpuReadAt < within)
            return lastCpuReading;
        return threadCpuNanos();
    }
} // namespace pg::trace
