#include "InputPass.h"

#include "CpuFeatures.h"

#include <cmath>
#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace pg
{
    namespace
    {
        // Branch-free: the compiler vectorises it.
        [[gnu::always_inline]] inline void sanitise (const float* __restrict x, float* __restrict dry, float* __restrict input, size_t n) noexcept
        {
            constexpr float smallest = std::numeric_limits<float>::min(), largest = std::numeric_limits<float>::max();
            if (input == nullptr)
            {
                for (size_t k = 0; k < n; ++k)
                {
                    const float a = std::fabs (x[k]);
                    dry[k] = (a >= smallest && a <= largest) ? x[k] : 0.0f; // NaN fails both
                }
                return;
            }
            for (size_t k = 0; k < n; ++k)
            {
                const float a = std::fabs (x[k]);
                const float v = (a >= smallest && a <= largest) ? x[k] : 0.0f;
                dry[k] = v;
                input[k] = v;
            }
        }

#if defined(__x86_64__)
        // Eight samples. A sample is kept where its magnitude's bits lie in [the smallest normal,
        // the largest finite]: one unsigned range check, (bits - smallest) <= (largest - smallest),
        // done as a min and a compare; the others become +0 by a mask.
        template <bool toInput>
        [[gnu::target ("avx2"), gnu::always_inline]] inline void sanitiseEight (const float* x, float* dry, float* input, size_t k) noexcept
        {
            const __m256i v = _mm256_loadu_si256 (reinterpret_cast<const __m256i*> (x + k));
            const __m256i offset = _mm256_sub_epi32 (_mm256_and_si256 (v, _mm256_set1_epi32 (0x7fffffff)), _mm256_set1_epi32 (0x00800000));
            const __m256i span = _mm256_set1_epi32 (0x7f7fffff - 0x00800000);
            const __m256i kept = _mm256_and_si256 (v, _mm256_cmpeq_epi32 (_mm256_min_epu32 (offset, span), offset));
            _mm256_storeu_si256 (reinterpret_cast<__m256i*> (dry + k), kept);
            if constexpr (toInput)
                _mm256_storeu_si256 (reinterpret_cast<__m256i*> (input + k), kept);
        }

        // 32 samples a turn, then eight, then one by one.
        template <bool toInput>
        [[gnu::target ("avx2"), gnu::always_inline]] inline void sanitiseVectors (const float* x, float* dry, float* input, size_t n) noexcept
        {
            size_t k = 0;
            for (; k + 32 <= n; k += 32)
            {
                sanitiseEight<toInput> (x, dry, input, k);
                sanitiseEight<toInput> (x, dry, input, k + 8);
                sanitiseEight<toInput> (x, dry, input, k + 16);
                sanitiseEight<toInput> (x, dry, input, k + 24);
            }
            for (; k + 8 <= n; k += 8)
                sanitiseEight<toInput> (x, dry, input, k);
            if (k < n)
                sanitise (x + k, dry + k, toInput ? input + k : nullptr, n - k);
        }

        [[gnu::target ("avx2")]] void avx2 (const float* x, float* dry, float* input, size_t n) noexcept
        {
            if (input != nullptr)
                sanitiseVectors<true> (x, dry, input, n);
            else
                sanitiseVectors<false> (x, dry, input, n);
        }

        InputPassFunction avx2IfSupported() noexcept { return cpuHasAvx2() ? InputPassFunction (avx2) : nullptr; }
#endif
    } // namespace

    namespace detail
    {
        void sanitiseBaseline (const float* x, float* dry, float* input, size_t n) noexcept { sanitise (x, dry, input, n); }

#if defined(__x86_64__)
        const InputPassFunction sanitiseAvx2 = avx2IfSupported();
#else
        const InputPassFunction sanitiseAvx2 = nullptr;
#endif
    } // namespace detail

    const InputPassFunction sanitiseInto = detail::sanitiseAvx2 != nullptr ? detail::sanitiseAvx2 : detail::sanitiseBaseline;
} // namespace pg
