#include "CollectorScheduler.h"

#include <catch2/catch.hpp>

using pg::CollectorAction;

namespace
{
    constexpr size_t MB = size_t (1) << 20;

    pg::SchedulerInput base()
    {
        pg::SchedulerInput in;
        in.now = 100.0;
        in.chunkSeconds = 128.0 / 48000.0;
        in.heapBytes = 40 * MB;
        in.heapAfterLastFull = 20 * MB; // garbage waiting
        in.lastFullAt = 97.0; // 3 s ago
        in.lastFullSeconds = 0.020;
        in.slackSeconds = 0.002;
        in.transportPlaying = true;
        in.silentSeconds = 0.0;
        return in;
    }

    // The adapter at 48 kHz, 128-sample blocks, a 32-sample grid, 1.5 x the responses, shrinking
    // after 10 s of quiet.
    pg::AdapterSettings adapterAt128 (int fadeSamples, double windowSeconds, double memorySeconds)
    {
        pg::AdapterSettings s;
        s.blockSize = 128;
        s.sampleRate = 48000.0;
        s.safetyFactor = 1.5;
        s.gridSamples = 32;
        s.fadeSamples = fadeSamples;
        s.maxLatencySamples = 4800;
        s.quietSeconds = 10.0;
        s.windowSeconds = windowSeconds;
        s.memorySeconds = memorySeconds;
        return s;
    }
} // namespace

TEST_CASE ("The collector schedule as a pure function of its inputs", "[engine][scheduler]")
{
    pg::SchedulerSettings s; // budget 25 %, interval 5 s, threshold 384 MB, hold 0.25 s, gap 1 s
    struct Row
    {
        const char* what;
        std::function<void (pg::SchedulerInput&)> change;
        CollectorAction expected;
    };
    const Row rows[] = {
        { "playing, loud, interval not elapsed: slices", [] (auto&) {}, CollectorAction::slices },
        { "heap past the threshold: forced, whatever else", [] (auto& in) { in.heapBytes = 400 * MB; in.lastFullAt = 99.9; }, CollectorAction::fullForced },
        { "transport stopped with garbage: full", [] (auto& in) { in.transportPlaying = false; }, CollectorAction::fullTransport },
        { "transport stopped, nothing to free: slices", [] (auto& in) { in.transportPlaying = false; in.heapBytes = 20 * MB + MB; }, CollectorAction::slices },
        { "transport stopped, last full 0.5 s ago: slices", [] (auto& in) { in.transportPlaying = false; in.lastFullAt = 99.5; }, CollectorAction::slices },
        { "silent for the hold time: full", [] (auto& in) { in.silentSeconds = 0.3; }, CollectorAction::fullSilence },
        { "silent, not yet for the hold time: slices", [] (auto& in) { in.silentSeconds = 0.2; }, CollectorAction::slices },
        { "interval elapsed with slack to spare: full", [] (auto& in) { in.lastFullAt = 94.0; in.slackSeconds = 0.040; }, CollectorAction::fullInterval },
        { "interval elapsed, no slack for it: slices", [] (auto& in) { in.lastFullAt = 94.0; in.slackSeconds = 0.025; }, CollectorAction::slices },
    };
    for (const auto& row : rows)
    {
        auto in = base();
        row.change (in);
        INFO (row.what);
        const auto d = pg::CollectorScheduler::decide (in, s);
        CHECK (d.action == row.expected);
        CHECK (d.sliceBudgetSeconds == Approx (0.25 * 128.0 / 48000.0));
    }
}

TEST_CASE ("The adaptive latency grows at once, shrinks only after quiet and at a safe point", "[engine][scheduler]")
{
    const auto s = adapterAt128 (0, 8.0, 8.0); // (the longer memory has a test of its own)

    pg::LatencyAdapter a;
    a.reset (256, 0.0);
    // Responses inside the slack (256 - 128 samples = 2.67 ms): no change.
    for (int i = 0; i < 100; ++i)
        CHECK_FALSE (a.observe (0.002, 0.01 * i, s));

    // A 20 ms stall: 128 + 1.5 * 960 = 1568 samples, on the 32-sample grid.
    CHECK (a.observe (0.020, 1.0, s));
    CHECK (a.wanted() == 1568);
    CHECK (a.wanted() % 32 == 0);
    // A smaller one changes nothing; a huge one is capped.
    CHECK_FALSE (a.observe (0.010, 1.1, s));
    CHECK (a.observe (1.0, 1.2, s));
    CHECK (a.wanted() == 4800);

    // No shrink before the quiet period, nor without a safe point.
    CHECK_FALSE (a.maybeShrink (5.0, true, s));
    for (int i = 0; i < 200; ++i)
        a.observe (0.002, 2.0 + 0.1 * i, s);
    CHECK_FALSE (a.maybeShrink (22.0, false, s));
    // Quiet for 10 s, safe point, the stalls out of the window: back to the recent worst.
    CHECK (a.maybeShrink (22.0, true, s));
    CHECK (a.wanted() == a.latencyFor (0.002, s));
}

TEST_CASE ("The adaptive latency shrinks no lower than 1.25 x the worst response of the last minute",
           "[engine][scheduler]")
{
    const auto s = adapterAt128 (48, 10.0, 60.0);

    pg::LatencyAdapter a;
    a.reset (256, 0.0);
    CHECK (a.observe (0.010, 1.0, s)); // a 10 ms stall
    CHECK (a.wanted() == a.latencyFor (0.010, s)); // with the safety factor
    double t = 1.1;
    const auto quietUntil = [&] (double end) {
        for (; t < end; t += 0.1)
            a.observe (0.001, t, s);
    };
    // Quiet since: down to what covers 1.25 x the stall, not to what the last 10 s saw.
    quietUntil (15.0);
    const int cover = 800; // 128 + 48 + 1.25 x 480, up to the 32-sample grid
    CHECK (a.maybeShrink (15.0, true, s));
    CHECK (a.wanted() == cover);
    quietUntil (40.0);
    CHECK_FALSE (a.maybeShrink (40.0, true, s));
    CHECK (a.wanted() == cover);
    // A minute after it, the stall is forgotten.
    quietUntil (70.0);
    CHECK (a.maybeShrink (70.0, true, s));
    CHECK (a.wanted() == a.latencyFor (0.001, s));
}
