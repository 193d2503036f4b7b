#include "Stats.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

TEST_CASE ("DurationHistogram percentiles are within one bin of the exact value", "[engine][stats]")
{
    std::mt19937 rng (7);
    std::lognormal_distribution<double> d (std::log (2.0e-3), 0.8);
    pg::DurationHistogram h;
    std::vector<double> xs;
    for (int i = 0; i < 20000; ++i)
    {
        const double x = d (rng);
        xs.push_back (x);
        h.add (x);
    }
    std::sort (xs.begin(), xs.end());
    const auto s = h.snapshot();
    CHECK (s.count == xs.size());
    CHECK (s.maxSeconds == xs.back());
    const double binRatio = std::pow (10.0, 1.0 / pg::DurationHistogram::binsPerDecade);
    for (double q : { 0.5, 0.99, 0.999 })
    {
        const double exact = xs[static_cast<size_t> (std::ceil (q * static_cast<double> (xs.size()))) - 1];
        const double est = s.percentile (q);
        CHECK (est >= exact);
        CHECK (est <= exact * binRatio * 1.0000001);
    }
}
