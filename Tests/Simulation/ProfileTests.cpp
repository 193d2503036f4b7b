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

TEST_CASE ("Simulation: the profile times the script, not the machine's load: a stall of the profiling thread is not a pause",
           "[sim][profile]")
{
    // Chunks of 0.5 ms and collections of 1 ms (2 ms with their garbage): L = 128 + 2 × 2 ms, below
    // the 10 ms minimum. The profiling thread (the loader, at normal priority) is preempted for
    // 20 ms in the middle of a chunk, as a busy machine does: the pool's real-time threads, which
    // run the script later, would not have been. Counted, it would give 128 + 2 × 20.5 ms.
    Simulation sim;
    SimulatedDsp dsp (sim, chunksOf (500 * us, 1 * ms, false));
    pg::ProfileRequest q;
    q.blockSize = q.chunkFrames = 128;
    q.numChannels = 1;
    q.budgetSeconds = 0.4;
    std::atomic<bool> cancel { false };
    pg::ProfileResult r;
    const int loader = sim.every (sim.now(), seconds, 1, [&] (long) { r = pg::profileScript (dsp, q, {}, cancel); });
    sim.stall (loader, sim.now() + 100 * ms + 250 * us, sim.now() + 120 * ms + 250 * us);
    sim.runFor (5 * seconds);
    REQUIRE (r.complete);
    CHECK (r.worstChunkSeconds == Approx (0.0005).margin (1.0e-9));
    CHECK (r.latencySamples == 480);
}
