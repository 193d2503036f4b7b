// The worker (ChunkWorker.cpp): pauses injected by holding it for a number of blocks.

#include "EngineTesting.h"
#include "EngineHarness.h"
#include "LatencyEngine.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using pgtest::countMisaligned;
using pgtest::delayedAt;
using pgtest::settingsFor;

// ---- pauses, injected: the worker is held for a number of blocks of audio time --------------

namespace
{
    struct HeldRun
    {
        std::vector<std::vector<float>> in, out;
        pg::EngineCounters counters;
        int latency = 0, fade = 0;
    };

    HeldRun runWithPause (size_t holdBlocks, int latency, double seconds)
    {
        pg::LatencyEngine engine;
        REQUIRE (engine.prepare (settingsFor (48000.0, 128, 1), pgtest::simpleScript, "simple.lua", latency));
        HeldRun r;
        r.latency = engine.getLatencySamples();
        r.fade = pg::EngineTesting::getDropoutFadeSamples (engine);
        r.in = pgtest::noise (1, static_cast<size_t> (seconds * 48000.0), 21);
        r.out = pgtest::runWithHeldWorker (engine, r.in, 128, 100, holdBlocks);
        r.counters = engine.getCounters();
        return r;
    }
} // namespace

TEST_CASE ("A worker pause shorter than the slack never reaches the output", "[engine][pauses]")
{
    // Slack = L - one block - the dropout fade's look-ahead (the DSP's own time is nil here, as the
    // worker catches up at once): 960 - 128 - 48 = 784 samples. A worker held for h blocks is heard
    // iff its last held block starts later than the slack: (h - 1) x 128 > 784, so h = 7 is hidden
    // (a 14.7 ms stall past the deadline of the first held block) and h = 8 is not.
    const auto hidden = runWithPause (7, 960, 0.5);
    CHECK (hidden.latency == 960);
    CHECK (hidden.counters.dropoutEvents == 0);
    CHECK (countMisaligned (hidden.in, pgtest::simpleWet (hidden.in), hidden.out, 960, 1.0f) == 0); // identical to pause-free

    const auto heard = runWithPause (8, 960, 0.5);
    CHECK (heard.counters.dropoutEvents > 0); // so the bound above is exact, not loose
}

TEST_CASE ("A worker pause longer than the slack: a fade to dry fills the gap, then alignment is exact again", "[engine][pauses]")
{
    const auto r = runWithPause (50, 480, 1.0); // 133 ms held
    const int latency = r.latency;
    CHECK (r.counters.dropoutEvents > 0);
    CHECK (r.counters.dropoutFrames >= static_cast<uint64_t> (50 * 128 - latency - 256));

    const auto wet = pgtest::simpleWet (r.in);
    size_t dryFrames = 0, fadeFrames = 0, lastDry = 0, outside = 0;
    for (size_t n = 0; n < r.out[0].size(); ++n)
    {
        const float w = delayedAt (wet[0], n, latency), d = delayedAt (r.in[0], n, latency);
        const float y = r.out[0][n];
        if (y == w)
            continue;
        if (y == d)
        {
            ++dryFrames;
            lastDry = n;
            continue;
        }
        // Inside a fade, the output is between the wet and the dry signal at n - L: nothing
        // shifted, no hole. (After skipped input, the effect's one-sample memory holds the last
        // input it saw, so its first wet sample is off; it is still the sample at n - L.)
        if (y < std::min (w, d) - 1.0e-6f || y > std::max (w, d) + 1.0e-6f)
            ++outside;
        ++fadeFrames;
    }
    WARN ("dry frames " << dryFrames << ", fade frames " << fadeFrames << ", dropout frames counted " << r.counters.dropoutFrames);
    CHECK (dryFrames <= r.counters.dropoutFrames);
    CHECK (outside <= r.counters.dropoutEvents);
    CHECK (fadeFrames <= static_cast<size_t> (2 * r.fade + 2)); // one fade out, one fade in
    CHECK (fadeFrames >= static_cast<size_t> (r.fade)); // and there is a fade, not a cut
    CHECK (lastDry < r.out[0].size() - 24000); // aligned (wet) again well before the end
    for (size_t n = r.out[0].size() - 24000; n < r.out[0].size(); ++n)
        REQUIRE (r.out[0][n] == delayedAt (wet[0], n, latency));
}

TEST_CASE ("A worker stalled for seconds: no backlog is played late", "[engine][pauses]")
{
    const auto r = runWithPause (560, 480, 3.0); // 1.5 s held
    CHECK (r.counters.dropoutFrames >= static_cast<uint64_t> (1.4 * 48000));
    CHECK (r.counters.skippedFrames > 0);
    const auto wet = pgtest::simpleWet (r.in);
    for (size_t n = r.out[0].size() - 24000; n < r.out[0].size(); ++n)
        REQUIRE (r.out[0][n] == delayedAt (wet[0], n, r.latency));
}
