#pragma once

// The auto latency's profile: how long a script and its collector can pause. No JUCE here.
//
// It runs on a loader thread, on a Dsp of its own (never the one the worker plays), so that
// neither the host's thread nor the worker waits for it.

#include "EngineTypes.h"
#include "Dsp.h"

#include <atomic>
#include <functional>

namespace pg
{
    struct ProfileRequest
    {
        double sampleRate = 48000.0;
        int blockSize = 512; // the host's block
        int chunkFrames = 512; // the worker's largest chunk
        int numChannels = 2;
        int pausePercent = 200, stepMultiplierPercent = 100; // the deterministic pacing
        double budgetSeconds = 0.4;
        double safetyFactor = 1.5; // the dynamic strategy's
        int minLatencySamples = 0; // the latency floor
        int minDynamicLatencySamples = 0; // the dynamic strategy's (its slack follows what is measured)
        int fadeSamples = 0; // the dropout fade's look-ahead
        int maxLatencySamples = 48000; // what the engine can hold
        int maxDynamicLatencySamples = 4800;
    };

    // Loader thread. Runs the script on a test tone until its live heap stops growing (scripts may
    // read params.profiling to build it faster meanwhile), with the collector stopped, so that the
    // worker does not build it in its first chunks. Then runs it with its automatic collector until
    // two cycles have swept: the first cycle after a heap is built allocates into memory the heap never
    // used, at about 1.6x the chunk cost of the cycles after it (half a second of 1.6x chunks at
    // 40 instances started together): for a heap of 1 MB or more, for at most a second of audio.
    // Both within the request's budget. Returns false if the script failed or was cancelled.
    bool warmUpScript (Dsp& dsp, const ProfileRequest& request, const std::function<void (Dsp&)>& pushParameters,
                       const std::atomic<bool>& cancel);

    // Loader thread. Builds the script's live heap (warmUpScript), runs it with its automatic collector until two
    // cycles have finished, runs it as the dynamic strategy does (generational, stopped), then times
    // three forced full collections. The auto latency hides the worst chunk and, for a runtime that
    // does not collect concurrently (Lua), the worst forced full collection. `pushParameters` gives
    // the script the host's parameters before each chunk; `cancel` ends the profile early (the
    // result is then not complete).
    ProfileResult profileScript (Dsp& dsp, const ProfileRequest& request,
                                 const std::function<void (Dsp&)>& pushParameters,
                                 const std::atomic<bool>& cancel);
} // namespace pg
