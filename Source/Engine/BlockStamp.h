#pragma once

// What the audio thread tells the worker about each block it hands over (through a queue beside
// the input ring), and the deadline that follows from it. No JUCE here.

#include <algorithm>
#include <cstdint>

namespace pg
{
    struct BlockStamp
    {
        uint64_t firstRingPos = 0;
        int64_t arrivalNanos = 0;
        int32_t blockSize = 0;
        int32_t latency = 0;
    };

    // The callback that plays ring position ringPos: the same rule as the lateness statistic.
    inline int64_t deadlineNanos (const BlockStamp& s, uint64_t ringPos, double sampleRate) noexcept
    {
        const auto offset = static_cast<int64_t> (ringPos - s.firstRingPos);
        const int64_t blocksAhead = (offset + s.latency) / std::max (1, s.blockSize);
        return s.arrivalNanos + static_cast<int64_t> (static_cast<double> (blocksAhead * s.blockSize) * 1.0e9 / sampleRate);
    }
} // namespace pg
