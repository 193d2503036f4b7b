#pragma once

// How the editor writes durations, counts and sizes: three significant digits, units a user reads.

#include <juce_core/juce_core.h>

#include <cmath>
#include <cstdint>

namespace pauseguard::format
{
    // 0.0123 ms, 1.23 ms, 12.3 ms, 123 ms, 1.23 s.
    inline juce::String duration (double seconds)
    {
        const double ms = seconds * 1000.0;
        if (seconds <= 0.0)
            return "0 ms";
        if (seconds >= 1.0)
            return juce::String (seconds, seconds >= 10.0 ? 1 : 2) + " s";
        if (ms >= 100.0)
            return juce::String (juce::roundToInt (ms)) + " ms";
        if (ms >= 10.0)
            return juce::String (ms, 1) + " ms";
        if (ms >= 1.0)
            return juce::String (ms, 2) + " ms";
        if (ms >= 0.1)
            return juce::String (ms, 3) + " ms";
        return juce::String (ms, 4) + " ms";
    }

    // 12,345,678
    inline juce::String count (uint64_t n)
    {
        auto digits = juce::String (static_cast<juce::uint64> (n));
        juce::String out;
        const int len = digits.length();
        for (int i = 0; i < len; ++i)
        {
            if (i > 0 && (len - i) % 3 == 0)
                out << ",";
            out << digits.substring (i, i + 1);
        }
        return out;
    }

    // 1, 10, 100, 1k, 10k, 100k, 1M, ...
    inline juce::String shortCount (double n)
    {
        if (n >= 1.0e6)
            return juce::String (juce::roundToInt (n / 1.0e6)) + "M";
        if (n >= 1.0e3)
            return juce::String (juce::roundToInt (n / 1.0e3)) + "k";
        return juce::String (juce::roundToInt (n));
    }

    inline juce::String megabytes (uint64_t bytes)
    {
        const double mb = static_cast<double> (bytes) / (1024.0 * 1024.0);
        return (mb >= 100.0 ? juce::String (juce::roundToInt (mb)) : juce::String (mb, 1)) + " MB";
    }
} // namespace pauseguard::format
