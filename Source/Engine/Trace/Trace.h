#pragma once

// The engine's trace: every chunk, nap, dropout, latency change, collection and DSP start, kept
// for the last few seconds in bounded per-lane buffers (TraceBuffer.h). Off until enabled; then a
// record costs a few relaxed stores, never an allocation or a lock on the audio thread.
//
// Lanes: one per pool thread (chunks, skips, naps, collections), one per engine instance's audio
// side (blocks, dropouts, latency changes), one per host callback that registers itself, and one
// for the control threads (DSP starts). Export and analysis: ChromeTrace.h, DropoutCauses.h.

#include "TraceBuffer.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pg::trace
{
    struct Lane
    {
        int index = 0;
        std::string name;
    };

    struct Snapshot
    {
        std::vector<Lane> lanes;
        std::vector<Event> events; // every lane's, sorted by start
        int64_t from = 0, to = 0; // the span asked for
    };

    class Recorder
    {
    public:
        static Recorder& global();

        // Control thread: records from now on, about the last `seconds` of events per lane (what
        // was recorded before is dropped). Lanes made from now on are sized for it.
        void enable (double seconds);
        void disable();
        // Control thread: enable (seconds) unless the trace is on already (its window is kept).
        void enableIfOff (double seconds);
        bool isEnabled() const noexcept { return enabled.load (std::memory_order_relaxed); }
        double getWindowSeconds() const noexcept { return windowSeconds.load (std::memory_order_relaxed); }

        // Control thread: a lane for a writer of its own (an instance's audio side, a host
        // callback), sized for `eventsPerSecond`; nullptr when the trace is off.
        std::shared_ptr<TraceBuffer> newLane (std::string name, double eventsPerSecond);
        // A pool thread, once per loop: its lane, re-made only after enable() or disable() (the
        // thread keeps `generationSeen` and `lane` between calls); nullptr when the trace is off.
        std::shared_ptr<TraceBuffer> poolThreadLane (int threadIndex, uint64_t& generationSeen, std::shared_ptr<TraceBuffer> lane);
        // A control or loader thread (never the audio thread): an event in the shared control lane.
        void recordControl (const Event& e);

        // Any thread: a new engine's instance number (0, 1, 2, … in the order of construction).
        int newInstanceId() noexcept { return nextInstance.fetch_add (1, std::memory_order_relaxed); }

        // Any non-audio thread: the events of every lane that start in [from, to).
        Snapshot snapshot (int64_t from = INT64_MIN, int64_t to = INT64_MAX) const;

    private:
        mutable std::mutex lock;
        std::atomic<bool> enabled { false };
        std::atomic<double> windowSeconds { 0.0 };
        std::atomic<uint64_t> generation { 0 };
        std::atomic<int> nextInstance { 0 };
        // lock. Each lane belongs to its writer (an engine, a pool thread, a host callback): it goes
        // with it, and its events with it, so that a session that makes and drops instances does
        // not keep their lanes.
        std::vector<std::weak_ptr<TraceBuffer>> buffers;
        std::shared_ptr<TraceBuffer> control; // lock
        int nextLane = 0; // lock

        std::shared_ptr<TraceBuffer> makeLaneLocked (std::string name, double eventsPerSecond);
    };

    // The lane the calling pool thread records its chunks in (set by the pool before it runs a
    // client; nullptr when tracing is off).
    TraceBuffer* currentThreadLane() noexcept;
    void setCurrentThreadLane (TraceBuffer* lane) noexcept;

    // The calling thread's CPU time in ns (-1 where unknown). A syscall on most systems: pool threads only.
    int64_t threadCpuNanos() noexcept;
    // The same, but if this thread's last reading was taken less than `within` ns before `now`
    // (nowNanos), that reading: a chunk that follows another on the same pool thread starts from
    // the reading its predecessor ended with, one system call a chunk instead of two (the few
    // microseconds of CPU between them count to the chunk).
    int64_t threadCpuNanosReusing (int64_t now, int64_t within) noexcept;
} // namespace pg::trace
