#pragma once

// The engine behind LatencyEngine: its parts, each owning its state, and the control that
// prepares, releases and configures them (LatencyEngine.h says what each call does). Internal:
// not installed. No JUCE here.
//
//   AudioSide          the audio thread: processBlock, the dry line, the rings' audio ends, fades
//   ChunkWorker        a pool thread: the chunk loop and its measurement
//   AdaptiveCollector  the worker, after each chunk: the collector's schedule, the adaptive latency
//   DspSupervisor      the loader and the worker: the DSP's loads, starts, restarts and state
//
// Threads: prepare(), release() and the setters from the control thread (any one non-audio thread
// at a time); each part's header says which of its calls run where.

#include "AdaptiveCollector.h"
#include "AudioSide.h"
#include "ChunkWorker.h"
#include "DspSupervisor.h"
#include "EngineTypes.h"
#include "Trace/Trace.h"

#include <string_view>

namespace pg
{
    class EngineControl
    {
    public:
        EngineControl();
        ~EngineControl();
        EngineControl (const EngineControl&) = delete;
        EngineControl& operator= (const EngineControl&) = delete;

        // Control thread (LatencyEngine.h).
        bool prepare (const EngineSettings& settings, std::string_view scriptSource, std::string_view scriptName,
                      int latencySamples, bool profile = false, double profileBudgetSeconds = 0.4);
        void release();

        static int latencyFloorFor (int blockSize, double sampleRate) noexcept;
        // The floor where the slack follows what is measured (the dynamic strategy, whose latency
        // is one block + the fade + the safety factor x the responses): one block + the fade + a
        // napping pool thread's wake-up.
        static int measuredFloorFor (int blockSize, double sampleRate) noexcept;
        // The floor of the strategy the worker runs (clampLatency's lower bound).
        int getLatencyFloor() const noexcept;
        int getFixedFloor() const noexcept; // the deterministic strategy's: latencyFloorFor the blocks sent
        int getMeasuredFloor() const noexcept;
        int clampLatency (int samples) const noexcept;
        void requestLatency (int samples) noexcept;

        EngineCounters getCounters() const noexcept;
        // The worker at a reset's next chunk, or prepare with the worker stopped.
        void clearStatistics() noexcept;

        // The settings as prepare normalised them (written only by prepare, with the worker stopped
        // and no audio call inside), and the largest chunk the worker runs.
        const EngineSettings& getSettings() const noexcept { return settings; }
        int getChunkFrames() const noexcept { return chunkMax; }
        int getTraceInstance() const noexcept { return instanceId; } // this engine's number in the trace

        AudioSide& audio() noexcept { return audioSide; }
        const AudioSide& audio() const noexcept { return audioSide; }
        ChunkWorker& worker() noexcept { return chunkWorker; }
        const ChunkWorker& worker() const noexcept { return chunkWorker; }
        AdaptiveCollector& collector() noexcept { return adaptiveCollector; }
        const AdaptiveCollector& collector() const noexcept { return adaptiveCollector; }
        DspSupervisor& supervisor() noexcept { return dspSupervisor; }
        const DspSupervisor& supervisor() const noexcept { return dspSupervisor; }

    private:
        void normalise (const EngineSettings& asked);

        EngineSettings settings;
        int chunkMax = 512;
        const int instanceId = trace::Recorder::global().newInstanceId();

        AudioSide audioSide { instanceId }; // by value: processBlock is one call from the facade, its members together
        AdaptiveCollector adaptiveCollector { *this };
        DspSupervisor dspSupervisor { *this };
        ChunkWorker chunkWorker { *this };
    };
} // namespace pg
