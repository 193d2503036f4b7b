// The profiler (Profiler.cpp): the warm-up builds the live heap, the profile measures that heap's
// collections, and its latency follows from its figures within the request's bounds.

#include "ExternalDsp.h"
#include "LuaDsp.h"
#include "Profiler.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>

namespace
{
    // Builds an 8 MB live heap, 256 KB per call (all at once while params.profiling is set), then
    // holds it, making a little garbage each call.
    const char* const heapScript = R"lua(
local live, built = {}, 0
function process(channels, n, params)
    local want = params.profiling == 1 and 32 or 1
    for _ = 1, want do
        if built < 32 then
            built = built + 1
            live[built] = string.rep(string.char(64 + built), 256 * 1024)
        end
    end
    local g = {}
    for i = 1, 64 do g[i] = i end
    for c = 1, #channels do
        local x = channels[c]
        for i = 1, n do x[i] = 0.5 * x[i] end
    end
end
)lua";

    pg::ProfileRequest request()
    {
        pg::ProfileRequest q;
        q.sampleRate = 48000.0;
        q.blockSize = 128;
        q.chunkFrames = 128;
        q.numChannels = 2;
        q.budgetSeconds = 0.3;
        q.minLatencySamples = 304;
        q.minDynamicLatencySamples = 200; // one block + the fade + 0.5 ms
        q.fadeSamples = 48;
        q.maxLatencySamples = 48000;
        return q;
    }

    void load (pg::LuaDsp& dsp, const char* source)
    {
        REQUIRE (dsp.load (source, "profiled.lua"));
        REQUIRE (dsp.prepare (48000.0, 128, 2));
    }

    const std::function<void (pg::Dsp&)> noParameters {};
} // namespace

TEST_CASE ("Profiler: the warm-up builds the script's live heap before anything is measured", "[engine][lua]")
{
    pg::LuaDsp dsp;
    load (dsp, heapScript);
    const size_t before = dsp.heapBytes();
    std::atomic<bool> cancel { false };
    REQUIRE (pg::warmUpScript (dsp, request(), noParameters, cancel));
    CHECK (before < (size_t (1) << 20));
    CHECK (dsp.heapBytes() >= size_t (8) << 20);
}

TEST_CASE ("Profiler: the warm-up then runs the script until its collector has swept a cycle", "[engine][lua]")
{
    // A 2 MB live heap and 64 KB of garbage a chunk. A key only a weak table holds, planted at the
    // first chunk after the heap is built, is gone once a cycle has swept: the next chunk reports
    // it in its first sample.
    const char* const script = R"lua(
local live, built = {}, 0
local probe = setmetatable({}, { __mode = "k" })
local planted = false
function process(channels, n, params)
    for _ = 1, (params.profiling == 1 and 8 or 1) do
        if built < 8 then
            built = built + 1
            live[built] = string.rep(string.char(64 + built), 256 * 1024)
        end
    end
    local garbage = {}
    for i = 1, 4096 do garbage[i] = i end
    if params.profiling ~= 1 and not planted then
        planted = true
        probe[{}] = true
    end
    channels[1][1] = (planted and next(probe) == nil) and 1 or 0
end
)lua";
    pg::LuaDsp dsp;
    load (dsp, script);
    std::atomic<bool> cancel { false };
    REQUIRE (pg::warmUpScript (dsp, request(), noParameters, cancel));
    std::vector<float> l (128, 0.0f), r (128, 0.0f);
    float* ch[] = { l.data(), r.data() };
    REQUIRE (dsp.process (ch, 2, 128));
    CHECK (l[0] == 1.0f);
}

TEST_CASE ("Profiler: a profile is complete, measured on the built heap, and its latency follows from its figures", "[engine][lua]")
{
    pg::LuaDsp dsp;
    load (dsp, heapScript);
    std::atomic<bool> cancel { false };
    const auto q = request();
    const auto r = pg::profileScript (dsp, q, noParameters, cancel);
    REQUIRE (r.complete);
    CHECK (r.heapBytes >= size_t (8) << 20);
    CHECK (r.worstCollectionSeconds > 0.0); // (the chunks' figures may be 0: a slow machine can spend the budget building)
    const double worstPause = std::max (r.worstCollectionSeconds * q.pausePercent / 100.0, r.worstChunkSeconds);
    const int expected = std::max ({ q.blockSize + static_cast<int> (std::ceil (2.0 * worstPause * q.sampleRate)), 480, q.minLatencySamples });
    CHECK (r.latencySamples == std::min (expected, q.maxLatencySamples));
    CHECK (r.dynamicLatencySamples >= q.minDynamicLatencySamples); // the dynamic strategy's own floor
    CHECK (r.dynamicLatencySamples <= q.maxDynamicLatencySamples);
}

TEST_CASE ("Profiler: the latency is clamped to what the engine can hold", "[engine][lua]")
{
    pg::LuaDsp dsp;
    load (dsp, heapScript);
    std::atomic<bool> cancel { false };
    auto q = request();
    q.minLatencySamples = 100;
    q.maxLatencySamples = 200; // below the 10 ms minimum (480 samples)
    const auto r = pg::profileScript (dsp, q, noParameters, cancel);
    REQUIRE (r.complete);
    CHECK (r.latencySamples == 200);
}

TEST_CASE ("Profiler: a cancelled profile, or a script that fails during it, is not complete", "[engine][lua]")
{
    SECTION ("cancelled before it starts")
    {
        pg::LuaDsp dsp;
        load (dsp, heapScript);
        std::atomic<bool> cancel { true };
        const auto t0 = std::chrono::steady_clock::now();
        CHECK_FALSE (pg::profileScript (dsp, request(), noParameters, cancel).complete);
        CHECK_FALSE (pg::warmUpScript (dsp, request(), noParameters, cancel));
        CHECK (std::chrono::steady_clock::now() - t0 < std::chrono::seconds (2));
    }
    SECTION ("a script error after 20 calls")
    {
        pg::LuaDsp dsp;
        load (dsp, R"lua(
local calls = 0
function process(channels, n)
    calls = calls + 1
    if calls > 20 then error("broken after 20 calls") end
end
)lua");
        std::atomic<bool> cancel { false };
        CHECK_FALSE (pg::profileScript (dsp, request(), noParameters, cancel).complete);
    }
}

TEST_CASE ("Profiler: a DSP program's runtime collects concurrently: its auto latency follows its chunks, not its forced collections",
           "[engine][external]")
{
    pg::ExternalDsp dsp;
    pg::ExternalDsp::Options o;
    o.program = { PAUSEGUARD_GO_EXAMPLE, "-live-heap-mb", "8" };
    o.maxChannels = 2;
    o.maxFrames = 128;
    REQUIRE (dsp.start (o));
    REQUIRE (dsp.prepare (48000.0, 128, 2));
    std::atomic<bool> cancel { false };
    const auto q = request();
    const auto r = pg::profileScript (dsp, q, noParameters, cancel);
    REQUIRE (r.complete);
    CHECK (r.worstStepSeconds == 0.0); // no small steps
    CHECK (r.worstCollectionSeconds > 0.0);
    CHECK (r.runtime.reported);
    CHECK (r.runtime.heapBytes >= size_t (8) << 20);
    const int expected = std::max ({ q.blockSize + static_cast<int> (std::ceil (2.0 * r.worstChunkSeconds * q.sampleRate)), 480,
                                     q.minLatencySamples });
    CHECK (r.latencySamples == std::min (expected, q.maxLatencySamples));
}
