#include "EngineTesting.h"
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
    const std::pair<const char*, float> changes[] = { { ids::latencyMs, 73.5f }, { ids::autoLatency, 1.0f }, { ids::mix, 42.0f }, { ids::bypass, 1.0f }, { ids::drive, 30.0f }, { ids::tone, 12.0f }, { ids::output, -6.5f }, { ids::garbageKb, 300.0f }, { ids::liveHeapMb, 99.0f }, { ids::strategy, 1.0f }, { ids::gcBudgetPct, 10.0f }, { ids::gcIntervalS, 12.0f }, { ids::gcThresholdMb, 100.0f }, { ids::silenceDb, -50.0f }, { ids::silenceHoldMs, 800.0f }, { ids::safetyFactor, 2.5f }, { ids::maxLatencyMs, 42.0f }, { ids::gcPausePct, 400.0f }, { ids::gcStepMulPct, 300.0f }, { ids::latencyWhilePlaying, 1.0f }, { ids::macros[0], 0.1f }, { ids::macros[1], 0.2f }, { ids::macros[2], 0.3f }, { ids::macros[3], 0.4f }, { ids::macros[4], 0.6f }, { ids::macros[5], 0.7f }, { ids::macros[6], 0.8f }, { ids::macros[7], 0.9f } };
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

TEST_CASE ("The state fuzzer's findings: invalid UTF-8 is refused, a mangled PARAM reads back the same",
           "[plugin][state][robustness]")
{
    const auto dir = juce::File (PAUSEGUARD_TESTS_DIR).getChildFile ("Fuzz/regressions");

    // A blob refused whole: the parameters stay as they were.
    const auto refusedWhole = [&dir] (const char* name) {
        INFO (name);
        juce::MemoryBlock blob;
        REQUIRE (dir.getChildFile (name).loadFileAsData (blob));
        PauseGuardProcessor p;
        pgtest::setParam (p, ids::latencyMs, 42.0f);
        const auto before = values (p);
        p.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
        CHECK (values (p) == before);
    };
    // XML text with 0xFF bytes: JUCE's parser would read past the end of its string.
    refusedWhole ("invalid-utf8.state");
    // A second "<?xml" declaration inside an element: JUCE 7.0.5's parser spun on it for minutes
    // (the fuzzer's fifth finding). copyXmlToBinary never writes one: refused at once.
    refusedWhole ("second-declaration.state");

    // <PARAM id="gc_pause_pct" id="macro6" value="0.25"/>: the first id wins, its value is clamped
    // into range (0.25 % -> 100 %), and the state saved afterwards reads back to the same values
    // (handed to JUCE as it came, it did not: the fuzzer's second finding).
    {
        juce::MemoryBlock blob;
        REQUIRE (dir.getChildFile ("duplicate-id.state").loadFileAsData (blob));
        PauseGuardProcessor reference, p;
        p.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
        const auto restored = values (p);
        CHECK (p.getParams().gcPausePct.get() == 100.0f);
        CHECK (p.getParams().drive.get() == 9.0f); // the rest of the blob was read
        CHECK (restored != values (reference));
        juce::MemoryBlock saved;
        p.getStateInformation (saved);
        PauseGuardProcessor again;
        again.setStateInformation (saved.getData(), static_cast<int> (saved.getSize()));
        CHECK (values (again) == restored);
    }

    // profiledLatency="01e38": a count beyond int's range (converting it was undefined behaviour,
    // the fuzzer's third finding) is refused like any other insane figure, and prepare starts at
    // the latency the parameters ask for.
    {
        juce::MemoryBlock blob;
        REQUIRE (dir.getChildFile ("huge-count.state").loadFileAsData (blob));
        PauseGuardProcessor reference, p;
        p.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
        pgtest::setParam (reference, ids::latencyMs, p.getParams().latencyMs.get());
        pgtest::setParam (reference, ids::autoLatency, p.getParams().autoLatency.get() ? 1.0f : 0.0f);
        reference.prepareToPlay (48000.0, 256);
        p.prepareToPlay (48000.0, 256);
        CHECK (p.getLatencySamples() == reference.getLatencySamples());
        p.releaseResources();
        reference.releaseResources();
    }

    // max_latency_ms="11e38000038146973": JUCE's number parser overflowed an int on the exponent
    // (the fourth finding). It is not a number this state can hold: the parameter keeps its default.
    {
        juce::MemoryBlock blob;
        REQUIRE (dir.getChildFile ("long-exponent.state").loadFileAsData (blob));
        PauseGuardProcessor reference, p;
        pgtest::setParam (p, ids::maxLatencyMs, 150.0f);
        p.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
        CHECK (p.getParams().maxLatencyMs.get() == reference.getParams().maxLatencyMs.get());
        CHECK (p.getParams().mix.get() == 25.0f); // the rest of the blob was read
    }
}

