#pragma once

// The Standalone app with no audio device open (none on the machine, or the device closed): a
// timer drives the processor, a 10 ms block every 10 ms tick, so that its demo signal plays through the engine
// and the editor's figures move. A device takes over as soon as the host calls the processor
// (prepareToPlay or processBlock); the timer drives again once the host has been silent 250 ms.

#include <juce_core/juce_core.h>
#include <juce_events/juce_events.h>
#include <juce_audio_basics/juce_audio_basics.h>

#include <atomic>
#include <cstdint>
#include <functional>

namespace pauseguard
{
    class DevicelessDriver : private juce::HighResolutionTimer
    {
    public:
        struct Target
        {
            std::function<bool()> isPrepared; // the processor is ready to process
            std::function<void (double rate, int block)> prepare; // as a host's prepareToPlay
            std::function<void (juce::AudioBuffer<float>&)> process; // as a host's processBlock
        };

        static constexpr double sampleRate = 48000.0;
        static constexpr int blockSize = 480; // 10 ms, one a tick
        static constexpr int64_t hostSilenceNanos = 250'000'000; // the host's silence before the timer drives

        explicit DevicelessDriver (Target target);
        ~DevicelessDriver() override;

        // Audio thread (a host's processBlock), wait-free. Returns false while the timer is inside
        // the processor: the host's block is then silence (the timer stops at its next tick).
        bool hostProcesses() noexcept;
        // Any thread but the timer's (a host's prepareToPlay or releaseResources): waits until the
        // timer is out of the processor, and keeps it out while the host calls.
        void hostPrepares() noexcept;

        // Any thread: the timer is driving the processor (no device is calling it).
        bool isDriving() const noexcept { return driving.load (std::memory_order_relaxed); }

    private:
        void hiResTimerCallback() override;
        bool hostIsCalling() const noexcept;

        Target target;
        juce::AudioBuffer<float> buffer { 2, blockSize }; // the timer's only
        std::atomic<bool> timerInside { false };
        std::atomic<int64_t> lastHostNanos { 0 };
        std::atomic<bool> driving { false };
    };
} // namespace pauseguard
