#pragma once

// A bounded trace buffer with one writer (a pool thread, or one instance's audio side) and any
// number of readers. The writer never waits, allocates or fails: the oldest events are
// overwritten. A reader copies what is there and drops whatever the writer overwrote meanwhile.
// Every word is an atomic, so a reader racing the writer is well defined (and ThreadSanitizer-clean).

#include "TraceEvent.h"

#include <atomic>
#include <cstddef>
#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pg::trace
{
    class TraceBuffer
    {
    public:
        TraceBuffer (std::string laneName, int lane, size_t capacityEvents)
            : name (std::move (laneName))
            , laneIndex (lane)
            , capacity (roundUp (capacityEvents))
            , words (std::make_unique<std::atomic<uint64_t>[]> (capacity * wordsPerEvent))
        {
        }

        // The writer's thread. Wait-free: no allocation, lock or syscall.
        void push (const Event& e) noexcept
        {
            const uint64_t index = head.load (std::memory_order_relaxed);
            claimed.store (index + 1, std::memory_order_relaxed);
            std::atomic_thread_fence (std::memory_order_release); // a reader that sees these words sees the claim
            std::atomic<uint64_t>* w = &words[(index & (capacity - 1)) * wordsPerEvent];
            w[0].store (static_cast<uint64_t> (e.kind) | (static_cast<uint64_t> (static_cast<uint32_t> (e.instance)) << 32), std::memory_order_relaxed);
            w[1].store (static_cast<uint64_t> (e.start), std::memory_order_relaxed);
            w[2].store (static_cast<uint64_t> (e.end), std::memory_order_relaxed);
            w[3].store (static_cast<uint64_t> (e.due), std::memory_order_relaxed);
            w[4].store (static_cast<uint64_t> (e.arrival), std::memory_order_relaxed);
            w[5].store (e.ringPos, std::memory_order_relaxed);
            w[6].store (static_cast<uint64_t> (static_cast<uint32_t> (e.frames)) | (static_cast<uint64_t> (static_cast<uint32_t> (e.value)) << 32),
                        std::memory_order_relaxed);
            w[7].store (static_cast<uint64_t> (e.collectorNanos), std::memory_order_relaxed);
            w[8].store (static_cast<uint64_t> (e.cpuNanos), std::memory_order_relaxed);
            head.store (index + 1, std::memory_order_release);
        }

        // Any thread: the events still held that ended at or after `since`, oldest first, with this
        // buffer's lane. (Each is pushed when it ends, so the newest are read back to `since` only.)
        std::vector<Event> read (int64_t since = INT64_MIN) const
        {
            const uint64_t end = head.load (std::memory_order_acquire);
            uint64_t begin = end > capacity ? end - capacity : 0;
            for (uint64_t hi = end; since != INT64_MIN && begin < hi;) // the first that ended at or after `since`
            {
                const uint64_t mid = begin + (hi - begin) / 2;
                if (endAt (mid) < since)
                    begin = mid + 1;
                else
                    hi = mid;
            }
            std::vector<Event> out;
            out.reserve (static_cast<size_t> (end - begin));
            for (uint64_t i = begin; i < end; ++i)
            {
                const std::atomic<uint64_t>* w = &words[(i & (capacity - 1)) * wordsPerEvent];
                Event e;
                const uint64_t w0 = w[0].load (std::memory_order_relaxed), w6 = w[6].load (std::memory_order_relaxed);
                e.kind = static_cast<Kind> (w0 & 0xff);
                e.instance = static_cast<int32_t> (static_cast<uint32_t> (w0 >> 32));
                e.start = static_cast<int64_t> (w[1].load (std::memory_order_relaxed));
                e.end = static_cast<int64_t> (w[2].load (std::memory_order_relaxed));
                e.due = static_cast<int64_t> (w[3].load (std::memory_order_relaxed));
                e.arrival = static_cast<int64_t> (w[4].load (std::memory_order_relaxed));
                e.ringPos = w[5].load (std::memory_order_relaxed);
                e.frames = static_cast<int32_t> (static_cast<uint32_t> (w6));
                e.value = static_cast<int32_t> (static_cast<uint32_t> (w6 >> 32));
                e.collectorNanos = static_cast<int64_t> (w[7].load (std::memory_order_relaxed));
                e.cpuNanos = static_cast<int64_t> (w[8].load (std::memory_order_relaxed));
                e.lane = laneIndex;
                out.push_back (e);
            }
            // Drop what the writer overwrote while it was copied.
            std::atomic_thread_fence (std::memory_order_acquire);
            const uint64_t claimedNow = claimed.load (std::memory_order_relaxed);
            const uint64_t validFrom = claimedNow > capacity ? claimedNow - capacity : 0;
            if (validFrom > begin)
                out.erase (out.begin(), out.begin() + static_cast<std::ptrdiff_t> (std::min (validFrom, end) - begin));
            return out;
        }

        // Events pushed since the buffer was made (including those overwritten since).
        uint64_t pushed() const noexcept { return head.load (std::memory_order_acquire); }
        size_t getCapacity() const noexcept { return capacity; }
        size_t bytes() const noexcept { return capacity * wordsPerEvent * sizeof (uint64_t); }
        const std::string& laneName() const noexcept { return name; }
        int lane() const noexcept { return laneIndex; }

    private:
        static constexpr size_t wordsPerEvent = 9;
        int64_t endAt (uint64_t index) const noexcept
        {
            return static_cast<int64_t> (words[(index & (capacity - 1)) * wordsPerEvent + 2].load (std::memory_order_relaxed));
        }
        static size_t roundUp (size_t n)
        {
            size_t c = 64;
            while (c < n)
                c <<= 1;
            return c;
        }

        const std::string name;
        const int laneIndex;
        const size_t capacity; // a power of two
        std::unique_ptr<std::atomic<uint64_t>[]> words;
        alignas (64) std::atomic<uint64_t> head { 0 }; // events written
        std::atomic<uint64_t> claimed { 0 }; // events whose writing has begun
    };
} // namespace pg::trace
