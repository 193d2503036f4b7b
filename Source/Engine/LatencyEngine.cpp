// LatencyEngine: the interface. Each call goes to the part of the engine that owns what it asks
// for (EngineControl.h): the audio side, the collector, the DSP's supervisor, or the control.

#include "LatencyEngine.h"

#include "EngineControl.h"

#include <utility>

namespace pg
{
    LatencyEngine::LatencyEngine()
        : core (std::make_unique<EngineControl>())
    {
    }
    LatencyEngine::~LatencyEngine() = default;

    // ---- control -------------------------------------------------------------------------------
    bool LatencyEngine::prepare (const EngineSettings& settings, std::string_view scriptSource, std::string_view scriptName, int latencySamples, bool profile, double profileBudgetSeconds)
    {
        return core->prepare (settings, scriptSource, scriptName, latencySamples, profile, profileBudgetSeconds);
    }
    void LatencyEngine::release() { core->release(); }
    int LatencyEngine::latencyFloorFor (int blockSize, double sampleRate) noexcept { return EngineControl::latencyFloorFor (blockSize, sampleRate); }
    int LatencyEngine::getLatencyFloor() const noexcept { return core->getLatencyFloor(); }
    void LatencyEngine::requestLatency (int samples) noexcept { core->requestLatency (samples); }
    int LatencyEngine::clampLatency (int samples) const noexcept { return core->clampLatency (samples); }
    double LatencyEngine::getSampleRate() const noexcept { return core->getSettings().sampleRate; }
    int LatencyEngine::getMaxBlockSize() const noexcept { return core->getSettings().maxBlockSize; }
    int LatencyEngine::getTraceInstance() const noexcept { return core->getTraceInstance(); }
    EngineCounters LatencyEngine::getCounters() const noexcept { return core->getCounters(); }

    // ---- the audio side --------------------------------------------------------------------------
    void LatencyEngine::processBlock (float* const* channels, int numChannels, int numFrames) noexcept PG_NONBLOCKING
    {
        core->audio().processBlock (channels, numChannels, numFrames);
    }
    bool LatencyEngine::isPrepared() const noexcept { return core->audio().isPrepared(); }
    void LatencyEngine::setOffline (bool isOffline) noexcept { core->audio().setOffline (isOffline); }
    bool LatencyEngine::isOffline() const noexcept { return core->audio().isOffline(); }
    int LatencyEngine::getLargestBlock() const noexcept { return core->audio().getLargestBlock(); }
    size_t LatencyEngine::getPreparedBytes() const noexcept { return core->audio().preparedBytes(); }
    int LatencyEngine::getLatencySamples() const noexcept { return core->audio().getLatencySamples(); }
    void LatencyEngine::setMix (float zeroToOne) noexcept { core->audio().setMix (zeroToOne); }
    void LatencyEngine::setOutputGain (float linear) noexcept { core->audio().setOutputGain (linear); }
    void LatencyEngine::setBypassed (bool b) noexcept { core->audio().setBypassed (b); }
    void LatencyEngine::setTransportPlaying (bool playing) noexcept { core->audio().setTransportPlaying (playing); }

    // ---- the worker's statistics -----------------------------------------------------------------
    DurationHistogram::Snapshot LatencyEngine::getProcessingHistogram() const noexcept { return core->worker().getProcessingHistogram(); }
    DurationHistogram::Snapshot LatencyEngine::getLatenessHistogram() const noexcept { return core->worker().getLatenessHistogram(); }
    DurationHistogram::Snapshot LatencyEngine::getResponseHistogram() const noexcept { return core->worker().getResponseHistogram(); }
    void LatencyEngine::resetStatistics() noexcept { core->worker().resetStatistics(); }

    // ---- the collector and the adaptive latency --------------------------------------------------
    void LatencyEngine::setStrategy (Strategy s) noexcept { core->collector().setStrategy (s); }
    Strategy LatencyEngine::getStrategy() const noexcept { return core->collector().getStrategy(); }
    Strategy LatencyEngine::getAppliedStrategy() const noexcept { return core->collector().getAppliedStrategy(); }
    void LatencyEngine::setPacing (int pausePercent, int stepMultiplierPercent) noexcept { core->collector().setPacing (pausePercent, stepMultiplierPercent); }
    void LatencyEngine::setDynamicSettings (const DynamicSettings& s) noexcept { core->collector().setDynamicSettings (s); }
    int LatencyEngine::getWantedDynamicLatency() const noexcept { return core->collector().getWantedDynamicLatency(); }
    int LatencyEngine::getMeasuredLatency() const noexcept { return core->collector().getMeasuredLatency(); }
    double LatencyEngine::getMeasuredSeconds() const noexcept
    {
        const double rate = core->getSettings().sampleRate;
        return rate > 0.0 ? static_cast<double> (core->collector().getMeasuredFrames()) / rate : 0.0;
    }
    DurationHistogram::Snapshot LatencyEngine::getPauseHistogram() const noexcept { return core->collector().getPauseHistogram(); }

    // ---- the DSP: scripts, programs, profiles, the console ---------------------------------------
    int LatencyEngine::addScriptParameter (const char* name, float initialValue) { return core->supervisor().addScriptParameter (name, initialValue); }
    void LatencyEngine::setScriptParameter (int index, float value) noexcept { core->supervisor().setScriptParameter (index, value); }
    bool LatencyEngine::takeProfile (ProfileResult& result) { return core->supervisor().takeProfile (result); }
    ProfileResult LatencyEngine::getProfile() const { return core->supervisor().getProfile(); }
    bool LatencyEngine::waitForProfile (double timeoutSeconds) const { return core->supervisor().waitForProfile (timeoutSeconds); }
    void LatencyEngine::profileInBackground (double budgetSeconds) { core->supervisor().profileInBackground (budgetSeconds); }
    bool LatencyEngine::hasProfiled() const { return core->supervisor().hasProfiled(); }
    std::string LatencyEngine::getScriptError() const { return core->supervisor().getScriptError(); }
    void LatencyEngine::loadScript (std::string source, std::string name, bool profile) { core->supervisor().loadScript (std::move (source), std::move (name), profile); }
    void LatencyEngine::loadProgram (ProgramCommand program, bool profile) { core->supervisor().loadProgram (std::move (program), profile); }
    std::string LatencyEngine::getScriptName() const { return core->supervisor().getScriptName(); }
    std::vector<ScriptMacro> LatencyEngine::getScriptMacros() const { return core->supervisor().getScriptMacros(); }
    bool LatencyEngine::popConsoleLine (ConsoleLine& line) noexcept { return core->supervisor().popConsoleLine (line); }
    int LatencyEngine::getDspProcessId() const noexcept { return core->supervisor().getDspProcessId(); }
    ProgramCommand LatencyEngine::getActiveProgram() const { return core->supervisor().getActiveProgram(); }
    bool LatencyEngine::retryProgram() { return core->supervisor().retryProgram(); }
    bool LatencyEngine::areProgramRestartsStopped() const noexcept { return core->supervisor().areRestartsStopped(); }
    void LatencyEngine::setProgramState (std::string state) { core->supervisor().setProgramState (std::move (state)); }
    std::string LatencyEngine::getProgramState (double timeoutSeconds) { return core->supervisor().getProgramState (timeoutSeconds); }
    bool LatencyEngine::isProgramChoicePending() const { return core->supervisor().isProgramChoicePending(); }
    bool LatencyEngine::waitUntilWarm (double timeoutSeconds) const { return core->supervisor().waitUntilWarm (timeoutSeconds); }
} // namespace pg
