// What hosts and validators do to a plugin, on purpose: the processor must take all of it.

#include "EngineTesting.h"
#include "PluginEditor.h"
#include "PluginHarness.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <malloc.h>
#include <thread>

using pauseguard::PauseGuardProcessor;
namespace ids = pauseguard::ParamIDs;

namespace
{
    size_t threadCount()
    {
        size_t n = 0;
        for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator ("/proc/self/task"))
            ++n;
        return n;
    }

    size_t heapInUse() { return mallinfo2().uordblks; }

    void prepareLayout (PauseGuardProcessor& p, double rate, int block, int channels)
    {
        const auto set = channels == 1 ? juce::AudioChannelSet::mono() : juce::AudioChannelSet::stereo();
        juce::AudioProcessor::BusesLayout layout;
        layout.inputBuses.add (set);
        layout.outputBuses.add (set);
        REQUIRE (p.setBusesLayout (layout));
        p.setRateAndBufferSizeDetails (rate, block);
        p.prepareToPlay (rate, block);
    }

    // After all the abuse: mix 0, the dry signal delayed by exactly the reported latency.
    void checkStillAligned (PauseGuardProcessor& p)
    {
        prepareLayout (p, 48000.0, 256, 2);
        pgtest::setParam (p, ids::mix, 0.0f);
        pgtest::setParam (p, ids::bypass, 0.0f);
        const int latency = p.getLatencySamples();
        CHECK (latency == p.getEngine().getLatencySamples());
        const auto in = pgtest::noise (2, 24000, 77);
        const auto out = pgtest::runProcessor (p, in, [] { return 256; });
        size_t bad = 0;
        for (size_t c = 0; c < 2; ++c)
            for (size_t n = static_cast<size_t> (latency) + 256; n < out[c].size(); ++n)
                bad += out[c][n] != pgtest::delayedAt (in[c], n, latency) ? 1u : 0u;
        CHECK (bad == 0);
    }

    void processRandomBlocks (PauseGuardProcessor& p, juce::Random& rng, int blocks, int maxBlock, int channels)
    {
        juce::MidiBuffer midi;
        for (int b = 0; b < blocks; ++b)
        {
            const int n = rng.nextInt ({ 1, maxBlock * 2 }); // sometimes larger than prepared
            juce::AudioBuffer<float> buffer (channels, n);
            for (int c = 0; c < channels; ++c)
                for (int i = 0; i < n; ++i)
                    buffer.setSample (c, i, rng.nextFloat() * 2.0f - 1.0f);
            p.processBlock (buffer, midi);
            for (int c = 0; c < channels; ++c)
                for (int i = 0; i < n; ++i)
                    REQUIRE (std::isfinite (buffer.getSample (c, i)));
        }
    }
} // namespace

TEST_CASE ("Abuse: 100 prepare/process/release cycles at random rates and block sizes", "[plugin][abuse]")
{
    const auto threadsBefore = threadCount();
    {
        PauseGuardProcessor p;
        juce::Random rng (2024);
        const double rates[] = { 22050.0, 44100.0, 48000.0, 88200.0, 96000.0, 176400.0, 192000.0 };
        for (int cycle = 0; cycle < 100; ++cycle)
        {
            const double rate = rates[rng.nextInt (7)];
            const int block = rng.nextInt ({ 1, 4097 });
            const int channels = rng.nextBool() ? 2 : 1;
            prepareLayout (p, rate, block, channels);
            REQUIRE (p.getLatencySamples() == std::max (juce::roundToInt (0.02 * rate), pg::LatencyEngine::latencyFloorFor (block, rate)));
            processRandomBlocks (p, rng, rng.nextInt ({ 1, 12 }), std::min (block, 512), channels);
            p.releaseResources();
        }
        checkStillAligned (p);
    }
    CHECK (threadCount() == threadsBefore);
}

TEST_CASE ("Abuse: parameters changed from another thread, state saved and restored, while processing", "[plugin][abuse]")
{
    PauseGuardProcessor p;
    prepareLayout (p, 48000.0, 256, 2);
    std::atomic<bool> stop { false };
    std::atomic<int> restores { 0 };

    std::thread automation ([&] {
        juce::Random rng (5);
        auto params = p.getParameters();
        while (! stop.load())
        {
            auto* param = params[rng.nextInt (params.size())];
            param->setValueNotifyingHost (rng.nextFloat());
            std::this_thread::sleep_for (std::chrono::microseconds (200));
        }
    });
    std::thread sessions ([&] {
        juce::MemoryBlock blob;
        for (int i = 0; i < 100; ++i)
        {
            p.getStateInformation (blob);
            p.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
            restores.fetch_add (1);
            std::this_thread::sleep_for (std::chrono::milliseconds (1));
        }
    });

    juce::Random rng (9);
    juce::MidiBuffer midi;
    juce::AudioBuffer<float> buffer (2, 256);
    while (restores.load() < 100)
    {
        for (int c = 0; c < 2; ++c)
            for (int i = 0; i < 256; ++i)
                buffer.setSample (c, i, rng.nextFloat() - 0.5f);
        p.processBlock (buffer, midi);
        for (int i = 0; i < 256; ++i)
            REQUIRE (std::isfinite (buffer.getSample (0, i)));
        p.applyPendingLatencyChange(); // the message thread keeps applying what automation asks for
    }
    sessions.join();
    stop.store (true);
    automation.join();
    CHECK (restores.load() == 100);

    // Back to known values, then exact again.
    pgtest::setParam (p, ids::strategy, 0.0f);
    pgtest::setParam (p, ids::autoLatency, 0.0f);
    pgtest::setParam (p, ids::latencyMs, 20.0f);
    checkStillAligned (p);
}

