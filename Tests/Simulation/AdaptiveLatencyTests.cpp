// The latency that follows what it measures, under virtual time: the deterministic strategy's
// auto latency after machine stalls, and the dynamic strategy's against it (DESIGN.md, "The two
// strategies"). The host's side is played by a timer thread that applies the engine's wanted
// latency every 50 ms, as a host that takes changes while playing does.

#include "SimulatedSession.h"

#include <catch2/catch.hpp>

#include <map>

using namespace pgtest;

namespace
{
    constexpr int64_t blockNanos = 2'666'667;

    // Applies what the engine wants: the measured latency (deterministic, auto) or the dynamic one.
    void followWantedLatency (SimulatedSession& s, long blocks)
    {
        s.sim.every (s.sim.now(), 50 * ms, blocks * blockNanos / (50 * ms) + 1, [&s] (long) {
            for (auto& e : s.engines)
            {
                const int wanted = e->getAppliedStrategy() == pg::Strategy::dynamic ? e->getWantedDynamicLatency() : e->getMeasuredLatency();
                if (wanted > 0 && wanted != e->getLatencySamples())
                    e->requestLatency (wanted);
            }
        });
    }

    SessionConfig cheapChunks (pg::Strategy strategy)
    {
        SessionConfig c;
        c.latency = 480; // auto's starting point: the 10 ms minimum
        c.strategy = strategy;
        c.costs = [] (int) {
            DspCosts d;
            d.chunk = [] (long, int) { return 100 * us; };
            return d;
        };
        return c;
    }

    // Dropout episodes (runs of blocks with dropouts) that begin in [from, to), from the per-block counts.
    int episodesBetween (const std::vector<uint64_t>& perBlock, long from, long to)
    {
        int n = 0;
        for (long b = std::max (1L, from); b < std::min<long> (to, static_cast<long> (perBlock.size())); ++b)
            n += (perBlock[static_cast<size_t> (b)] > perBlock[static_cast<size_t> (b - 1)] && (b < 2 || perBlock[static_cast<size_t> (b - 1)] == perBlock[static_cast<size_t> (b - 2)]))
                     ? 1
                     : 0;
        return n;
    }
} // namespace

TEST_CASE ("Simulation: auto latency covers a replayed stall trace after at most one dropout episode per new worst",
           "[sim][latency]")
{
    // Stalls of the whole machine (no pool thread runs), one a second, as a real one has them.
    const std::vector<int64_t> stalls { 3 * ms, 12 * ms, 8 * ms, 20 * ms, 15 * ms, 6 * ms, 30 * ms, 10 * ms, 25 * ms, 29 * ms };
    SimulatedSession s (cheapChunks (pg::Strategy::deterministic));
    const int64_t start = s.sim.now();
    for (size_t i = 0; i < stalls.size(); ++i)
        for (int thread = 0; thread < s.config.poolThreads; ++thread) // (the pool's threads are the first made)
            s.sim.stall (thread, start + static_cast<int64_t> (i + 1) * seconds, start + static_cast<int64_t> (i + 1) * seconds + stalls[i]);

    const long blocks = static_cast<long> (stalls.size() + 2) * 375;
    std::vector<uint64_t> perBlock;
    followWantedLatency (s, blocks);
    s.sim.every (start + blockNanos / 2, blockNanos, blocks, [&] (long) { perBlock.push_back (s.dropouts (0)); });
    s.play (blocks);

    int64_t worst = 0;
    for (size_t i = 0; i < stalls.size(); ++i)
    {
        const long at = static_cast<long> (i + 1) * 375;
        const int episodes = episodesBetween (perBlock, at, at + 375);
        INFO ("stall " << i << ": " << stalls[i] / ms << " ms, worst before " << worst / ms << " ms, L now "
                       << s.engines[0]->getLatencySamples());
        if (stalls[i] <= worst)
            CHECK (episodes == 0); // covered by what the worst before it taught
        else
            CHECK (episodes <= 1);
        worst = std::max (worst, stalls[i]);
    }
    CHECK (s.engines[0]->getLatencySamples() > 480);
}

