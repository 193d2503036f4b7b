// The Standalone app with no audio device (Source/Plugin/DevicelessDriver.h): a timer drives the
// processor with its demo signal, the editor says no device is open, and a device takes over.
// Every wait polls with a generous bound: nothing here depends on a quiet machine.

#include "EngineTesting.h"
#include "PluginEditor.h"
#include "PluginHarness.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

using pauseguard::PauseGuardProcessor;

namespace
{
    bool waitUntil (const std::function<bool()>& condition, double seconds = 10.0)
    {
        const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double> (seconds);
        while (! condition())
        {
            if (std::chrono::steady_clock::now() > end)
                return false;
            std::this_thread::sleep_for (std::chrono::milliseconds (5));
        }
        return true;
    }

    std::unique_ptr<PauseGuardProcessor> standaloneProcessor()
    {
        juce::AudioProcessor::setTypeOfNextNewPlugin (juce::AudioProcessor::wrapperType_Standalone);
        auto p = std::make_unique<PauseGuardProcessor>();
        juce::AudioProcessor::setTypeOfNextNewPlugin (juce::AudioProcessor::wrapperType_Undefined);
        return p;
    }
} // namespace

TEST_CASE ("Standalone with no audio device: a timer drives the processor with its demo signal; a device takes over", "[plugin][standalone]")
{
    auto p = standaloneProcessor();
    auto& engine = p->getEngine();

    // No host calls: the timer prepares the processor and plays the demo through the engine.
    REQUIRE (waitUntil ([&] { return p->isDrivenWithoutDevice() && engine.getCounters().chunksProcessed > 50; }));
    CHECK (engine.getSampleRate() == pauseguard::DevicelessDriver::sampleRate);
    CHECK (p->getLatencySamples() == 960);
    CHECK (engine.getCounters().heapBytes > 0);
    {
        std::unique_ptr<juce::AudioProcessorEditor> editor (p->createEditorIfNeeded());
        auto* ours = dynamic_cast<pauseguard::PauseGuardEditor*> (editor.get());
        REQUIRE (ours != nullptr);
        ours->refresh();
        CHECK (ours->isShowingNoDeviceNote());
    }

    // A device opens: its prepare takes over (the timer stops driving), and only its blocks play.
    p->setRateAndBufferSizeDetails (44100.0, 256);
    p->prepareToPlay (44100.0, 256);
    CHECK_FALSE (p->isDrivenWithoutDevice());
    CHECK (engine.getSampleRate() == 44100.0);
    juce::AudioBuffer<float> buffer (2, 256);
    juce::MidiBuffer midi;
    for (int b = 0; b < 100; ++b) // 0.58 s of the device's blocks, at its pace
    {
        buffer.clear();
        p->processBlock (buffer, midi);
        std::this_thread::sleep_for (std::chrono::microseconds (5805));
    }
    CHECK_FALSE (p->isDrivenWithoutDevice());
    pg::EngineTesting::waitForWorker (engine, 10.0);
    CHECK (engine.getCounters().framesProcessed <= 100u * 256u); // the device's blocks, none of the timer's
    {
        std::unique_ptr<juce::AudioProcessorEditor> editor (p->createEditorIfNeeded());
        auto* ours = dynamic_cast<pauseguard::PauseGuardEditor*> (editor.get());
        ours->refresh();
        CHECK_FALSE (ours->isShowingNoDeviceNote());
    }

    // The device closes: after its silence, the timer drives again.
    p->releaseResources();
    REQUIRE (waitUntil ([&] { return p->isDrivenWithoutDevice() && engine.isPrepared(); }));
    CHECK (engine.getSampleRate() == pauseguard::DevicelessDriver::sampleRate);
}

TEST_CASE ("A plug-in (not the Standalone app) is never driven by a timer", "[plugin][standalone]")
{
    PauseGuardProcessor p;
    std::this_thread::sleep_for (std::chrono::milliseconds (400));
    CHECK_FALSE (p.isDrivenWithoutDevice());
    CHECK_FALSE (p.getEngine().isPrepared());
}
