// The engine's promises about time (DESIGN.md, items 2, 3 and 8), proven under virtual time: the
// real engine and pool, a simulated DSP and clock (Tests/Support/Simulation.h). Exact, and
// independent of the machine's load.

#include "EngineTesting.h"
#include "SimulatedSession.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace pgtest;

namespace
{
    constexpr int block = 128, latency = 960, fade = 48; // 48 kHz: the dropout fade is 1 ms
    constexpr int slackSamples = latency - block - fade; // DESIGN.md item 2, before the DSP's own time
    constexpr int64_t chunkCost = 50 * us;

    int64_t samplesToNanos (int n) { return static_cast<int64_t> (n) * 1'000'000'000 / 48'000; }

    // How much of the wet signal out[n] holds: out = a·wet + (1 − a)·dry at n − L. NaN where wet
    // and dry are too close to tell.
    double wetShare (const SimulatedSession& s, long n)
    {
        const double dry = s.input (0, n - latency), wet = s.expectedWet (0, n, latency);
        if (std::abs (wet - dry) < 0.05)
            return std::nan ("");
        return (s.out[0][static_cast<size_t> (n)] - dry) / (wet - dry);
    }

    // A session of one instance whose worker is paused for `pause` at 1 s, played for 2 s.
    SimulatedSession& pausedOnce (SimulatedSession& s, int64_t pause)
    {
        s.play (375); // 1 s
        pg::EngineTesting::injectWorkerPause (*s.engines[0], static_cast<double> (pause) * 1.0e-9);
        s.play (375);
        return s;
    }

    SessionConfig oneInstance()
    {
        SessionConfig c;
        c.costs = [] (int) {
            DspCosts d;
            d.chunk = [] (long, int) { return chunkCost; };
            return d;
        };
        return c;
    }
} // namespace

TEST_CASE ("Simulation: a pause shorter than the slack never reaches the output", "[sim][promise]")
{
    SimulatedSession s (oneInstance());
    pausedOnce (s, samplesToNanos (slackSamples) - chunkCost - 600 * us); // (a napping thread may take 0.5 ms to look)
    REQUIRE (s.engines[0]->getLatencySamples() == latency);
    CHECK (s.dropouts (0) == 0);
    long wrong = 0;
    for (long n = 0; n < static_cast<long> (s.out[0].size()); ++n)
        wrong += s.out[0][static_cast<size_t> (n)] != s.expectedWet (0, n, latency) ? 1 : 0;
    CHECK (wrong == 0); // every sample, exactly: out[n] = wet[n − L]
}

TEST_CASE ("Simulation: a pause longer than the slack is the delayed dry signal, counted, and never shifted", "[sim][promise]")
{
    SimulatedSession s (oneInstance());
    pausedOnce (s, 2 * samplesToNanos (latency));
    CHECK (s.dropouts (0) > 0);
    const auto missing = s.engines[0]->getCounters().dropoutFrames;
    CHECK (missing >= static_cast<uint64_t> (latency)); // (the pause outlasts L: a whole L of it at least)

    // Every sample is a blend of wet and dry at n − L (never another time), all dry where the
    // worker had nothing, and exactly wet again afterwards.
    long outOfRange = 0, dry = 0, wetAfter = 0, notWetAfter = 0;
    const long end = static_cast<long> (s.out[0].size());
    for (long n = latency; n < end; ++n)
    {
        const double a = wetShare (s, n);
        if (std::isnan (a))
            continue;
        outOfRange += (a < -1.0e-4 || a > 1.0 + 1.0e-4) ? 1 : 0;
        dry += std::abs (a) < 1.0e-4 ? 1 : 0;
    }
    for (long n = end - 48000 / 2; n < end; ++n) // the last half second
        (s.out[0][static_cast<size_t> (n)] == s.expectedWet (0, n, latency) ? wetAfter : notWetAfter)++;
    CHECK (outOfRange == 0);
    CHECK (dry > 0);
    CHECK (notWetAfter == 0);
    CHECK (wetAfter == 24000);
}

