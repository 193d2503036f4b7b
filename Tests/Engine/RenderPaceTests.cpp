// RenderPace (Source/Engine/RenderPace.h): a host that calls much faster than real time is
// rendering, whatever it says. Driven in virtual time: every call's times are given.

#include "RenderPace.h"

#include <catch2/catch.hpp>

#include <cstdint>

namespace
{
    constexpr double rate = 48000.0;
    constexpr int64_t periodNanos (int frames) { return static_cast<int64_t> (frames * 1.0e9 / rate); }

    // Calls `blocks` blocks of `frames`; each spends `insideNanos` in the call, and the host waits
    // `outsideNanos` before the next. Returns whether the last call found the host rendering.
    bool drive (pg::RenderPace& pace, int64_t& now, int blocks, int frames, int64_t insideNanos, int64_t outsideNanos)
    {
        bool rendering = false;
        for (int i = 0; i < blocks; ++i)
        {
            rendering = pace.onBlockStart (now, frames);
            now += insideNanos;
            pace.onBlockEnd (now);
            now += outsideNanos;
        }
        return rendering;
    }
} // namespace

TEST_CASE ("RenderPace: a host that plays waits for its device; one that renders calls again at once", "[engine][render]")
{
    pg::RenderPace pace;
    pace.reset (rate, 8192, 128);
    int64_t now = 1'000'000'000;
    // Real time, 128-frame blocks, the plug-in taking 40 % of each period.
    CHECK_FALSE (drive (pace, now, 200, 128, periodNanos (128) * 4 / 10, periodNanos (128) * 6 / 10));
    // The same host renders: its next call comes 2 % of a period after the last returned.
    CHECK (drive (pace, now, 20, 128, periodNanos (128) / 10, periodNanos (128) / 50));
    // A render whose worker is slower than real time: the calls take long, the host none.
    CHECK (drive (pace, now, 100, 128, periodNanos (128) * 3, periodNanos (128) / 50));
    // Back to real time.
    CHECK_FALSE (drive (pace, now, 40, 128, periodNanos (128) / 10, periodNanos (128) * 9 / 10));
}

TEST_CASE ("RenderPace: a render is found from its second block", "[engine][render]")
{
    pg::RenderPace pace;
    pace.reset (rate, 8192, 1024);
    int64_t now = 0;
    CHECK_FALSE (pace.hasDecided());
    CHECK_FALSE (pace.onBlockStart (now, 1024)); // the first call: nothing to compare yet
    CHECK_FALSE (pace.hasDecided()); // (a warming worker waits for the verdict: ChunkWorker.cpp)
    pace.onBlockEnd (now += 1000);
    CHECK (pace.onBlockStart (now += 1000, 1024));
    CHECK (pace.hasDecided());
    pace.reset (rate, 8192, 1024); // prepare again: nothing decided
    CHECK_FALSE (pace.hasDecided());
}

TEST_CASE ("RenderPace: a host that splits each period into back-to-back calls still plays", "[engine][render]")
{
    // Ardour splits a cycle at automation points: four calls of 256 frames, one after another,
    // then it waits for the next period of 1024.
    pg::RenderPace pace;
    pace.reset (rate, 8192, 1024);
    int64_t now = 0;
    bool rendering = false;
    for (int period = 0; period < 100; ++period)
    {
        const int64_t start = now;
        for (int part = 0; part < 4; ++part)
        {
            rendering = rendering || pace.onBlockStart (now, 256);
            now += periodNanos (256) / 20;
            pace.onBlockEnd (now);
            now += 2000; // the host's own work between the calls
        }
        now = start + periodNanos (1024);
    }
    CHECK_FALSE (rendering);
}

TEST_CASE ("RenderPace: a host late by a stall catches up and still plays", "[engine][render]")
{
    pg::RenderPace pace;
    pace.reset (rate, 8192, 128);
    int64_t now = 0;
    CHECK_FALSE (drive (pace, now, 50, 256, periodNanos (256) / 10, periodNanos (256) * 9 / 10));
    now += 100'000'000; // 100 ms descheduled, then ten blocks back to back to catch up
    CHECK_FALSE (drive (pace, now, 10, 256, periodNanos (256) / 10, 1000));
    CHECK_FALSE (drive (pace, now, 50, 256, periodNanos (256) / 10, periodNanos (256) * 9 / 10));
}

TEST_CASE ("RenderPace: a block longer than any real-time host sends is a render by itself", "[engine][render]")
{
    pg::RenderPace pace;
    pace.reset (rate, 8192, 128);
    CHECK_FALSE (pace.onBlockStart (0, 8192));
    pace.reset (rate, 8192, 128);
    CHECK (pace.onBlockStart (0, 8193));
    CHECK (pace.hasDecided());
}

TEST_CASE ("RenderPace: a host that announced such blocks renders from its first block, until its pace says it plays", "[engine][render]")
{
    pg::RenderPace pace;
    pace.reset (rate, 8192, 1048576); // Audacity's announced maximum
    CHECK (pace.hasDecided());
    int64_t now = 0;
    CHECK (pace.onBlockStart (now, 1024));
    pace.onBlockEnd (now += 1000);
    now += periodNanos (1024);
    CHECK (drive (pace, now, 5, 1024, periodNanos (1024) / 10, 1000));
    CHECK_FALSE (drive (pace, now, 20, 1024, periodNanos (1024) / 10, periodNanos (1024) * 9 / 10));
}

TEST_CASE ("RenderPace: a rendering host whose thread the machine stalls still renders", "[engine][render]")
{
    // Audacity's apply: 8192-frame blocks about 1 ms apart, announced 1,048,576. Beside two
    // compilers its thread once waited 89 ms between two blocks, more than half of a block's
    // 171 ms: that one wait made it a player, and the block went dry.
    pg::RenderPace pace;
    pace.reset (rate, 8192, 1048576);
    int64_t now = 0;
    const int64_t inside = 5'000'000, between = 1'000'000;
    const auto block = [&] (int64_t waitBefore) {
        now += waitBefore;
        const bool r = pace.onBlockStart (now, 8192);
        pace.onBlockEnd (now += inside);
        return r;
    };
    CHECK (block (0));
    CHECK (block (89'000'000)); // the second block: the window holds this wait alone
    for (int i = 0; i < 5; ++i)
        CHECK (block (between));
    CHECK (block (150'000'000)); // later, a longer one
    // Two in a row, early in a render: still a render.
    pace.reset (rate, 8192, 1048576);
    CHECK (block (0));
    CHECK (block (89'000'000));
    CHECK (block (89'000'000));
    for (int i = 0; i < 20; ++i)
        CHECK (block (between));
    // A host that waits for a device at this block size plays again, once it has waited three times.
    bool rendering = true;
    int blocksToPlay = 0;
    for (; blocksToPlay < 20 && rendering; ++blocksToPlay)
        rendering = block (periodNanos (8192) - inside);
    CHECK_FALSE (rendering);
    CHECK (blocksToPlay == 9); // as before this rule: the window still holds the render's short waits
}
