#pragma once

// Single-producer / single-consumer rings. Positions are absolute 64-bit counts that never wrap
// in practice (2^64 frames is millions of years at 192 kHz), so "how many" is always w - r.

#include "ResidentMemory.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace pg
{
    static_assert (std::atomic<uint64_t>::is_always_lock_free);
    static_assert (std::atomic<int64_t>::is_always_lock_free);
    static_assert (std::atomic<float>::is_always_lock_free);
    static_assert (std::atomic<uint32_t>::is_always_lock_free);

    inline size_t nextPowerOfTwo (size_t n) noexcept
    {
        size_t p = 1;
        while (p < n)
            p <<= 1;
        return p;
    }

    // Planar multichannel float ring. One producer thread, one consumer thread.
    // The producer writes at its position and publishes; the consumer reads any published
    // position it has not released. Allocation happens only in allocate().
    class SampleRing
    {
    public:
        // Not real-time: allocates. Call while neither side runs.
        void allocate (int numChannels, size_t minCapacityFrames)
        {
            channels = std::max (1, numChannels);
            capacity = nextPowerOfTwo (std::max<size_t> (minCapacityFrames, 16));
            mask = capacity - 1;
            data.allocate (static_cast<size_t> (channels) * capacity);
            reset();
        }

        // Not thread-safe: call while neither side runs.
        void reset (uint64_t position = 0) noexcept
        {
            writePos.store (position, std::memory_order_relaxed);
            readPos.store (position, std::memory_order_relaxed);
        }

        size_t getCapacity() const noexcept { return capacity; }
        size_t bytes() const noexcept { return capacity * static_cast<size_t> (channels) * sizeof (float); }
        int getNumChannels() const noexcept { return channels; }
        // Floats from a frame of one channel to the same frame of the next (writeSpan, readSpan).
        size_t channelStride() const noexcept { return capacity; }

        // ---- producer side -------------------------------------------------------------------
        // Producer thread. Wait-free.
        uint64_t producerPosition() const noexcept { return writePos.load (std::memory_order_relaxed); }

        // Producer thread. Wait-free. Frames that can be written without overwriting unread ones
        // (negative when the consumer has released less than capacity behind a skipped position).
        int64_t freeForProducer() const noexcept
        {
            const auto r = readPos.load (std::memory_order_acquire);
            return static_cast<int64_t> (capacity) - static_cast<int64_t> (producerPosition() - r);
        }

        // Producer thread. Wait-free. Copies n frames to position `pos` (srcChannels may be fewer
        // than the ring's channels: missing channels are written as silence). The caller checks
        // space first.
        void writeFrames (uint64_t pos, const float* const* src, int srcChannels, size_t srcOffset,
                          size_t n) noexcept
        {
            for (int c = 0; c < channels; ++c)
            {
                const float* in = c < srcChannels ? src[c] + srcOffset : nullptr;
                copyIn (c, pos, in, n);
            }
        }

        // Producer thread. Wait-free. Where frame `pos` of channel c goes, and how many frames
        // from there are contiguous (up to the ring's end): for a caller that fills the ring in
        // its own pass over the block. The caller checks space first.
        float* writeSpan (int c, uint64_t pos, size_t& contiguous) noexcept { return data.data() + spanIndex (c, pos, contiguous); }

        // Producer thread. Makes frames before `newWritePos` visible to the consumer.
        void publishWrite (uint64_t newWritePos) noexcept { writePos.store (newWritePos, std::memory_order_release); }

        // ---- consumer side -------------------------------------------------------------------
        // Consumer thread. Wait-free. Everything before this position has been published.
        uint64_t publishedWritePosition() const noexcept { return writePos.load (std::memory_order_acquire); }

        // Consumer thread. Wait-free.
        uint64_t consumerPosition() const noexcept { return readPos.load (std::memory_order_relaxed); }

        // Consumer thread. Wait-free. Copies n frames starting at `pos` (which the caller has
        // checked is published and not released) into dst[c] + dstOffset.
        void readFrames (uint64_t pos, float* const* dst, int dstChannels, size_t dstOffset, size_t n) const noexcept
        {
            for (int c = 0; c < std::min (channels, dstChannels); ++c)
                copyOut (c, pos, dst[c] + dstOffset, n);
        }

        // Consumer thread. Wait-free. One ring channel into one destination.
        void readFrames (uint64_t pos, float* const* dst, int, size_t dstOffset, size_t n, int channel) const noexcept
        {
            copyOut (channel, pos, dst[0] + dstOffset, n);
        }

        // Consumer thread. Wait-free. Where frame `pos` of channel c is, and how many frames from
        // there are contiguous (up to the ring's end).
        const float* readSpan (int c, uint64_t pos, size_t& contiguous) const noexcept { return data.data() + spanIndex (c, pos, contiguous); }

        // Consumer thread. Wait-free. One sample.
        float sample (int channel, uint64_t pos) const noexcept
        {
            return data[static_cast<size_t> (channel) * capacity + (pos & mask)];
        }

        // Consumer thread. Frees every slot before newReadPos for the producer.
        void publishRead (uint64_t newReadPos) noexcept { readPos.store (newReadPos, std::memory_order_release); }

    private:
        // The index of frame `pos` of channel c in data, and the frames contiguous from it.
        size_t spanIndex (int c, uint64_t pos, size_t& contiguous) const noexcept
        {
            const size_t start = static_cast<size_t> (pos & mask);
            contiguous = capacity - start;
            return static_cast<size_t> (c) * capacity + start;
        }

        void copyIn (int c, uint64_t pos, const float* in, size_t n) noexcept
        {
            float* base = data.data() + static_cast<size_t> (c) * capacity;
            const size_t start = static_cast<size_t> (pos & mask);
            const size_t first = std::min (n, capacity - start);
            if (in != nullptr)
            {
                std::memcpy (base + start, in, first * sizeof (float));
                if (first < n) // across the ring's end
                    std::memcpy (base, in + first, (n - first) * sizeof (float));
            }
            else
            {
                std::fill (base + start, base + start + first, 0.0f);
                std::fill (base, base + (n - first), 0.0f);
            }
        }

        void copyOut (int c, uint64_t pos, float* out, size_t n) const noexcept
        {
            const float* base = data.data() + static_cast<size_t> (c) * capacity;
            const size_t start = static_cast<size_t> (pos & mask);
            const size_t first = std::min (n, capacity - start);
            std::memcpy (out, base + start, first * sizeof (float));
            if (first < n) // across the ring's end
                std::memcpy (out + first, base, (n - first) * sizeof (float));
        }

        int channels = 1;
        size_t capacity = 0, mask = 0;
        ResidentArray<float> data;
        alignas (64) std::atomic<uint64_t> writePos { 0 };
        alignas (64) std::atomic<uint64_t> readPos { 0 };
    };

    // SPSC queue of small trivially copyable messages. Push fails (returns false) when full.
    template <typename T>
    class SpscQueue
    {
        static_assert (std::is_trivially_copyable_v<T>);

    public:
        void allocate (size_t minCapacity)
        {
            capacity = nextPowerOfTwo (std::max<size_t> (minCapacity, 2));
            items.allocate (capacity); // its contents are written before they are read
            head.store (0, std::memory_order_relaxed);
            tail.store (0, std::memory_order_relaxed);
        }

        // Producer thread. Wait-free.
        bool push (const T& item) noexcept
        {
            const auto t = tail.load (std::memory_order_relaxed);
            if (capacity == 0 || t - head.load (std::memory_order_acquire) >= capacity)
                return false;
            items[t & (capacity - 1)] = item;
            tail.store (t + 1, std::memory_order_release);
            return true;
        }

        // Consumer thread. Wait-free.
        bool pop (T& item) noexcept
        {
            const auto h = head.load (std::memory_order_relaxed);
            if (h == tail.load (std::memory_order_acquire))
                return false;
            item = items[h & (capacity - 1)];
            head.store (h + 1, std::memory_order_release);
            return true;
        }

        // Consumer thread. Wait-free. Looks at the oldest item without removing it.
        bool peek (T& item) const noexcept
        {
            const auto h = head.load (std::memory_order_relaxed);
            if (h == tail.load (std::memory_order_acquire))
                return false;
            item = items[h & (capacity - 1)];
            return true;
        }

        size_t bytes() const noexcept { return capacity * sizeof (T); }

    private:
        size_t capacity = 0;
        ResidentArray<T> items;
        alignas (64) std::atomic<uint64_t> head { 0 };
        alignas (64) std::atomic<uint64_t> tail { 0 };
    };
} // namespace pg
