#include "PluginHarness.h"

#include <catch2/catch.hpp>

using pauseguard::PauseGuardProcessor;
namespace ids = pauseguard::ParamIDs;

namespace
{
    std::map<juce::String, float> values (PauseGuardProcessor& p)
    {
        std::map<juce::String, float> v;
        for (auto* param : p.getParameters())
            if (auto* withId = dynamic_cast<juce::AudioProcessorParameterWithID*> (param))
                v[withId->paramID] = param->getValue();
        return v;
    }
} // namespace

TEST_CASE ("State round-trips every parameter", "[plugin][state]")
{
    PauseGuardProcessor a;
    const std::pair<const char*, float> changes[] = { { ids::latencyMs, 73.5f }, { ids::autoLatency, 1.0f }, { ids::mix, 42.0f },
                                                      { ids::bypass, 1.0f },     { ids::drive, 30.0f },      { ids::tone, 12.0f },
                                                      { ids::output, -6.5f },    { ids::garbageKb, 300.0f }, { ids::liveHeapMb, 99.0f },
                                                      { ids::strategy, 1.0f },   { ids::gcBudgetPct, 10.0f }, { ids::gcIntervalS, 12.0f },
                                                      { ids::gcThresholdMb, 100.0f }, { ids::silenceDb, -50.0f }, { ids::silenceHoldMs, 800.0f },
                                                      { ids::safetyFactor, 2.5f }, { ids::maxLatencyMs, 42.0f }, { ids::gcPausePct, 400.0f },
                                                      { ids::gcStepMulPct, 300.0f } };
    for (const auto& [id, v] : changes)
        pgtest::setParam (a, id, v);
    REQUIRE (values (a).size() == std::size (changes)); // every parameter is in the list
    for (const auto& [id, v] : changes)
        REQUIRE (a.getState().getParameter (id)->getValue() != a.getState().getParameter (id)->getDefaultValue());

    juce::MemoryBlock blob;
    a.getStateInformation (blob);
    PauseGuardProcessor b;
    b.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
    CHECK (values (a) == values (b));
    CHECK (b.getParams().latencyMs.get() == Approx (73.5f).margin (0.05f));
}

TEST_CASE ("Corrupt, foreign, truncated or future state leaves the current values and no crash", "[plugin][state]")
{
    PauseGuardProcessor reference;
    juce::MemoryBlock good;
    reference.getStateInformation (good);
    const auto defaults = values (reference);

    std::vector<juce::MemoryBlock> blobs;
    blobs.emplace_back(); // empty
    blobs.emplace_back (good.getData(), good.getSize() / 2); // truncated
    {
        juce::MemoryBlock random (4096);
        juce::Random rng (99);
        for (size_t i = 0; i < random.getSize(); ++i)
            random[i] = static_cast<char> (rng.nextInt (256));
        blobs.push_back (random);
    }
    {
        juce::MemoryBlock foreign;
        juce::AudioProcessor::copyXmlToBinary (juce::XmlElement ("SomeOtherPlugin"), foreign);
        blobs.push_back (foreign);
    }
    for (const auto& blob : blobs)
    {
        PauseGuardProcessor p;
        p.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
        CHECK (values (p) == defaults);
    }

    SECTION ("a future version's state: known parameters are read, unknown ones ignored, out-of-range clamped")
    {
        auto xml = juce::AudioProcessor::getXmlFromBinary (good.getData(), static_cast<int> (good.getSize()));
        REQUIRE (xml != nullptr);
        xml->setAttribute ("pauseguardStateVersion", 99);
        auto* unknown = xml->createNewChildElement ("PARAM");
        unknown->setAttribute ("id", "from_the_future");
        unknown->setAttribute ("value", 3.0);
        for (auto* e : xml->getChildIterator())
            if (e->getStringAttribute ("id") == ids::latencyMs)
                e->setAttribute ("value", 5000.0); // far outside 1..200 ms
        juce::MemoryBlock future;
        juce::AudioProcessor::copyXmlToBinary (*xml, future);
        PauseGuardProcessor p;
        p.setStateInformation (future.getData(), static_cast<int> (future.getSize()));
        CHECK (p.getParams().latencyMs.get() <= 200.0f);
        CHECK (p.getParams().latencyMs.get() >= 1.0f);
    }
}
