#pragma once

#include "LatencyEngine.h"
#include "Parameters.h"
#include "Realtime.h"

#include <array>
#include <atomic>

namespace pauseguard
{
    // The plugin's parameters passed on to the engine from the audio thread, only when they change:
    // an unchanged parameter costs a load and a compare, not a store to a cache line that the
    // engine's other threads read.
    class ParameterPush
    {
    public:
        static constexpr size_t scriptParameterCount = 4 + 8; // drive, tone, garbage, live heap, 8 macros

        // The script's parameters, in the order of push's scriptIndices: their names, and their
        // values as the knobs set them (tone in 0..1).
        static const std::array<const char*, scriptParameterCount>& scriptNames() noexcept;
        static std::array<float, scriptParameterCount> scriptValues (const ParameterRefs& params) noexcept;

        // Any thread (prepare, a state restored): the next push passes every value again.
        void pushEverythingNext() noexcept { everything.store (true, std::memory_order_relaxed); }

        // Audio thread. Wait-free. Returns how many of the engine's setters it called.
        int push (const ParameterRefs& params, const std::array<int, scriptParameterCount>& scriptIndices, pg::LatencyEngine& engine,
                  bool bypassed, bool offline) noexcept PG_NONBLOCKING;

    private:
        std::atomic<bool> everything { true };
        // audio thread only: the values last passed on
        float mix = 0.0f, outputDb = 0.0f;
        std::array<float, scriptParameterCount> script {};
        int pausePercent = 0, stepPercent = 0;
        pg::DynamicSettings dynamic {};
        bool wasBypassed = false, wasOffline = false;
    };
} // namespace pauseguard
