#include "StepPeak.h"

#include "CpuFeatures.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace pg
{
    namespace
    {
        float scalarTail (const float* x, int k, int n, float before, float peak, float decay) noexcept
        {
            for (; k < n; ++k)
                peak = std::max (peak * decay, std::abs (x[k] - (k == 0 ? before : x[k - 1])));
            return peak;
        }

#if defined(__x86_64__)
        // One group of 16 frames from x[at] (the frame before the group is `previous`'s first
        // lane), as two vectors of eight: its steps' magnitudes, lane by lane; with toOut, the
        // group is stored to out as it is read.
        template <bool toOut>
        [[gnu::target ("avx2"), gnu::always_inline]] inline __m256 avx2Group (const float* x, float* out, int at, __m256 previous) noexcept
        {
            const __m256 absMask = _mm256_castsi256_ps (_mm256_set1_epi32 (0x7fffffff));
            const __m256 a = _mm256_loadu_ps (x + at), b = _mm256_loadu_ps (x + at + 8);
            if constexpr (toOut)
            {
                _mm256_storeu_ps (out + at, a);
                _mm256_storeu_ps (out + at + 8, b);
            }
            return _mm256_max_ps (_mm256_and_ps (absMask, _mm256_sub_ps (a, previous)),
                                  _mm256_and_ps (absMask, _mm256_sub_ps (b, _mm256_loadu_ps (x + at + 7))));
        }

        template <bool toOut>
        [[gnu::target ("avx2"), gnu::always_inline]] inline float avx2Groups (const float* x, float* out, int n, float before, float peak, float decay,
                                                                              float decayPerGroup) noexcept
        {
            int k = 0;
            if (n >= stepPeakGroup)
            {
                const __m256 groupDecay = _mm256_set1_ps (decayPerGroup);
                // The first group: its first frame's step is from `before` (x[0..6] rotated up a
                // lane, `before` in the first).
                const __m256 rotated = _mm256_permutevar8x32_ps (_mm256_loadu_ps (x), _mm256_setr_epi32 (7, 0, 1, 2, 3, 4, 5, 6));
                const __m256 firstBefore = _mm256_blend_ps (rotated, _mm256_set1_ps (before), 1);
                __m256 running = _mm256_max_ps (_mm256_mul_ps (_mm256_set1_ps (peak), groupDecay), avx2Group<toOut> (x, out, 0, firstBefore));
                for (k = stepPeakGroup; k + 2 * stepPeakGroup <= n; k += 2 * stepPeakGroup) // two groups a turn
                {
                    running = _mm256_max_ps (_mm256_mul_ps (running, groupDecay), avx2Group<toOut> (x, out, k, _mm256_loadu_ps (x + k - 1)));
                    running = _mm256_max_ps (_mm256_mul_ps (running, groupDecay), avx2Group<toOut> (x, out, k + stepPeakGroup, _mm256_loadu_ps (x + k + stepPeakGroup - 1)));
                }
                if (k + stepPeakGroup <= n)
                {
                    running = _mm256_max_ps (_mm256_mul_ps (running, groupDecay), avx2Group<toOut> (x, out, k, _mm256_loadu_ps (x + k - 1)));
                    k += stepPeakGroup;
                }
                __m128 m = _mm_max_ps (_mm256_castps256_ps128 (running), _mm256_extractf128_ps (running, 1));
                m = _mm_max_ps (m, _mm_movehl_ps (m, m));
                m = _mm_max_ss (m, _mm_shuffle_ps (m, m, 1));
                peak = _mm_cvtss_f32 (m);
            }
            if (k == n)
                return peak;
            if constexpr (toOut)
                std::copy (x + k, x + n, out + k);
            return scalarTail (x, k, n, before, peak, decay);
        }

        [[gnu::target ("avx2")]] float avx2 (const float* x, int n, float before, float peak, float decay, float decayPerGroup) noexcept
        {
            return avx2Groups<false> (x, nullptr, n, before, peak, decay, decayPerGroup);
        }
        [[gnu::target ("avx2")]] float avx2Copy (const float* x, float* out, int n, float before, float peak, float decay, float decayPerGroup) noexcept
        {
            return avx2Groups<true> (x, out, n, before, peak, decay, decayPerGroup);
        }
#endif
    } // namespace

    namespace detail
    {
        // Groups of 16 as four vectors of four (SSE2, which every x86-64 has); elsewhere frame by frame.
        float stepPeakBaseline (const float* x, int n, float before, float peak, float decay, float decayPerGroup) noexcept
        {
            int k = 0;
#if defined(__x86_64__)
            if (n >= stepPeakGroup)
            {
                const __m128 absMask = _mm_castsi128_ps (_mm_set1_epi32 (0x7fffffff));
                const __m128 groupDecay = _mm_set1_ps (decayPerGroup);
                const auto step = [&] (int at, __m128 previous) { return _mm_and_ps (absMask, _mm_sub_ps (_mm_loadu_ps (x + at), previous)); };
                const auto stepAt = [&] (int at) { return step (at, _mm_loadu_ps (x + at - 1)); };
                const auto rest = [&] (int at) { return _mm_max_ps (stepAt (at + 4), _mm_max_ps (stepAt (at + 8), stepAt (at + 12))); };
                const __m128 firstBefore = _mm_setr_ps (before, x[0], x[1], x[2]);
                __m128 running = _mm_max_ps (_mm_mul_ps (_mm_set1_ps (peak), groupDecay), _mm_max_ps (step (0, firstBefore), rest (0)));
                for (k = stepPeakGroup; k + stepPeakGroup <= n; k += stepPeakGroup)
                    running = _mm_max_ps (_mm_mul_ps (running, groupDecay), _mm_max_ps (stepAt (k), rest (k)));
                running = _mm_max_ps (running, _mm_movehl_ps (running, running));
                running = _mm_max_ss (running, _mm_shuffle_ps (running, running, 1));
                peak = _mm_cvtss_f32 (running);
            }
#else
            (void)decayPerGroup;
#endif
            return scalarTail (x, k, n, before, peak, decay);
        }

        float copyStepPeakBaseline (const float* x, float* out, int n, float before, float peak, float decay, float decayPerGroup) noexcept
        {
            std::memcpy (out, x, static_cast<size_t> (std::max (0, n)) * sizeof (float));
            return stepPeakBaseline (x, n, before, peak, decay, decayPerGroup);
        }

#if defined(__x86_64__)
        const StepPeakFunction stepPeakAvx2 = cpuHasAvx2() ? StepPeakFunction (avx2) : nullptr;
        const CopyStepPeakFunction copyStepPeakAvx2 = cpuHasAvx2() ? CopyStepPeakFunction (avx2Copy) : nullptr;
#else
        const StepPeakFunction stepPeakAvx2 = nullptr;
        const CopyStepPeakFunction copyStepPeakAvx2 = nullptr;
#endif
    } // namespace detail

    const StepPeakFunction stepPeak = detail::stepPeakAvx2 != nullptr ? detail::stepPeakAvx2 : detail::stepPeakBaseline;
    const CopyStepPeakFunction copyStepPeak = detail::copyStepPeakAvx2 != nullptr ? detail::copyStepPeakAvx2 : detail::copyStepPeakBaseline;
} // namespace pg
