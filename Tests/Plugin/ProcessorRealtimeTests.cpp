#include "PluginHarness.h"

#include <catch2/catch.hpp>

#if PAUSEGUARD_HAVE_RT_AUDIT
#include "RealtimeAudit.h"

using pauseguard::PauseGuardProcessor;

TEST_CASE ("PauseGuardProcessor::processBlock makes no allocation, lock or wait", "[plugin][realtime]")
{
    REQUIRE (pgtest::auditIsLive());
    PauseGuardProcessor p;
    p.prepareToPlay (48000.0, 256);
    juce::AudioBuffer<float> buffer (2, 256);
    juce::MidiBuffer midi;
    auto* mix = p.getState().getParameter (pauseguard::ParamIDs::mix);

    auto block = [&] (int n, bool bypassed) {
        buffer.setSize (2, n, false, false, true);
        for (int c = 0; c < 2; ++c)
            for (int i = 0; i < n; ++i)
                buffer.setSample (c, i, std::sin (0.01f * static_cast<float> (i + c)));
        pgtest::ScopedRealtimeAudit audit;
        if (bypassed)
            p.processBlockBypassed (buffer, midi);
        else
            p.processBlock (buffer, midi);
        return audit.counts();
    };

    pgtest::AuditCounts normal, underrun;
    for (int b = 0; b < 300; ++b)
    {
        if (b == 100)
            mix->setValue (0.3f); // parameter changes on the way
        const auto c = block (b % 7 == 0 ? 1 : 256, b % 50 == 0);
        normal.allocations += c.allocations;
        normal.locks += c.locks + c.waits + c.frees;
        p.getEngine().waitForWorker (5.0);
    }
    p.getEngine().injectWorkerPause (0.15);
    for (int b = 0; b < 200; ++b)
    {
        const auto c = block (256, false);
        underrun.allocations += c.allocations;
        underrun.locks += c.locks + c.waits + c.frees;
    }
    CHECK (p.getEngine().getCounters().dropoutEvents > 0); // the underrun path did run
    CHECK (normal.allocations == 0);
    CHECK (normal.locks == 0);
    CHECK (underrun.allocations == 0);
    CHECK (underrun.locks == 0);
}
#endif
