#include "InputPass.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

TEST_CASE ("The input pass: every variant keeps finite normal samples, silences the rest, and writes both outputs", "[engine][robustness]")
{
    using limits = std::numeric_limits<float>;
    const float special[] = { limits::quiet_NaN(), -limits::quiet_NaN(), limits::infinity(), -limits::infinity(), limits::denorm_min(),
                              -1.0e-40f, 1.0e-39f, -0.0f, 0.0f, limits::min(), -limits::min(), limits::max(), -limits::max(), 1.0f };
    const auto expected = [] (float v) { return std::isfinite (v) && std::fabs (v) >= limits::min() ? v : 0.0f; };
    std::mt19937 rng (3);
    std::uniform_int_distribution<int> pick (0, static_cast<int> (std::size (special)) - 1);
    std::uniform_real_distribution<float> sample (-1.0f, 1.0f);
    int checked = 0;
    for (const size_t n : { size_t (1), size_t (7), size_t (8), size_t (9), size_t (31), size_t (32), size_t (33), size_t (100), size_t (128), size_t (1000) })
        for (const bool toInput : { true, false })
        {
            std::vector<float> x (n);
            for (auto& v : x)
                v = rng() % 3 == 0 ? special[pick (rng)] : sample (rng);
            const auto check = [&] (pg::InputPassFunction f) {
                std::vector<float> dry (n + 1, -7.0f), input (n + 1, -7.0f); // one past the end: untouched
                f (x.data(), dry.data(), toInput ? input.data() : nullptr, n);
                size_t wrong = 0;
                for (size_t k = 0; k < n; ++k)
                {
                    const float e = expected (x[k]);
                    // Bit for bit (a silenced sample is +0, a kept one keeps its sign).
                    wrong += std::memcmp (&dry[k], &e, sizeof e) != 0 ? 1u : 0u;
                    if (toInput)
                        wrong += std::memcmp (&input[k], &e, sizeof e) != 0 ? 1u : 0u;
                    else
                        wrong += input[k] != -7.0f ? 1u : 0u;
                }
                INFO ("n " << n << (toInput ? ", to the worker too" : ", dry only"));
                CHECK (wrong == 0);
                CHECK (dry[n] == -7.0f);
                CHECK (input[n] == -7.0f);
            };
            check (pg::detail::sanitiseBaseline);
            check (pg::sanitiseInto);
            if (pg::detail::sanitiseAvx2 != nullptr)
            {
                check (pg::detail::sanitiseAvx2);
                ++checked;
            }
        }
    if (pg::detail::sanitiseAvx2 == nullptr)
        WARN ("this CPU has no AVX2: only the baseline was checked");
    else
        CHECK (checked == 10 * 2);
}
