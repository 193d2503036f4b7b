// DESIGN.md item 1 under virtual time: for every host block size from 1 to the prepared maximum,
// in any sequence, out[n] = wet[n − L]·mix + in[n − L]·(1 − mix), exactly, with a real Lua script
// (stateful across chunks) as the DSP. The callback is paced by audio time, the worker on its own.

#include "EngineTesting.h"
#include "EngineHarness.h"
#include "LuaDsp.h"
#include "Simulation.h"
#include "WorkerPool.h"

#include <catch2/catch.hpp>

#include <random>

using namespace pgtest;

namespace
{
    // Plays `in` through an engine, in blocks from `nextBlock`, one callback per block at its
    // audio time, and returns the output.
    std::vector<std::vector<float>> playAligned (double rate, int maxBlock, int latency, float mix,
                                                 const std::vector<std::vector<float>>& in, const std::function<int()>& nextBlock,
                                                 uint64_t& dropouts)
    {
        const int channels = static_cast<int> (in.size());
        auto out = in;
        Simulation sim;
        auto pool = std::make_shared<pg::WorkerPool> (2);
        pg::WorkerPool::replaceShared (pool);
        {
            pg::LatencyEngine engine;
            pg::WorkerPool::replaceShared (nullptr);
            pg::EngineTesting::setDspFactory (engine, [] {
                auto lua = std::make_unique<pg::LuaDsp>();
                lua->load (simpleScript, "simple.lua");
                return lua;
            });
            REQUIRE (engine.prepare (settingsFor (rate, maxBlock, channels), {}, "simple.lua", latency));
            engine.setMix (mix);
            const auto frames = static_cast<long> (in[0].size());
            bool finished = false;
            sim.startThread ([&] {
                const int64_t start = sim.now();
                for (long pos = 0; pos < frames;)
                {
                    const int n = static_cast<int> (std::min<long> (nextBlock(), frames - pos));
                    const auto due = start + static_cast<int64_t> (static_cast<double> (pos) * 1.0e9 / rate);
                    if (due > sim.now())
                        sim.sleepFor (due - sim.now());
                    std::vector<float*> ptrs;
                    for (int c = 0; c < channels; ++c)
                        ptrs.push_back (out[static_cast<size_t> (c)].data() + pos);
                    engine.processBlock (ptrs.data(), channels, n);
                    pos += n;
                }
                finished = true;
            });
            while (! finished)
                sim.runFor (10 * ms);
            dropouts = engine.getCounters().dropoutEvents;
        }
        pool.reset();
        return out;
    }

    std::function<int()> randomBlocks (int maxBlock, unsigned seed)
    {
        auto rng = std::make_shared<std::mt19937> (seed);
        return [rng, maxBlock] {
            const int pick = std::uniform_int_distribution<int> (0, 9) (*rng);
            return pick == 0 ? 1 : (pick == 1 ? maxBlock : std::uniform_int_distribution<int> (1, maxBlock) (*rng));
        };
    }
} // namespace

TEST_CASE ("Simulation: alignment, out[n] = wet[n-L]*mix + in[n-L]*(1-mix) for any block sizes", "[sim][alignment]")
{
    const double rate = GENERATE (44100.0, 48000.0, 96000.0);
    const int channels = GENERATE (1, 2);
    const float mix = GENERATE (1.0f, 0.0f, 0.5f);
    const int maxBlock = 256;
    const int latency = static_cast<int> (0.012 * rate) + 3; // above the floor for 256-sample blocks
    const auto in = noise (channels, 20000, 11);
    const auto wet = simpleWet (in);
    INFO ("rate " << rate << " channels " << channels << " mix " << mix);
    for (int block : { 1, 7, 64, maxBlock })
    {
        uint64_t dropouts = 0;
        const auto out = playAligned (
            rate, maxBlock, latency, mix, in, [block] { return block; }, dropouts);
        INFO ("block " << block);
        CHECK (countMisaligned (in, wet, out, latency, mix) == 0);
        CHECK (dropouts == 0);
    }
    uint64_t dropouts = 0;
    const auto out = playAligned (rate, maxBlock, latency, mix, in, randomBlocks (maxBlock, 5), dropouts);
    CHECK (countMisaligned (in, wet, out, latency, mix) == 0);
    CHECK (dropouts == 0);
}
