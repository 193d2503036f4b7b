// ParameterPush: the audio thread passes a parameter on to the engine only when it changed.

#include "ParameterPush.h"
#include "PluginHarness.h"

#include <catch2/catch.hpp>

using pauseguard::ParameterPush;
namespace ids = pauseguard::ParamIDs;

TEST_CASE ("ParameterPush: every value first, then only what changed, and everything again when asked", "[plugin][push]")
{
    pauseguard::PauseGuardProcessor p; // its parameters
    pg::LatencyEngine engine;
    std::array<int, ParameterPush::scriptParameterCount> indices {};
    for (size_t i = 0; i < indices.size(); ++i)
        indices[i] = engine.addScriptParameter (("p" + std::to_string (i)).c_str(), 0.0f);
    ParameterPush push;

    // mix, output, 12 script values, pacing, dynamic settings, bypass, offline
    constexpr int everything = 2 + 12 + 1 + 1 + 1 + 1;
    CHECK (push.push (p.getParams(), indices, engine, false, false) == everything);
    for (int block = 0; block < 100; ++block)
        REQUIRE (push.push (p.getParams(), indices, engine, false, false) == 0);

    pgtest::setParam (p, ids::mix, 40.0f);
    CHECK (push.push (p.getParams(), indices, engine, false, false) == 1);
    pgtest::setParam (p, ids::macros[7], 0.25f);
    pgtest::setParam (p, ids::output, -6.0f);
    CHECK (push.push (p.getParams(), indices, engine, false, false) == 2);
    pgtest::setParam (p, ids::silenceDb, -50.0f);
    CHECK (push.push (p.getParams(), indices, engine, false, false) == 1); // the dynamic settings, as one
    CHECK (push.push (p.getParams(), indices, engine, true, false) == 1);
    CHECK (push.push (p.getParams(), indices, engine, true, true) == 1);
    CHECK (push.push (p.getParams(), indices, engine, true, true) == 0);

    push.pushEverythingNext(); // as prepare does: it set the engine from another thread
    CHECK (push.push (p.getParams(), indices, engine, true, true) == everything);
    CHECK (push.push (p.getParams(), indices, engine, true, true) == 0);
}
