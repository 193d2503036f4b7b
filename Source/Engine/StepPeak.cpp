#include "StepPeak.h"

#include <algorithm>
#include <cmath>

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
        // Groups of 16 as two vectors of eight.
        [[gnu::target ("avx2")]] float avx2 (const float* x, int n, float before, float peak, float decay, float decayPerGroup) noexcept
        {
            int k = 0;
            if (n >= stepPeakGroup)
            {
                const __m256 absMask = _mm256_castsi256_ps (_mm256_set1_epi32 (0x7fffffff));
                const __m256 groupDecay = _mm256_set1_ps (decayPerGroup);
                // The first group: its first frame's step is from `before`.
                const __m256 firstBefore = _mm256_setr_ps (before, x[0], x[1], x[2], x[3], x[4], x[5], x[6]);
                const __m256 first = _mm256_and_ps (absMask, _mm256_sub_ps (_mm256_loadu_ps (x), firstBefore));
                const __m256 second = _mm256_and_ps (absMask, _mm256_sub_ps (_mm256_loadu_ps (x + 8), _mm256_loadu_ps (x + 7)));
                __m256 running = _mm256_max_ps (_mm256_mul_ps (_mm256_set1_ps (peak), groupDecay), _mm256_max_ps (first, second));
                for (k = stepPeakGroup; k + stepPeakGroup <= n; k += stepPeakGroup)
                {
                    const __m256 a = _mm256_and_ps (absMask, _mm256_sub_ps (_mm256_loadu_ps (x + k), _mm256_loadu_ps (x + k - 1)));
                    const __m256 b = _mm256_and_ps (absMask, _mm256_sub_ps (_mm256_loadu_ps (x + k + 8), _mm256_loadu_ps (x + k + 7)));
                    running = _mm256_max_ps (_mm256_mul_ps (running, groupDecay), _mm256_max_ps (a, b));
                }
                __m128 m = _mm_max_ps (_mm256_castps256_ps128 (running), _mm256_extractf128_ps (running, 1));
                m = _mm_max_ps (m, _mm_movehl_ps (m, m));
                m = _mm_max_ss (m, _mm_shuffle_ps (m, m, 1));
                peak = _mm_cvtss_f32 (m);
            }
            return scalarTail (x, k, n, before, peak, decay);
        }

        StepPeakFunction avx2IfSupported() noexcept
        {
            __builtin_cpu_init();
            return __builtin_cpu_supports ("avx2") ? StepPeakFunction (avx2) : nullptr;
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

#if defined(__x86_64__)
        const StepPeakFunction stepPeakAvx2 = avx2IfSupported();
#else
        const StepPeakFunction stepPeakAvx2 = nullptr;
#endif
    } // namespace detail

    const StepPeakFunction stepPeak = detail::stepPeakAvx2 != nullptr ? detail::stepPeakAvx2 : detail::stepPeakBaseline;
} // namespace pg
