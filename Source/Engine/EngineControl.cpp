// EngineControl: prepare and release across the parts, the latency's floor and clamp, and the
// statistics as one snapshot (see EngineControl.h).

#include "EngineControl.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace pg
{
    EngineControl::EngineControl() = default;

    EngineControl::~EngineControl()
    {
        chunkWorker.stop(); // first: the worker hands retired DSPs to the loader, which frees them as it stops
        dspSupervisor.shutdown();
    }

    // The settings as the engine runs them: channels, block and rate in range, and room for twice
    // the floor's latency whatever the caller asked (a latency below the floor cannot be met).
    void EngineControl::normalise (const EngineSettings& asked)
    {
        settings = asked;
        settings.numChannels = std::clamp (settings.numChannels, 1, AudioSide::maxChannels);
        settings.maxBlockSize = std::clamp (settings.maxBlockSize, 1, AudioSide::maxBufferedBlock); // sizes the buffers only
        settings.sampleRate = settings.sampleRate > 0.0 ? settings.sampleRate : 48000.0;
        settings.maxLatencySeconds = std::max (settings.maxLatencySeconds,
                                               2.0 * latencyFloorFor (settings.maxBlockSize, settings.sampleRate) / settings.sampleRate);
        chunkMax = std::max (settings.maxBlockSize, 32);
    }

    bool EngineControl::prepare (const EngineSettings& newSettings, std::string_view scriptSource, std::string_view scriptName,
                                 int latencySamples, bool profileIt, double profileBudgetSeconds)
    {
        audioSide.leaveAudioThread();
        chunkWorker.stop();
        dspSupervisor.cancelJobs();
        dspSupervisor.choose (newSettings.dspProgram);
        normalise (newSettings);
        audioSide.prepare (settings, newSettings.maxBlockSize, chunkMax);
        chunkWorker.prepare (settings.numChannels, chunkMax);
        clearStatistics(); // every part's counters and histograms

        std::string name;
        bool ok = dspSupervisor.startDsp (scriptSource, scriptName, name);
        const Strategy strategy = adaptiveCollector.prepare(); // the dynamic strategy starts from L, then adapts
        if (ok)
        {
            adaptiveCollector.configureCollector (strategy);
            ok = dspSupervisor.dsp().isReady(); // (a program that died or refused on its way in is not)
        }
        dspSupervisor.started (ok, name);

        const int provisional = static_cast<int> (std::ceil (0.010 * settings.sampleRate));
        const int latency = clampLatency (latencySamples >= 0 ? latencySamples : provisional);
        audioSide.startAt (latency);
        adaptiveCollector.start (latency, dspSupervisor.dsp().heapBytes());

        auto job = dspSupervisor.warmUpJob (scriptSource, scriptName, ok, profileIt, profileBudgetSeconds);
        chunkWorker.start();
        audioSide.open();
        if (job)
            dspSupervisor.submit (std::move (*job));
        return ok;
    }

    void EngineControl::release()
    {
        audioSide.leaveAudioThread();
        chunkWorker.stop();
        dspSupervisor.release();
    }

    int EngineControl::latencyFloorFor (int blockSize, double sampleRate) noexcept
    {
        const int block = std::max (1, blockSize);
        const int slack = static_cast<int> (std::ceil (0.002 * sampleRate)) + block / 4;
        return block + AudioSide::fadeSamplesFor (sampleRate) + slack;
    }

    int EngineControl::measuredFloorFor (int blockSize, double sampleRate) noexcept
    {
        return std::max (1, blockSize) + AudioSide::fadeSamplesFor (sampleRate) + static_cast<int> (std::ceil (0.0005 * sampleRate));
    }

    int EngineControl::getMeasuredFloor() const noexcept { return measuredFloorFor (audioSide.getLargestBlock(), settings.sampleRate); }

    int EngineControl::getLatencyFloor() const noexcept
    {
        return adaptiveCollector.getAppliedStrategy() == Strategy::dynamic ? getMeasuredFloor() : getFixedFloor();
    }

    int EngineControl::getFixedFloor() const noexcept { return latencyFloorFor (audioSide.getLargestBlock(), settings.sampleRate); }

    int EngineControl::clampLatency (int samples) const noexcept
    {
        const auto maxLatency = static_cast<int> (std::ceil (settings.maxLatencySeconds * settings.sampleRate));
        return std::clamp (samples, std::min (getLatencyFloor(), maxLatency), maxLatency);
    }

    void EngineControl::requestLatency (int samples) noexcept
    {
        audioSide.requestLatency (clampLatency (samples));
    }

    EngineCounters EngineControl::getCounters() const noexcept
    {
        EngineCounters c;
        audioSide.addCountersTo (c);
        chunkWorker.addCountersTo (c);
        adaptiveCollector.addCountersTo (c);
        dspSupervisor.addCountersTo (c);
        return c;
    }

    void EngineControl::clearStatistics() noexcept
    {
        audioSide.clearCounters();
        chunkWorker.clearCounters();
        adaptiveCollector.clearCounters();
    }
} // namespace pg
