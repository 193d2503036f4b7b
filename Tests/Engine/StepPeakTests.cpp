#include "StepPeak.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace
{
    // Frame by frame, the decay at every frame: what the grouped variants approximate.
    float exactPeak (const std::vector<float>& x, float before, float peak, float decay)
    {
        for (size_t k = 0; k < x.size(); ++k)
            peak = std::max (peak * decay, std::abs (x[k] - (k == 0 ? before : x[k - 1])));
        return peak;
    }
    // The crossfade's decay at 48 kHz (LatencyCrossfade::prepare), per frame and per group.
    const float decay = static_cast<float> (std::exp2 (-1.0 / (0.05 * 48000.0)));
    const float decayPerGroup = static_cast<float> (std::pow (static_cast<double> (decay), static_cast<double> (pg::stepPeakGroup)));
} // namespace

TEST_CASE ("The step peak: every variant gives the same value, within a group's decay of the exact one", "[crossfade]")
{
    std::mt19937 rng (7);
    std::uniform_real_distribution<float> sample (-1.0f, 1.0f);
    int checked = 0;
    for (const int n : { 1, 7, 15, 16, 17, 31, 32, 100, 127, 128, 129, 512, 777 })
        for (int trial = 0; trial < 20; ++trial)
        {
            // A quiet signal with one large step somewhere (the first frame's included), and a
            // running peak from earlier blocks.
            std::vector<float> x (static_cast<size_t> (n));
            for (auto& v : x)
                v = 0.01f * sample (rng);
            const auto at = static_cast<size_t> (std::uniform_int_distribution<int> (0, n - 1) (rng));
            x[at] += trial % 2 == 0 ? 0.9f : -0.9f;
            const float before = 0.01f * sample (rng), peak = trial % 3 == 0 ? 0.5f : 0.0f;

            const float exact = exactPeak (x, before, peak, decay);
            const float baseline = pg::detail::stepPeakBaseline (x.data(), n, before, peak, decay, decayPerGroup);
            INFO ("n " << n << ", trial " << trial);
            CHECK (baseline >= exact * 0.99999f); // (decay^16 rounded once, against sixteen rounded decays)
            CHECK (baseline <= exact / std::pow (decay, static_cast<float> (pg::stepPeakGroup - 1)) * 1.0001f);
            CHECK (pg::stepPeak (x.data(), n, before, peak, decay, decayPerGroup) == baseline);
            if (pg::detail::stepPeakAvx2 != nullptr)
            {
                CHECK (pg::detail::stepPeakAvx2 (x.data(), n, before, peak, decay, decayPerGroup) == baseline);
                ++checked;
            }
        }
    if (pg::detail::stepPeakAvx2 == nullptr)
        WARN ("this CPU has no AVX2: only the baseline was checked");
    else
        CHECK (checked == 13 * 20);
}

TEST_CASE ("The step peak, copying: every variant copies the frames exactly and gives the plain variant's value", "[crossfade]")
{
    std::mt19937 rng (11);
    std::uniform_real_distribution<float> sample (-1.0f, 1.0f);
    int checked = 0;
    for (const int n : { 1, 7, 15, 16, 17, 31, 32, 33, 47, 48, 100, 127, 128, 129, 512, 777 })
        for (int trial = 0; trial < 10; ++trial)
        {
            std::vector<float> x (static_cast<size_t> (n));
            for (auto& v : x)
                v = (trial % 2 == 0 ? 0.01f : 1.0f) * sample (rng);
            const float before = sample (rng), peak = trial % 3 == 0 ? 0.5f : 0.0f;
            const float plain = pg::detail::stepPeakBaseline (x.data(), n, before, peak, decay, decayPerGroup);
            INFO ("n " << n << ", trial " << trial);
            const auto check = [&] (pg::CopyStepPeakFunction f) {
                std::vector<float> out (static_cast<size_t> (n) + 1, -7.0f); // one past the end: untouched
                CHECK (f (x.data(), out.data(), n, before, peak, decay, decayPerGroup) == plain);
                CHECK (std::equal (x.begin(), x.end(), out.begin()));
                CHECK (out.back() == -7.0f);
            };
            check (pg::detail::copyStepPeakBaseline);
            check (pg::copyStepPeak);
            if (pg::detail::copyStepPeakAvx2 != nullptr)
            {
                check (pg::detail::copyStepPeakAvx2);
                ++checked;
            }
        }
    if (pg::detail::copyStepPeakAvx2 == nullptr)
        WARN ("this CPU has no AVX2: only the baseline was checked");
    else
        CHECK (checked == 16 * 10);
}
