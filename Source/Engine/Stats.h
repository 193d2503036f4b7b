#pragma once

// Statistics written by one thread (the worker) and read as snapshots by another (the message
// thread), with no lock: every field is a relaxed atomic with a single writer.

#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>

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
            uint64_t count = 0;
            double maxSeconds = 0.0;
            double sumSeconds = 0.0;

            // Percentile (0..1) from the bins: the upper edge of the bin holding it, capped by
            // the exact maximum. Within one bin's width of the exact value.
            double percentile (double q) const noexcept
            {
                uint64_t total = 0;
                for (auto b : bins)
                    total += b;
                if (total == 0)
                    return 0.0;
                const auto rank = static_cast<uint64_t> (std::ceil (q * static_cast<double> (total)));
                uint64_t seen = 0;
                for (int i = 0; i < numBins; ++i)
                {
                    seen += bins[static_cast<size_t> (i)];
                    if (seen >= std::max<uint64_t> (rank, 1))
                        return std::min (binUpperEdge (i), maxSeconds);
                }
                return maxSeconds;
            }
        };

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

        static double binUpperEdge (int bin) noexcept
        {
            if (bin >= numBins - 1)
                return 1.0e9;
            return minSeconds * std::pow (10.0, static_cast<double> (bin) / binsPerDecade);
        }

        // Writer thread only. Wait-free.
        void add (double seconds) noexcept
        {
            auto& bin = bins[static_cast<size_t> (binFor (seconds))];
            bin.store (bin.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            count.store (count.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            sum.store (sum.load (std::memory_order_relaxed) + seconds, std::memory_order_relaxed);
            if (seconds > max.load (std::memory_order_relaxed))
                max.store (seconds, std::memory_order_relaxed);
        }

        // Any thread. Lock-free.
        Snapshot snapshot() const noexcept
        {
            Snapshot s;
            s.count = count.load (std::memory_order_relaxed);
            for (size_t i = 0; i < bins.size(); ++i)
                s.bins[i] = bins[i].load (std::memory_order_relaxed);
            s.maxSeconds = max.load (std::memory_order_relaxed);
            s.sumSeconds = sum.load (std::memory_order_relaxed);
            return s;
        }

        // Writer thread, or while the writer is stopped.
        void reset() noexcept
        {
            for (auto& b : bins)
                b.store (0, std::memory_order_relaxed);
            count.store (0, std::memory_order_relaxed);
            max.store (0.0, std::memory_order_relaxed);
            sum.store (0.0, std::memory_order_relaxed);
        }

    private:
        std::array<std::atomic<uint64_t>, numBins> bins {};
        std::atomic<uint64_t> count { 0 };
        std::atomic<double> max { 0.0 };
        std::atomic<double> sum { 0.0 };
    };

    static_assert (std::atomic<double>::is_always_lock_free);
} // namespace pg