TEST_CASE ("A user script travels with the state, and a session without one returns to the built-in effect", "[plugin][state][scripts]")
{
    const auto source = pgtest::readAsset ("Examples/CleanTilt.lua");
    PauseGuardProcessor a;
    a.setScript (source, "CleanTilt.lua");
    juce::MemoryBlock blob;
    a.getStateInformation (blob);

    PauseGuardProcessor b;
    b.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
    CHECK (b.getScriptName() == "CleanTilt.lua");
    CHECK (b.getScriptSource() == juce::String (source));
    b.prepareToPlay (48000.0, 256);
    CHECK (b.getEngine().getScriptName() == "CleanTilt.lua");
    CHECK (b.getEngine().getScriptError().empty());
    const auto macros = b.getEngine().getScriptMacros();
    REQUIRE (macros.size() == 2);
    CHECK (macros[0].name == "tilt");

    // Restoring a session saved with the built-in effect brings the built-in effect back.
    PauseGuardProcessor plain;
    juce::MemoryBlock plainBlob;
    plain.getStateInformation (plainBlob);
    b.setStateInformation (plainBlob.getData(), static_cast<int> (plainBlob.getSize()));
    CHECK (b.getScriptName() == "BuiltinEffect.lua");
}

TEST_CASE ("A watched script file reloads when saved again", "[plugin][scripts]")
{
    PauseGuardProcessor p;
    p.prepareToPlay (48000.0, 128);
    const auto file = juce::File::createTempFile (".lua");
    REQUIRE (file.replaceWithText ("function process(ch, n) for c = 1, #ch do for i = 1, n do ch[c][i] = 0.25 end end end\n"));
    REQUIRE (p.loadScriptFile (file));
    juce::AudioBuffer<float> buffer (2, 128);
    juce::MidiBuffer midi;
    auto runFor = [&] (int blocks) {
        while (pg::EngineTesting::isLoading (p.getEngine())) // the loader thread compiles and warms a script off the worker
            juce::Thread::sleep (1);
        for (int b = 0; b < blocks; ++b)
        {
            buffer.clear();
            p.processBlock (buffer, midi);
            pg::EngineTesting::waitForWorker (p.getEngine(), 5.0);
        }
    };
    runFor (40);
    CHECK (p.getEngine().getScriptName() == file.getFileName().toStdString());
    CHECK (buffer.getSample (0, 127) == 0.25f);

    // Saved again (a newer modification time): the timer picks it up and the worker swaps it in.
    REQUIRE (file.replaceWithText ("function process(ch, n) for c = 1, #ch do for i = 1, n do ch[c][i] = 0.5 end end end\n"));
    file.setLastModificationTime (juce::Time::getCurrentTime() + juce::RelativeTime::seconds (5));
    p.messageThreadTick(); // the processor's timer
    runFor (40);
    CHECK (buffer.getSample (0, 127) == 0.5f);

    // A broken save is reported and does not replace the working script.
    REQUIRE (file.replaceWithText ("function process(ch, n) this is not lua end\n"));
    file.setLastModificationTime (juce::Time::getCurrentTime() + juce::RelativeTime::seconds (10));
    p.messageThreadTick();
    runFor (40);
    p.messageThreadTick();
    CHECK (buffer.getSample (0, 127) == 0.5f);
    bool reported = false;
    for (const auto& line : p.getConsole())
        reported = reported || (line.kind == pg::ConsoleLine::error && juce::String (line.text).contains (":1:"));
    CHECK (reported);
    file.deleteFile();
}
