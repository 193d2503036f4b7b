#pragma once

// Statistics written by one thread (the worker) and read as snapshots by others (the message
// thread), with no lock. A histogram's writer keeps its state privately and, after each update,
// publishes a copy into a small ring of slots, each guarded by a sequence tag (a seqlock): a reader
// takes the newest slot and checks that it was not rewritten meanwhile, so a snapshot is a state
// the writer actually passed through, and the writer never waits for a reader.

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace pg
{
    // Logarithmic histogram of durations from 10 us to 1 s, 12 bins per decade, plus an
    // underflow and an overflow bin, an exact maximum, a count and a sum.
    class DurationHistogram
    {
    public:
        static constexpr double minSeconds = 10.0e-6;
        static constexpr double maxSeconds = 1.0;
        static constexpr int binsPerDecade = 12;
        static constexpr int decades = 5;
        static constexpr int numBins = binsPerDecade * decades + 2; // [0] below 10 us, [last] >= 1 s

        struct Snapshot
        {
            std::array<uint64_t, numBins> bins {};
            uint64_t count = 0; // always the sum of the bins
            double maxSeconds = 0.0;
            double sumSeconds = 0.0;

            double meanSeconds() const noexcept { return count > 0 ? sumSeconds / static_cast<double> (count) : 0.0; }

            // Percentile (0..1) from the bins: the upper edge of the bin holding it, capped by
            // the exact maximum. Never below the exact value, and within one bin's width of it.
            double percentile (double q) const noexcept
            {
                if (count == 0)
                    return 0.0;
                const auto rank = std::max<uint64_t> (static_cast<uint64_t> (std::ceil (q * static_cast<double> (count))), 1);
                uint64_t seen = 0;
                for (int i = 0; i < numBins; ++i)
                {
                    seen += bins[static_cast<size_t> (i)];
                    if (seen >= rank)
                        return std::min (binUpperEdge (i), maxSeconds);
                }
                return maxSeconds;
            }
        };
        static_assert (std::is_trivially_copyable_v<Snapshot>);

        static int binFor (double seconds) noexcept
        {
            if (! (seconds >= minSeconds))
                return 0;
            if (seconds >= DurationHistogram::maxSeconds)
                return numBins - 1;
            const int i = 1 + static_cast<int> (std::floor (std::log10 (seconds / minSeconds) * binsPerDecade));
            return std::min (std::max (i, 1), numBins - 2);
        }

        static double binLowerEdge (int bin) noexcept
        {
            if (bin <= 0)
                return 0.0;
            return minSeconds * std::pow (10.0, static_cast<double> (bin - 1) / binsPerDecade);
        }

        // The overflow bin has no upper edge: 1e9 s stands for it.
        static double binUpperEdge (int bin) noexcept
        {
            if (bin >= numBins - 1)
                return 1.0e9;
            return minSeconds * std::pow (10.0, static_cast<double> (bin) / binsPerDecade);
        }

        // Writer thread only. Wait-free.
        void add (double seconds) noexcept
        {
            ++state.bins[static_cast<size_t> (binFor (seconds))];
            ++state.count;
            state.sumSeconds += seconds;
            state.maxSeconds = std::max (state.maxSeconds, seconds);
            publish();
        }

        // Writer thread, or while the writer is stopped.
        void reset() noexcept
        {
            state = {};
            publish();
        }

        // Any thread. Lock-free, and never delays the writer. Reads the newest published state;
        // retries only if the writer has meanwhile lapped the ring of slots and is rewriting the
        // one being read. If it keeps losing that race, it returns what it read with the count
        // made the sum of the bins: still no more than was written, and no less than before.
        Snapshot snapshot() const noexcept
        {
            Snapshot s;
            for (int attempt = 0; attempt < 64; ++attempt)
            {
                const auto g = generation.load (std::memory_order_acquire);
                const auto& slot = slots[static_cast<size_t> (g % numSlots)];
                if (slot.tag.load (std::memory_order_acquire) != 2 * g)
                    continue;
                slot.read (s);
                std::atomic_thread_fence (std::memory_order_acquire);
                if (slot.tag.load (std::memory_order_relaxed) == 2 * g)
                    return s;
            }
            slots[static_cast<size_t> (generation.load (std::memory_order_acquire) % numSlots)].read (s);
            s.count = 0;
            for (auto b : s.bins)
                s.count += b;
            return s;
        }

    private:
        // One published copy of the state. Its tag is 2g once generation g is complete in it,
        // and odd while the writer rewrites it.
        struct Slot
        {
            std::atomic<uint64_t> tag { 0 };
            std::array<std::atomic<uint64_t>, numBins> bins {};
            std::atomic<uint64_t> count { 0 };
            std::atomic<double> max { 0.0 }, sum { 0.0 };

            void read (Snapshot& s) const noexcept
            {
                for (size_t i = 0; i < bins.size(); ++i)
                    s.bins[i] = bins[i].load (std::memory_order_relaxed);
                s.count = count.load (std::memory_order_relaxed);
                s.maxSeconds = max.load (std::memory_order_relaxed);
                s.sumSeconds = sum.load (std::memory_order_relaxed);
            }
        };

        // Writer: copies the state into the next slot, then makes it the newest.
        void publish() noexcept
        {
            const auto g = generation.load (std::memory_order_relaxed) + 1;
            auto& slot = slots[static_cast<size_t> (g % numSlots)];
            slot.tag.store (2 * g - 1, std::memory_order_relaxed);
            std::atomic_thread_fence (std::memory_order_release);
            for (size_t i = 0; i < state.bins.size(); ++i)
                slot.bins[i].store (state.bins[i], std::memory_order_relaxed);
            slot.count.store (state.count, std::memory_order_relaxed);
            slot.max.store (state.maxSeconds, std::memory_order_relaxed);
            slot.sum.store (state.sumSeconds, std::memory_order_relaxed);
            slot.tag.store (2 * g, std::memory_order_release);
            generation.store (g, std::memory_order_release);
        }

        static constexpr uint64_t numSlots = 8;
        Snapshot state; // writer only
        std::array<Slot, numSlots> slots {}; // written by the writer, read by any thread
        std::atomic<uint64_t> generation { 0 }; // the newest complete slot
    };

    static_assert (std::atomic<uint64_t>::is_always_lock_free);
    static_assert (std::atomic<double>::is_always_lock_free);
} // namespace pg
