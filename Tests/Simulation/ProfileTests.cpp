// The auto latency's profile (Profiler.h) under virtual time: a DSP whose chunks and collections
// take known times gives a known latency, however long the machine took to build its heap.

#include "Profiler.h"
#include "SimulatedDsp.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace pgtest;

namespace
{
    pg::ProfileResult profileOf (DspCosts costs, double budgetSeconds)
    {
        Simulation sim;
        SimulatedDsp dsp (sim, std::move (costs));
        pg::ProfileRequest q;
        q.blockSize = q.chunkFrames = 128;
        q.numChannels = 1;
        q.budgetSeconds = budgetSeconds;
        std::atomic<bool> cancel { false };
        return pg::profileScript (dsp, q, {}, cancel);
    }

    DspCosts chunksOf (int64_t chunk, int64_t collection, bool concurrent)
    {
        DspCosts d;
        d.chunk = [chunk] (long, int) { return chunk; };
        d.fullCollection = collection;
        d.concurrent = concurrent;
        return d;
    }
} // namespace

TEST_CASE ("Simulation: the profile's latency covers 2 x the worst pause: a collection scaled for its garbage, or a chunk",
           "[sim][profile]")
{
    // Collections of 4 ms, with up to (200 − 100) % garbage: 8 ms; chunks of 5 ms. L = 128 + 2 × 8 ms.
    const auto r = profileOf (chunksOf (5 * ms, 4 * ms, false), 0.4);
    REQUIRE (r.complete);
    CHECK (r.worstChunkSeconds == Approx (0.005).margin (1.0e-9));
    CHECK (r.worstCollectionSeconds == Approx (0.004).margin (1.0e-9));
    CHECK (r.latencySamples == 128 + 768);
}

TEST_CASE ("Simulation: a profile whose budget went on building the heap still times the chunks (a concurrent runtime's auto latency)",
           "[sim][profile]")
{
    // A runtime that collects concurrently (Go) is covered by its chunks alone: 128 + 2 × 7 ms,
    // above the 10 ms minimum. Building its heap takes longer than the whole budget here.
    const auto r = profileOf (chunksOf (7 * ms, 50 * ms, true), 0.001);
    REQUIRE (r.complete);
    CHECK (r.chunksTimed >= 16);
    CHECK (r.worstChunkSeconds == Approx (0.007).margin (1.0e-9));
    CHECK (std::abs (r.latencySamples - (128 + 672)) <= 1); // (672.000…: the profile rounds up)
}
