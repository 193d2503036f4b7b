#pragma once

// Hooks for tests, simulations and tools (the CLI's bench and soak), kept out of LatencyEngine.h:
// the plugin's audio path never uses them. Internal: not installed. No JUCE here.

#include "Dsp.h"
#include "LatencyEngine.h"

#include <functional>
#include <memory>

namespace pg
{
    class EngineControl;

    class EngineTesting
    {
    public:
        // The engine's parts behind the interface (EngineControl.h).
        static EngineControl& internals (LatencyEngine& engine) noexcept;
        static const EngineControl& internals (const LatencyEngine& engine) noexcept;

        // Control thread, before prepare: the DSP that prepare makes in place of the script (not
        // warmed on the loader). Not with a DSP program.
        static void setDspFactory (LatencyEngine& engine, std::function<std::unique_ptr<Dsp>()> factory);
        // Any thread: the pace of the calls says the host renders (RenderPace.h): isOffline() is true.
        static bool isRenderDetected (const LatencyEngine& engine) noexcept;
        // Any thread: whether the pace of the calls may make it a render (on by default). A
        // simulation that plays real time faster than real time turns it off.
        static void setRenderDetection (LatencyEngine& engine, bool enabled) noexcept;
        // The dropout fade's length (and look-ahead): wet to delayed dry and back, never a hard switch.
        static int getDropoutFadeSamples (const LatencyEngine& engine) noexcept;
        // The longest a latency change's crossfade lasts (nominally a tenth of it: see
        // LatencyCrossfade): from then on the output is exactly at the new L.
        static int getCrossfadeSamples (const LatencyEngine& engine) noexcept;
        // Control thread: true while the loader thread compiles, warms or profiles a script.
        static bool isLoading (const LatencyEngine& engine);
        // Any thread: the loader is building the live heap of the script prepare gave (see
        // LatencyEngine::waitUntilWarm).
        static bool isWarming (const LatencyEngine& engine) noexcept;
        // Worker: run one forced full collection before the next chunk (timed into the pauses).
        static void requestFullCollection (LatencyEngine& engine) noexcept;
        // Worker: sleep this long before the next chunk, once.
        static void injectWorkerPause (LatencyEngine& engine, double seconds) noexcept;
        // Worker: takes no chunk while held (a pause as long as the caller decides, in audio time:
        // deterministic, whatever the machine's load).
        static void holdWorker (LatencyEngine& engine, bool hold) noexcept;
        // Any thread: a DSP program's restart backoff starts at this (0.25 s by default), doubling.
        static void setFirstRestartBackoff (LatencyEngine& engine, double seconds) noexcept;
        // The thread that calls processBlock, between blocks: waits until the worker has
        // processed every frame handed to it so far. Returns false on timeout.
        static bool waitForWorker (const LatencyEngine& engine, double timeoutSeconds) noexcept;
    };
} // namespace pg