TEST_CASE ("Simulation: a dropout never clicks: the switch to dry and back is a 1 ms fade", "[sim][promise]")
{
    SimulatedSession s (oneInstance());
    pausedOnce (s, 2 * samplesToNanos (latency));
    REQUIRE (s.dropouts (0) > 0);
    // The wet share moves by at most 1/fade a sample (where it can be told), so the output never
    // steps further than the signal itself plus that fade's step.
    double steepest = 0.0, previous = std::nan (""), settled = 1.0;
    int fadesOut = 0, fadesIn = 0;
    for (long n = latency; n < static_cast<long> (s.out[0].size()); ++n)
    {
        const double a = wetShare (s, n);
        if (! std::isnan (a) && ! std::isnan (previous))
            steepest = std::max (steepest, std::abs (a - previous));
        previous = a;
        if (std::isnan (a))
            continue;
        if (settled == 1.0 && a < 1.0e-4)
            ++fadesOut, settled = 0.0; // all wet, then all dry
        else if (settled == 0.0 && a > 1.0 - 1.0e-4)
            ++fadesIn, settled = 1.0; // and back
    }
    CHECK (steepest <= 1.0 / fade + 1.0e-3);
    CHECK (fadesOut >= 1);
    CHECK (fadesIn >= 1);
}

TEST_CASE ("Simulation: the auto latency's rule hides forced full collections: L = one block + 2 x the worst pause", "[sim][promise]")
{
    // Full collections of 8 ms, forced every half second; L as the profile sets it from them.
    auto c = oneInstance();
    c.latency = block + 2 * 8 * 48;
    c.costs = [] (int) {
        DspCosts d;
        d.chunk = [] (long, int) { return chunkCost; };
        d.fullCollection = 8 * ms;
        d.liveBytes = size_t (64) << 20; // (not a heap whose cycles the engine moves: CyclePhases.h)
        return d;
    };
    SimulatedSession s (c);
    for (int k = 0; k < 8; ++k)
    {
        pg::EngineTesting::requestFullCollection (*s.engines[0]);
        s.play (188);
    }
    CHECK (s.engines[0]->getCounters().fullCollections == 8);
    CHECK (s.engines[0]->getPauseHistogram().maxSeconds == Approx (0.008).margin (1.0e-9));
    CHECK (s.dropouts (0) == 0);
    long wrong = 0;
    for (long n = 0; n < static_cast<long> (s.out[0].size()); ++n)
        wrong += s.out[0][static_cast<size_t> (n)] != s.expectedWet (0, n, c.latency) ? 1 : 0;
    CHECK (wrong == 0);
}

TEST_CASE ("Simulation: a latency that grows after a stall plays what the worker made before it; only the skipped input is dry",
           "[sim][promise]")
{
    // The worker stops for 2 L at 1 s. When it runs again, the input the audio thread has played
    // meanwhile is skipped. Then L grows to 200 ms, as the auto and dynamic latencies do after a
    // stall: the output reaches back past the stall, to what the worker made before it.
    SimulatedSession s (oneInstance());
    s.play (375); // 1 s
    pg::EngineTesting::injectWorkerPause (*s.engines[0], 2.0 * latency / 48000.0);
    s.play (30); // the stall, and the worker running again
    const auto skipped = s.engines[0]->getCounters().skippedFrames;
    REQUIRE (skipped > 0);
    constexpr int grown = 9600;
    const long grownAt = static_cast<long> (s.out[0].size());
    s.engines[0]->requestLatency (grown);
    s.play (75); // 0.2 s
    REQUIRE (s.engines[0]->getLatencySamples() == grown);

    // From 50 ms after the change (the latency crossfade's longest), sample by sample at the new L:
    // wet up to a fade before the stall, dry only around the skipped input, and wet after it.
    constexpr long stall = 48000; // the first input the worker had not taken when it stopped
    long wetBefore = 0, notWetBefore = 0, dryFrames = 0, wetAfter = 0;
    for (long n = grownAt + 2400; n < static_cast<long> (s.out[0].size()); ++n)
    {
        const long at = n - grown;
        const float o = s.out[0][static_cast<size_t> (n)];
        const bool wet = o == s.expectedWet (0, n, grown);
        if (at < stall - fade)
            (wet ? wetBefore : notWetBefore)++;
        dryFrames += o == s.input (0, at) && ! wet ? 1 : 0;
        wetAfter += at > stall + static_cast<long> (skipped) + 2 * fade && wet ? 1 : 0;
    }
    CHECK (wetBefore > 2000);
    CHECK (notWetBefore == 0);
    CHECK (dryFrames > 0);
    CHECK (dryFrames <= static_cast<long> (skipped));
    CHECK (wetAfter > 2000);
}
