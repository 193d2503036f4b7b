#pragma once

// The crossfade that carries the output from one latency to another without a click. No JUCE here.
//
// Both sides are the same signal, delayed by the previous and by the new latency. A fixed linear
// fade between two shifted copies of a sine adds (gain step) x (difference of the copies) to every
// output step: up to 2 x amplitude / length, which can make the output step further than the
// signal ever does. This fade advances its gain at its nominal rate where it can, and no faster
// than keeps every output step within the largest step the signal itself makes (the output's
// recent steps, and each side's step now). Where that would hold it back past its maximum length,
// it finishes at the nominal rate; it always ends within getMaximumSamples() of its start (the
// engine uses 5 ms nominal, 50 ms at most: a fade of a 20 Hz sine needs about 16 ms to stay
// within its steps).
//
// Audio thread only, after prepare(): wait-free, no allocation, no lock.

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "StepPeak.h"

namespace pg
{
    class LatencyCrossfade
    {
    public:
        static constexpr int maxChannels = 8;

        // Control thread (before audio runs).
        void prepare (double sampleRate, double nominalSeconds, double maximumSeconds) noexcept
        {
            nominal = std::max (1, static_cast<int> (std::lround (nominalSeconds * sampleRate)));
            maximum = std::max (nominal, static_cast<int> (std::lround (maximumSeconds * sampleRate)));
            // The output's largest recent step decays by half over 50 ms (a 10 Hz sine's quarter period).
            decay = static_cast<float> (std::exp2 (-1.0 / (0.05 * sampleRate)));
            decayPerLane = static_cast<float> (std::pow (static_cast<double> (decay), static_cast<double> (lane)));
            reset();
        }

        void reset() noexcept
        {
            gain = 1.0f;
            elapsed = maximum;
            last.fill (0.0f);
            recentStep.fill (0.0f);
        }

        int getNominalSamples() const noexcept { return nominal; }
        int getMaximumSamples() const noexcept { return maximum; }
        bool isActive() const noexcept { return gain < 1.0f; }

        // Audio thread: a fade starts at the next sample (from the rendering at the previous latency).
        void start() noexcept
        {
            gain = 0.0f;
            elapsed = 0;
            prevFrom = last;
            havePrevTo = false;
        }

        // Audio thread, during a fade: the fade turns back (the caller swaps its two renderings), from
        // the gain it has reached, so the output continues without a step.
        void reverse() noexcept
        {
            gain = 1.0f - gain;
            elapsed = 0;
            std::swap (prevFrom, prevTo);
            if (! havePrevTo)
                prevFrom = last;
            havePrevTo = true;
        }

        // Audio thread. While a fade is active: to[c][i] = (1 - g) from[c][i] + g to[c][i], in place.
        // Always: follows the output's steps (call it on every block, fade or not).
        void process (const float* const* from, float* const* to, int numChannels, int numFrames) noexcept
        {
            const int nch = std::min (numChannels, maxChannels);
            int i = 0;
            for (; i < numFrames && isActive(); ++i)
                fadeOneFrame (from, to, nch, i);
            for (int c = 0; c < nch; ++c)
                if (i < numFrames)
                    trackSteps (static_cast<size_t> (c), to[c], i, numFrames);
        }

        // Audio thread, with no fade active: copies n > 0 frames of channel c's output from src to
        // dst, following their steps as process() would (one pass). A block's output written this
        // way, in order, on every channel, stands for process() on that block.
        void copyFollowingSteps (int c, const float* src, float* dst, int n) noexcept
        {
            if (c >= maxChannels)
            {
                std::copy (src, src + n, dst);
                return;
            }
            const auto uc = static_cast<size_t> (c);
            recentStep[uc] = copyStepPeak (src, dst, n, last[uc], recentStep[uc], decay, decayPerLane);
            last[uc] = src[n - 1];
        }

    private:
        // The output's largest recent step, over frames [from, to) of one channel (StepPeak.h).
        void trackSteps (size_t c, const float* x, int from, int to) noexcept
        {
            recentStep[c] = stepPeak (x + from, to - from, last[c], recentStep[c], decay, decayPerLane);
            last[c] = x[to - 1];
        }

        void fadeOneFrame (const float* const* from, float* const* to, int nch, int i) noexcept
        {
            const float nominalStep = 1.0f / static_cast<float> (nominal);
            // The gain step delta must keep |y - last| <= limit on every channel, where
            // y = (1 - gain) from + gain to + delta (to - from).
            float lo = 0.0f, hi = std::min (nominalStep, 1.0f - gain);
            std::array<float, maxChannels> base {}, diff {};
            for (int c = 0; c < nch; ++c)
            {
                const auto uc = static_cast<size_t> (c);
                const float a = from[c][i], b = to[c][i];
                float limit = std::max (recentStep[uc] * decay, std::abs (a - prevFrom[uc]));
                if (havePrevTo)
                    limit = std::max (limit, std::abs (b - prevTo[uc]));
                recentStep[uc] = limit;
                prevFrom[uc] = a;
                prevTo[uc] = b;
                base[uc] = (1.0f - gain) * a + gain * b - last[uc];
                diff[uc] = b - a;
                if (std::abs (diff[uc]) > 1.0e-9f)
                {
                    const float t1 = (-limit - base[uc]) / diff[uc], t2 = (limit - base[uc]) / diff[uc];
                    lo = std::max (lo, std::min (t1, t2));
                    hi = std::min (hi, std::max (t1, t2));
                }
            }
            havePrevTo = true;
            float delta = lo <= hi ? hi : 0.0f; // no step keeps every channel within its limit: hold
            if (elapsed >= maximum - nominal) // held back too long: finish at the nominal rate
                delta = std::max (delta, nominalStep);
            gain = std::min (1.0f, gain + delta);
            ++elapsed;
            for (int c = 0; c < nch; ++c)
            {
                const auto uc = static_cast<size_t> (c);
                const float y = gain >= 1.0f ? to[c][i] : last[uc] + base[uc] + delta * diff[uc];
                to[c][i] = y;
                last[uc] = y;
            }
        }

        int nominal = 240, maximum = 960;
        static constexpr int lane = stepPeakGroup; // frames per group (trackSteps)
        float decay = 0.9997f, decayPerLane = 0.9952f; // per frame, per group
        float gain = 1.0f; // 1: no fade
        int elapsed = 0;
        bool havePrevTo = false;
        std::array<float, maxChannels> last {}; // the last output sample
        std::array<float, maxChannels> recentStep {}; // the output's largest recent step (decaying)
        std::array<float, maxChannels> prevFrom {}, prevTo {};
    };
} // namespace pg