TEST_CASE ("Abuse: the editor created and destroyed while audio runs", "[plugin][abuse][gui]")
{
    PauseGuardProcessor p;
    prepareLayout (p, 48000.0, 128, 2);
    std::atomic<bool> stop { false };
    std::thread audio ([&] {
        juce::MidiBuffer midi;
        juce::AudioBuffer<float> buffer (2, 128);
        while (! stop.load())
        {
            buffer.clear();
            buffer.setSample (0, 0, 0.5f);
            p.processBlock (buffer, midi);
            std::this_thread::sleep_for (std::chrono::microseconds (500));
        }
    });
    for (int i = 0; i < 20; ++i)
    {
        std::unique_ptr<juce::AudioProcessorEditor> editor (p.createEditorIfNeeded());
        REQUIRE (editor != nullptr);
        editor->setSize (900 + i * 10, 700);
        juce::Image image (juce::Image::ARGB, editor->getWidth(), editor->getHeight(), true);
        juce::Graphics g (image);
        editor->paintEntireComponent (g, true);
        p.editorBeingDeleted (editor.get());
    }
    stop.store (true);
    audio.join();
    CHECK (p.getActiveEditor() == nullptr);
}

TEST_CASE ("Abuse: 16 instances processing at once on the shared worker pool", "[plugin][abuse]")
{
    const auto threadsBefore = threadCount();
    const auto heapBefore = heapInUse();
    {
        std::vector<std::unique_ptr<PauseGuardProcessor>> instances;
        for (int i = 0; i < 16; ++i)
        {
            instances.push_back (std::make_unique<PauseGuardProcessor>());
            prepareLayout (*instances.back(), 48000.0, 128, 2);
            pgtest::setParam (*instances.back(), ids::mix, 0.0f);
        }
        CHECK (threadCount() >= threadsBefore + 16); // a loader thread each (the worker pool is shared)

        std::vector<std::thread> hosts;
        std::atomic<int> misaligned { 0 };
        for (int t = 0; t < 4; ++t)
            hosts.emplace_back ([&, t] {
                for (int i = t; i < 16; i += 4)
                {
                    const auto in = pgtest::noise (2, 9600, static_cast<unsigned> (i));
                    const auto out = pgtest::runProcessor (*instances[static_cast<size_t> (i)], in, [] { return 128; });
                    for (size_t n = 960 + 128; n < out[0].size(); ++n)
                        misaligned += out[0][n] != pgtest::delayedAt (in[0], n, 960) ? 1 : 0;
                }
            });
        for (auto& h : hosts)
            h.join();
        CHECK (misaligned.load() == 0);
    }
    CHECK (threadCount() == threadsBefore);
    // Memory back to baseline, give or take the allocator's own bookkeeping.
    const auto heapAfter = heapInUse();
    CHECK (heapAfter < heapBefore + (4u << 20));
}

TEST_CASE ("Abuse: bypass toggled every block keeps the latency and stays finite", "[plugin][abuse]")
{
    PauseGuardProcessor p;
    prepareLayout (p, 48000.0, 128, 2);
    juce::MidiBuffer midi;
    juce::AudioBuffer<float> buffer (2, 128);
    juce::Random rng (3);
    for (int b = 0; b < 2000; ++b)
    {
        pgtest::setParam (p, ids::bypass, (b % 2) != 0 ? 1.0f : 0.0f);
        for (int c = 0; c < 2; ++c)
            for (int i = 0; i < 128; ++i)
                buffer.setSample (c, i, rng.nextFloat() - 0.5f);
        if (b % 3 == 0)
            p.processBlockBypassed (buffer, midi);
        else
            p.processBlock (buffer, midi);
        for (int i = 0; i < 128; ++i)
            REQUIRE (std::isfinite (buffer.getSample (1, i)));
        REQUIRE (p.getLatencySamples() == 960);
    }
    checkStillAligned (p);
}

