// LatencyEngine: the interface. Each call is handed to EngineCore (EngineCore*.cpp).

#include "LatencyEngine.h"

#include "EngineCore.h"

#include <utility>

namespace pg
{
    LatencyEngine::LatencyEngine()
        : core (std::make_unique<EngineCore>())
    {
    }
    LatencyEngine::~LatencyEngine() = default;

    int LatencyEngine::addScriptParameter (const char* name, float initialValue) { return core->addScriptParameter (name, initialValue); }
    bool LatencyEngine::prepare (const EngineSettings& settings, std::string_view scriptSource, std::string_view scriptName, int latencySamples, bool profile, double profileBudgetSeconds) { return core->prepare (settings, scriptSource, scriptName, latencySamples, profile, profileBudgetSeconds); }
    void LatencyEngine::release() { core->release(); }
    bool LatencyEngine::takeProfile (ProfileResult& result) { return core->takeProfile (result); }
    ProfileResult LatencyEngine::getProfile() const { return core->getProfile(); }
    bool LatencyEngine::waitForProfile (double timeoutSeconds) const { return core->waitForProfile (timeoutSeconds); }
    void LatencyEngine::profileInBackground (double budgetSeconds) { core->profileInBackground (budgetSeconds); }
    bool LatencyEngine::hasProfiled() const { return core->hasProfiled(); }
    void LatencyEngine::processBlock (float* const* channels, int numChannels, int numFrames) noexcept PG_NONBLOCKING { core->processBlock (channels, numChannels, numFrames); }
    void LatencyEngine::setOffline (bool isOffline) noexcept { core->setOffline (isOffline); }
    bool LatencyEngine::isOffline() const noexcept { return core->isOffline(); }
    bool LatencyEngine::isRenderDetected() const noexcept { return core->isRenderDetected(); }
    void LatencyEngine::setRenderDetection (bool enabled) noexcept { core->setRenderDetection (enabled); }
    int LatencyEngine::latencyFloorFor (int blockSize, double sampleRate) noexcept { return EngineCore::latencyFloorFor (blockSize, sampleRate); }
    int LatencyEngine::getLatencyFloor() const noexcept { return core->getLatencyFloor(); }
    int LatencyEngine::getLargestBlock() const noexcept { return core->getLargestBlock(); }
    int LatencyEngine::getDropoutFadeSamples() const noexcept { return core->getDropoutFadeSamples(); }
    void LatencyEngine::requestLatency (int samples) noexcept { core->requestLatency (samples); }
    int LatencyEngine::getLatencySamples() const noexcept { return core->getLatencySamples(); }
    int LatencyEngine::clampLatency (int samples) const noexcept { return core->clampLatency (samples); }
    void LatencyEngine::setMix (float zeroToOne) noexcept { core->setMix (zeroToOne); }
    void LatencyEngine::setOutputGain (float linear) noexcept { core->setOutputGain (linear); }
    void LatencyEngine::setBypassed (bool b) noexcept { core->setBypassed (b); }
    void LatencyEngine::setScriptParameter (int index, float value) noexcept { core->setScriptParameter (index, value); }
    void LatencyEngine::setStrategy (Strategy s) noexcept { core->setStrategy (s); }
    Strategy LatencyEngine::getStrategy() const noexcept { return core->getStrategy(); }
    Strategy LatencyEngine::getAppliedStrategy() const noexcept { return core->getAppliedStrategy(); }
    void LatencyEngine::setPacing (int pausePercent, int stepMultiplierPercent) noexcept { core->setPacing (pausePercent, stepMultiplierPercent); }
    void LatencyEngine::setDynamicSettings (const DynamicSettings& s) noexcept { core->setDynamicSettings (s); }
    void LatencyEngine::setTransportPlaying (bool playing) noexcept { core->setTransportPlaying (playing); }
    int LatencyEngine::getWantedDynamicLatency() const noexcept { return core->getWantedDynamicLatency(); }
    int LatencyEngine::getMeasuredLatency() const noexcept { return core->getMeasuredLatency(); }
    int LatencyEngine::getCrossfadeSamples() const noexcept { return core->getCrossfadeSamples(); }
    bool LatencyEngine::isPrepared() const noexcept { return core->isPrepared(); }
    double LatencyEngine::getSampleRate() const noexcept { return core->getSampleRate(); }
    int LatencyEngine::getMaxBlockSize() const noexcept { return core->getMaxBlockSize(); }
    EngineCounters LatencyEngine::getCounters() const noexcept { return core->getCounters(); }
    DurationHistogram::Snapshot LatencyEngine::getProcessingHistogram() const noexcept { return core->getProcessingHistogram(); }
    DurationHistogram::Snapshot LatencyEngine::getLatenessHistogram() const noexcept { return core->getLatenessHistogram(); }
    DurationHistogram::Snapshot LatencyEngine::getPauseHistogram() const noexcept { return core->getPauseHistogram(); }
    DurationHistogram::Snapshot LatencyEngine::getResponseHistogram() const noexcept { return core->getResponseHistogram(); }
    void LatencyEngine::resetStatistics() noexcept { core->resetStatistics(); }
    std::string LatencyEngine::getScriptError() const { return core->getScriptError(); }
    void LatencyEngine::loadScript (std::string source, std::string name, bool profile) { core->loadScript (std::move (source), std::move (name), profile); }
    void LatencyEngine::loadProgram (ProgramCommand program, bool profile) { core->loadProgram (std::move (program), profile); }
    std::string LatencyEngine::getScriptName() const { return core->getScriptName(); }
    std::vector<ScriptMacro> LatencyEngine::getScriptMacros() const { return core->getScriptMacros(); }
    bool LatencyEngine::popConsoleLine (ConsoleLine& line) noexcept { return core->popConsoleLine (line); }
    int LatencyEngine::getDspProcessId() const noexcept { return core->getDspProcessId(); }
    int LatencyEngine::getTraceInstance() const noexcept { return core->getTraceInstance(); }
    ProgramCommand LatencyEngine::getActiveProgram() const { return core->getActiveProgram(); }
    bool LatencyEngine::retryProgram() { return core->retryProgram(); }
    bool LatencyEngine::areProgramRestartsStopped() const noexcept { return core->areRestartsStopped(); }
    void LatencyEngine::setProgramState (std::string state) { core->setProgramState (std::move (state)); }
    std::string LatencyEngine::getProgramState (double timeoutSeconds) { return core->getProgramState (timeoutSeconds); }
    bool LatencyEngine::isProgramChoicePending() const { return core->isProgramChoicePending(); }
    bool LatencyEngine::isLoading() const { return core->isLoading(); }
    bool LatencyEngine::isWarming() const noexcept { return core->isWarming(); }
    bool LatencyEngine::waitUntilWarm (double timeoutSeconds) const { return core->waitUntilWarm (timeoutSeconds); }
    void LatencyEngine::requestFullCollection() noexcept { core->requestFullCollection(); }
    void LatencyEngine::injectWorkerPause (double seconds) noexcept { core->injectWorkerPause (seconds); }
    void LatencyEngine::holdWorker (bool hold) noexcept { core->holdWorker (hold); }
    bool LatencyEngine::waitForWorker (double timeoutSeconds) const noexcept { return core->waitForWorker (timeoutSeconds); }
} // namespace pg
