#pragma once

// The largest recent step of a signal, for the latency crossfade (LatencyCrossfade.h): over
// x[0, n) with x[-1] = before, peak = max (peak x decay, |x[k] - x[k-1]|) at each frame, with the
// decay applied per group of stepPeakGroup frames rather than per frame (a step counts at most
// decay^-(group-1) above its decayed value, 0.4 % at 48 kHz, and never above the largest step the
// signal made). Vectorised: a running maximum per lane, decayed once per group, folded into one at
// the end. Max and a multiplication by a positive constant commute exactly in floating point, so
// every variant returns the same value. Real-time safe. No JUCE here.

namespace pg
{
    inline constexpr int stepPeakGroup = 16;

    // decayPerGroup = decay^stepPeakGroup.
    using StepPeakFunction = float (*) (const float* x, int n, float before, float peak, float decay, float decayPerGroup) noexcept;

    // The fastest variant this CPU runs (AVX2 where it has it), chosen when the library's statics
    // are made.
    extern const StepPeakFunction stepPeak;

    // The same, copying x[0, n) to out (which must not overlap it) in the same pass: for an output
    // that is written and measured at once.
    using CopyStepPeakFunction = float (*) (const float* x, float* out, int n, float before, float peak, float decay,
                                            float decayPerGroup) noexcept;
    extern const CopyStepPeakFunction copyStepPeak;

    namespace detail
    {
        float stepPeakBaseline (const float* x, int n, float before, float peak, float decay, float decayPerGroup) noexcept;
        // nullptr where the CPU or the build has no AVX2.
        extern const StepPeakFunction stepPeakAvx2;
        float copyStepPeakBaseline (const float* x, float* out, int n, float before, float peak, float decay, float decayPerGroup) noexcept;
        extern const CopyStepPeakFunction copyStepPeakAvx2;
    } // namespace detail
} // namespace pg