TEST_CASE ("Bad input: denormals, a minute of silence, full-scale noise, out-of-range parameters, layout changes", "[plugin][robustness]")
{
    PauseGuardProcessor p;
    prepareLayout (p, 48000.0, 512, 2);
    juce::MidiBuffer midi;
    juce::AudioBuffer<float> buffer (2, 512);

    SECTION ("denormal input: finite output, no denormals out")
    {
        for (int b = 0; b < 200; ++b)
        {
            for (int c = 0; c < 2; ++c)
                for (int i = 0; i < 512; ++i)
                    buffer.setSample (c, i, (i % 2 ? 1.0e-39f : -1.0e-40f));
            p.processBlock (buffer, midi);
            pg::EngineTesting::waitForWorker (p.getEngine(), 5.0);
            for (int i = 0; i < 512; ++i)
            {
                const float v = buffer.getSample (0, i);
                REQUIRE (std::isfinite (v));
                REQUIRE (std::fpclassify (v) != FP_SUBNORMAL);
            }
        }
    }
    SECTION ("a minute of silence: silence out, no dropouts, the heap bounded")
    {
        size_t maxHeap = 0;
        for (int b = 0; b < 48000 * 60 / 512; ++b)
        {
            buffer.clear();
            p.processBlock (buffer, midi);
            pg::EngineTesting::waitForWorker (p.getEngine(), 5.0);
            REQUIRE (buffer.getMagnitude (0, 512) < 1.0e-6f);
            maxHeap = std::max<size_t> (maxHeap, p.getEngine().getCounters().heapBytes);
        }
        CHECK (p.getEngine().getCounters().dropoutEvents == 0);
        CHECK (maxHeap < (64u << 20));
    }
    SECTION ("full-scale noise: bounded output")
    {
        pgtest::setParam (p, ids::drive, 36.0f);
        pgtest::setParam (p, ids::output, 12.0f);
        juce::Random rng (1);
        float peak = 0.0f;
        for (int b = 0; b < 400; ++b)
        {
            for (int c = 0; c < 2; ++c)
                for (int i = 0; i < 512; ++i)
                    buffer.setSample (c, i, rng.nextBool() ? 1.0f : -1.0f);
            p.processBlock (buffer, midi);
            pg::EngineTesting::waitForWorker (p.getEngine(), 5.0);
            peak = std::max (peak, buffer.getMagnitude (0, 512));
        }
        CHECK (std::isfinite (peak));
        CHECK (peak < 8.0f);
    }
    SECTION ("parameter values outside their range are clamped")
    {
        // A host may send any float. Ranged parameters clamp it; a bool reads it as on (>= 0.5) or
        // off. Either way the value the plugin uses, and the one it saves, is in range.
        for (auto* param : p.getParameters())
        {
            INFO (param->getName (64));
            param->setValueNotifyingHost (7.5f);
            if (auto* b = dynamic_cast<juce::AudioParameterBool*> (param))
                CHECK (b->get());
            else
                CHECK (param->getValue() == 1.0f);
            param->setValueNotifyingHost (-3.0f);
            if (auto* b = dynamic_cast<juce::AudioParameterBool*> (param))
                CHECK_FALSE (b->get());
            else
                CHECK (param->getValue() == 0.0f);
        }
        const auto saved = p.getState().copyState();
        for (const auto& child : saved)
            if (auto* param = p.getState().getParameter (child.getProperty ("id").toString()))
            {
                const float v = child.getProperty ("value");
                const auto range = p.getState().getParameterRange (param->paramID);
                CHECK (v >= range.start);
                CHECK (v <= range.end);
            }
        CHECK (p.getParams().latencyMs.get() >= 1.0f);
        p.applyPendingLatencyChange();
        CHECK (p.getLatencySamples() >= 48);
    }
    SECTION ("mono to stereo and back between prepares")
    {
        for (int channels : { 1, 2, 1, 2 })
        {
            prepareLayout (p, 48000.0, 256, channels);
            juce::Random rng (channels);
            processRandomBlocks (p, rng, 20, 256, channels);
        }
        checkStillAligned (p);
    }
}

TEST_CASE ("Bad state: 20000 mutations of a valid blob never crash and never leave values out of range", "[plugin][state][robustness]")
{
    PauseGuardProcessor reference;
    pgtest::setParam (reference, ids::latencyMs, 33.0f);
    juce::MemoryBlock good;
    reference.getStateInformation (good);
    juce::Random rng (31337);
    PauseGuardProcessor p;
    for (int i = 0; i < 20000; ++i)
    {
        juce::MemoryBlock blob (good);
        const int edits = rng.nextInt ({ 1, 8 });
        for (int e = 0; e < edits; ++e)
        {
            const auto at = static_cast<size_t> (rng.nextInt (static_cast<int> (blob.getSize())));
            switch (rng.nextInt (3))
            {
                case 0:
                    blob[at] = static_cast<char> (rng.nextInt (256));
                    break;
                case 1:
                    blob.setSize (at, false);
                    break; // truncate
                default:
                    blob.insert ("\"<&>\0", 5, at);
                    break;
            }
            if (blob.getSize() == 0)
                break;
        }
        p.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
    }
    for (auto* param : p.getParameters())
    {
        CHECK (param->getValue() >= 0.0f);
        CHECK (param->getValue() <= 1.0f);
    }
}
