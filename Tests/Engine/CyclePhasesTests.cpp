// CyclePhases (the deterministic strategy's cycles spread in time), fed heaps as Lua's incremental
// collector makes them: a sawtooth whose fall takes two chunks and whose low point varies a little.

#include "CyclePhases.h"

#include <catch2/catch.hpp>

#include <cmath>

namespace
{
    constexpr double chunk = 128.0 / 48000.0;
    constexpr size_t MB = size_t (1) << 20;

    // Runs an instance of `rank` for `seconds`: its heap grows 4 MB over `cycleChunks` chunks, then
    // falls, in turn over two chunks to 4 MB + 32 KB and in one to 4 MB; a move restarts the
    // cycle. Returns the moves.
    int run (pg::CyclePhases& p, int rank, long cycleChunks, double seconds, double start = 100.0)
    {
        p.reset (rank, 4 * MB, 200, start);
        int moves = 0;
        long inCycle = 0;
        bool twoChunkFall = true;
        size_t low = 4 * MB; // where the heap grows from: the last fall's low point
        for (long k = 1; k * chunk < seconds; ++k)
        {
            const double t = start + static_cast<double> (k) * chunk;
            size_t heap = low + static_cast<size_t> (inCycle) * 4 * MB / static_cast<size_t> (cycleChunks);
            if (inCycle == cycleChunks && twoChunkFall)
                heap = 5 * MB + 200'000; // the fall's first chunk
            else if (inCycle >= cycleChunks)
            {
                // All the way down: in two chunks to a little above the lowest yet, or in one below it.
                heap = low = twoChunkFall ? 4 * MB + 32'000 : 4 * MB;
                twoChunkFall = ! twoChunkFall;
                inCycle = -1;
            }
            ++inCycle;
            if (p.afterChunk (heap, t))
            {
                ++moves;
                inCycle = 0;
                p.collected (low, t);
            }
        }
        return moves;
    }
} // namespace

TEST_CASE ("CyclePhases: the period is measured, and a cycle is moved once, not chased", "[engine][phases]")
{
    pg::CyclePhases p;
    const int moves = run (p, 3, 148, 60.0);
    CHECK (p.periodSeconds() == Approx (149 * chunk).epsilon (0.02)); // (the fall's second chunk is part of a cycle)
    CHECK (moves >= 1);
    INFO ("moves: " << moves);
    CHECK (moves <= 3); // the first (from the estimate), and a correction or two while the period is learned
}

TEST_CASE ("CyclePhases: ranks get phases spread over the period", "[engine][phases]")
{
    std::vector<double> phases;
    for (int r = 0; r < 8; ++r)
        phases.push_back (pg::CyclePhases::phaseOf (r));
    std::sort (phases.begin(), phases.end());
    for (size_t i = 1; i < phases.size(); ++i)
        CHECK (phases[i] - phases[i - 1] > 0.05); // none in step with another
}

TEST_CASE ("CyclePhases: a heap too large to move is left alone", "[engine][phases]")
{
    pg::CyclePhases p;
    p.reset (1, 64 * MB, 200, 0.0);
    int moves = 0;
    for (int k = 1; k < 20000; ++k)
        moves += p.afterChunk (64 * MB + static_cast<size_t> (k % 300) * 200'000, k * chunk) ? 1 : 0;
    CHECK (moves == 0);
}
