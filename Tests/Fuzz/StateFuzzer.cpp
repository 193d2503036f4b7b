// libFuzzer target: PauseGuardProcessor::setStateInformation with any bytes, on a prepared
// processor whose worker runs (a state that carries a script loads it, as a host's would).
// After each input: every parameter is within its range, the state saves again and reads back to
// the same parameter values, and a block of audio comes out finite. A violation aborts.
//
// Built by the `fuzz` preset (clang, -fsanitize=fuzzer,address,undefined); `.ci/test` runs it for
// a bounded time from the seeds that PAUSEGUARD_FUZZ_SEEDS=<dir> makes it write at start-up.

#include "PluginProcessor.h"

#include <juce_events/juce_events.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace
{
    using pauseguard::PauseGuardProcessor;

    void require (bool condition, const char* what)
    {
        if (! condition)
        {
            std::fprintf (stderr, "state fuzzer: %s\n", what);
            std::abort();
        }
    }

    struct Fixture
    {
        juce::ScopedJuceInitialiser_GUI juce;
        PauseGuardProcessor processor;
        juce::AudioBuffer<float> buffer { 2, 64 };
        juce::MidiBuffer midi;

        Fixture()
        {
            processor.setRateAndBufferSizeDetails (48000.0, 64);
            processor.prepareToPlay (48000.0, 64);
        }
    };

    Fixture& fixture()
    {
        static auto* f = new Fixture(); // lives for the whole run: libFuzzer exits without unwinding
        return *f;
    }

    void writeSeed (const juce::File& dir, const char* name, const juce::MemoryBlock& blob)
    {
        dir.getChildFile (name).replaceWithData (blob.getData(), blob.getSize());
    }

    // Valid states to start from: the defaults, every parameter moved, and one with a user script.
    void writeSeeds (const juce::File& dir)
    {
        dir.createDirectory();
        PauseGuardProcessor p;
        juce::MemoryBlock blob;
        p.getStateInformation (blob);
        writeSeed (dir, "default.state", blob);
        for (auto* param : p.getParameters())
            param->setValueNotifyingHost (0.25f);
        p.getStateInformation (blob);
        writeSeed (dir, "moved.state", blob);
        p.setScript ("macros = { { name = 'gain', min = 0, max = 2 } }\n"
                     "function process(ch, n, p)\n"
                     "  for c = 1, #ch do local x = ch[c] for i = 1, n do x[i] = x[i] * p.gain end end\n"
                     "end\n",
                     "seed.lua");
        p.getStateInformation (blob);
        writeSeed (dir, "script.state", blob);
    }
} // namespace

extern "C" int LLVMFuzzerInitialize (int*, char***)
{
    if (const char* seeds = std::getenv ("PAUSEGUARD_FUZZ_SEEDS"))
    {
        juce::ScopedJuceInitialiser_GUI juce;
        writeSeeds (juce::File (juce::String (seeds)));
    }
    fixture();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput (const uint8_t* data, size_t size)
{
    auto& f = fixture();
    auto& p = f.processor;
    p.setStateInformation (data, static_cast<int> (size));

    const auto params = p.getParameters();
    std::vector<float> values;
    for (auto* param : params)
    {
        const float v = param->getValue();
        require (v >= 0.0f && v <= 1.0f, "a parameter is outside its range after a state restore");
        values.push_back (v);
    }

    // What was restored saves and restores to the same values.
    juce::MemoryBlock saved;
    p.getStateInformation (saved);
    p.setStateInformation (saved.getData(), static_cast<int> (saved.getSize()));
    for (size_t i = 0; i < params.size(); ++i)
    {
        auto* param = params[static_cast<int> (i)];
        if (param->getValue() != values[i])
            std::fprintf (stderr, "state fuzzer: %s was %.9g, reads back as %.9g\n", param->getName (64).toRawUTF8(),
                          static_cast<double> (values[i]), static_cast<double> (param->getValue()));
        require (param->getValue() == values[i], "a saved state does not read back to the same values");
    }

    // The audio keeps flowing and stays finite (the latency may have changed: apply it as the
    // message thread would).
    p.applyPendingLatencyChange();
    for (int c = 0; c < f.buffer.getNumChannels(); ++c)
        for (int i = 0; i < f.buffer.getNumSamples(); ++i)
            f.buffer.setSample (c, i, 0.25f * std::sin (0.05f * static_cast<float> (i)));
    p.processBlock (f.buffer, f.midi);
    for (int c = 0; c < f.buffer.getNumChannels(); ++c)
        for (int i = 0; i < f.buffer.getNumSamples(); ++i)
            require (std::isfinite (f.buffer.getSample (c, i)), "the output is not finite after a state restore");
    p.messageThreadTick(); // frees a script the worker swapped out, drains the console
    return 0;
}
