#pragma once

// The engine's one clock: std::chrono::steady_clock, in nanoseconds or seconds. Every thread
// (audio, worker, loader, pool) reads this one, so their times compare. Real-time safe.

#include <chrono>
#include <cstdint>

namespace pg
{
    inline int64_t nowNanos() noexcept
    {
        using namespace std::chrono;
        return duration_cast<nanoseconds> (steady_clock::now().time_since_epoch()).count();
    }

    inline double nowSeconds() noexcept { return static_cast<double> (nowNanos()) * 1.0e-9; }
} // namespace pg