TEST_CASE ("Simulation: the dynamic latency sits far below the deterministic one for the same workload, and settles",
           "[sim][latency][dynamic]")
{
    // A runtime whose automatic cycle ends in a 12 ms chunk every 256 blocks (deterministic), or
    // whose young collections the engine runs in each chunk's slack (dynamic).
    auto workload = [] (pg::Strategy strategy) {
        auto c = cheapChunks (strategy);
        if (strategy == pg::Strategy::dynamic)
            c.latency = 0; // from the floor up: it grows to what it measures (the profile's start, in the plugin)
        c.costs = [] (int) {
            DspCosts d;
            d.chunk = [] (long, int) { return 100 * us; };
            d.fullCollection = 12 * ms;
            d.collectorStep = 150 * us;
            d.liveBytes = size_t (64) << 20; // (too large to move its cycles: CyclePhases)
            d.cycleChunks = 256;
            return d;
        };
        return c;
    };
    std::map<pg::Strategy, int> settled;
    std::map<pg::Strategy, uint64_t> lateDropouts;
    int dynamicChangesInTheLastHalf = 0;
    for (const auto strategy : { pg::Strategy::deterministic, pg::Strategy::dynamic })
    {
        SimulatedSession s (workload (strategy));
        followWantedLatency (s, 20 * 375);
        s.play (10 * 375);
        const uint64_t warm = s.dropouts (0);
        const int half = s.engines[0]->getLatencySamples();
        s.play (10 * 375);
        settled[strategy] = s.engines[0]->getLatencySamples();
        lateDropouts[strategy] = s.dropouts (0) - warm;
        if (strategy == pg::Strategy::dynamic)
            dynamicChangesInTheLastHalf = settled[strategy] != half ? 1 : 0;
    }
    INFO ("deterministic L " << settled[pg::Strategy::deterministic] << ", dynamic L " << settled[pg::Strategy::dynamic]);
    CHECK (settled[pg::Strategy::deterministic] >= 128 + 12 * 48); // it covers the 12 ms cycle ends
    CHECK (2 * settled[pg::Strategy::dynamic] < settled[pg::Strategy::deterministic]);
    // Its slack is what it measures, not the fixed one: below the deterministic strategy's floor.
    CHECK (settled[pg::Strategy::dynamic] < pg::LatencyEngine::latencyFloorFor (128, 48000.0));
    CHECK (dynamicChangesInTheLastHalf == 0);
    CHECK (lateDropouts[pg::Strategy::deterministic] == 0);
    CHECK (lateDropouts[pg::Strategy::dynamic] == 0);
}

TEST_CASE ("Simulation: the dynamic latency keeps covering a stall for a minute: the same stall again does not drop out; then it lets go",
           "[sim][latency][dynamic]")
{
    // Stalls of the whole machine of 10 ms, 15 s apart: longer than the 10 s after which the
    // latency shrinks to the worst response of its last 10 s.
    auto c = cheapChunks (pg::Strategy::dynamic);
    c.latency = 0; // from the floor up
    c.phraseSeconds = 4.0; // (a silence every 4 s: where it may shrink)
    SimulatedSession s (c);
    const int64_t start = s.sim.now();
    const std::vector<int64_t> at { 5 * seconds, 20 * seconds, 35 * seconds };
    for (const int64_t t : at)
        for (int thread = 0; thread < s.config.poolThreads; ++thread)
            s.sim.stall (thread, start + t, start + t + 10 * ms);

    const long blocks = 110 * 375;
    std::vector<uint64_t> perBlock;
    followWantedLatency (s, blocks);
    std::vector<int> latency;
    s.sim.every (start + blockNanos / 2, blockNanos, blocks, [&] (long) {
        perBlock.push_back (s.dropouts (0));
        latency.push_back (s.engines[0]->getLatencySamples());
    });
    s.play (blocks);

    const int cover = 128 + 48 + 10 * 48; // a block, the 1 ms fade and the stall
    for (size_t i = 0; i < at.size(); ++i)
    {
        const long from = static_cast<long> (at[i] / blockNanos);
        INFO ("stall " << i << " at " << at[i] / seconds << " s, L before it " << latency[static_cast<size_t> (from - 1)] << ", after "
                       << latency[static_cast<size_t> (from + 375)]);
        CHECK (episodesBetween (perBlock, from, from + 375) == (i == 0 ? 1 : 0));
    }
    // The first stall's blocks came too late to be played: their wait, the whole stall, is what
    // the latency grew to cover (1.5 x 10 ms), not the shorter waits of the blocks after them.
    CHECK (latency[static_cast<size_t> (at[0] / blockNanos + 375)] >= 128 + 48 + 720);
    // A minute and the quiet period after the last stall, it covers what it measures again.
    INFO ("L at the end " << s.engines[0]->getLatencySamples() << ", the stall's cover " << cover);
    CHECK (s.engines[0]->getLatencySamples() < cover);
}
