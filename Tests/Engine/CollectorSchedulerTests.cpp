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
    pg::AdapterSettings s;
    s.blockSize = 128;
    s.sampleRate = 48000.0;
    s.safetyFactor = 1.5;
    s.gridSamples = 32;
    s.maxLatencySamples = 4800;
    s.quietSeconds = 10.0;
    s.windowSeconds = 8.0;

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
