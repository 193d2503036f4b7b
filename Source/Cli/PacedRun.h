#pragma once

// Processors run at real-time pace by a simulated audio callback, as a host would.

#include "Options.h"
#include "Summary.h"
#include "Trace/DropoutCauses.h"

#include <chrono>

namespace pauseguard::cli
{
    using Clock = std::chrono::steady_clock;

    // The calling thread at an audio priority (SCHED_FIFO where allowed; quietly normal elsewhere).
    void raiseToAudioPriority();

    // What the shared worker pool did during a paced run.
    struct PoolFigures
    {
        pg::DurationHistogram::Snapshot callback, wakeLate; // the simulated callback's own figures
        // A bare engine (a script that does nothing) on the same pool and callback: its response
        // times are what the machine itself adds to a block. floor = block + their p99.9.
        pg::DurationHistogram::Snapshot bareResponse;
        int floorSamples = 0;
        int threads = 0;
        double meanLoadPercent = 0.0, maxLoadPercent = 0.0; // summed over the threads: 100 = one core
        pg::trace::CauseCounts causes; // every dropout of the processors, by cause (from the trace)
        // From the trace: an instance's mean pool CPU (100 = a core), the longest time input waited
        // while no pool thread ran nor meant to nap (RunFigures.h), the longest chunk, and the
        // latency physics allows: one block + the worst stall / (1 − load) (the queue it leaves
        // drains at 1 − load) + the longest chunk.
        double instanceCpuPercent = 0.0, worstStallSeconds = 0.0, largestChunkSeconds = 0.0;
        int physicalFloorSamples = 0;
        // The machine's speed: the bare engine's chunks' CPU time (the same work each chunk), the
        // slowest 5 s's median over the fastest's (RunFigures::slowdown; 0: unknown). Above 1, the
        // machine gave the same work less speed as the run went on: the capacity shrank.
        double machineSlowdown = 0.0;
        // The engine's own cost (EngineCost.h): the pool threads' CPU over the run per instance (less
        // the bare engine's chunks: from the trace, 0 without it), and the script alone for the same
        // blocks (-1: not measured).
        double poolCpuPercentPerInstance = 0.0, scriptAloneCpuPercent = -1.0;
        // Memory: the process's resident growth from before the instances were made to the end of
        // the run, per instance (shared parts, the pool and its trace lanes, included), the script
        // alone's peak heap (the same run as its CPU; 0: not measured), and the engine's buffers.
        double residentMbPerInstance = 0.0, scriptAloneHeapPeakMb = 0.0;
        double preparedMbPerInstance = 0.0; // the engine's own buffers (LatencyEngine::getPreparedBytes)
        int capacityInstances() const { return instanceCpuPercent > 0.0 ? static_cast<int> (100.0 * threads / instanceCpuPercent) : 0; }
        std::vector<pg::trace::DropoutCause> lastCauses; // those still in the trace at the end
    };

    // Runs the processors at real-time pace for `seconds`, as a host's audio callback would: one
    // high-priority thread calls each in turn, every block period. The calling thread plays the
    // message thread (latency changes, progress). `input` feeds every processor; `output` takes
    // the first one's. Returns a summary per processor; poolFigures (if given) gets the pool's.
    std::vector<Summary> runPaced (const std::vector<PauseGuardProcessor*>& ps, const Options& o, double seconds,
                                   const juce::AudioBuffer<float>* input, bool progress,
                                   juce::AudioBuffer<float>* output = nullptr, PoolFigures* poolFigures = nullptr);
    Summary runPaced (PauseGuardProcessor& p, const Options& o, double seconds, const juce::AudioBuffer<float>* input, bool progress,
                      juce::AudioBuffer<float>* output = nullptr);
} // namespace pauseguard::cli
