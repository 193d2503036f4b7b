// EngineTesting: the hooks of tests and tools, reaching the parts behind LatencyEngine.

#include "EngineTesting.h"

#include "EngineControl.h"

#include <utility>

namespace pg
{
    EngineControl& EngineTesting::internals (LatencyEngine& engine) noexcept { return *engine.core; }
    const EngineControl& EngineTesting::internals (const LatencyEngine& engine) noexcept { return *engine.core; }

    void EngineTesting::setDspFactory (LatencyEngine& engine, std::function<std::unique_ptr<Dsp>()> factory)
    {
        internals (engine).supervisor().setDspFactory (std::move (factory));
    }
    bool EngineTesting::isRenderDetected (const LatencyEngine& engine) noexcept { return internals (engine).audio().isRenderDetected(); }
    int EngineTesting::getDropoutFadeSamples (const LatencyEngine& engine) noexcept { return internals (engine).audio().getDropoutFadeSamples(); }
    int EngineTesting::getCrossfadeSamples (const LatencyEngine& engine) noexcept { return internals (engine).audio().getCrossfadeSamples(); }
    bool EngineTesting::isLoading (const LatencyEngine& engine) { return internals (engine).supervisor().isLoading(); }
    bool EngineTesting::isWarming (const LatencyEngine& engine) noexcept { return internals (engine).supervisor().isWarming(); }
    void EngineTesting::setRenderDetection (LatencyEngine& engine, bool enabled) noexcept { internals (engine).audio().setRenderDetection (enabled); }
    void EngineTesting::requestFullCollection (LatencyEngine& engine) noexcept { internals (engine).collector().requestFullCollection(); }
    void EngineTesting::injectWorkerPause (LatencyEngine& engine, double seconds) noexcept { internals (engine).worker().injectPause (seconds); }
    void EngineTesting::holdWorker (LatencyEngine& engine, bool hold) noexcept { internals (engine).worker().hold (hold); }
    void EngineTesting::setFirstRestartBackoff (LatencyEngine& engine, double seconds) noexcept
    {
        internals (engine).supervisor().setFirstBackoff (seconds);
    }
    bool EngineTesting::waitForWorker (const LatencyEngine& engine, double timeoutSeconds) noexcept
    {
        return internals (engine).worker().waitForWorker (timeoutSeconds);
    }
} // namespace pg
