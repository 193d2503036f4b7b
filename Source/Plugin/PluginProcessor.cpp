#include "PluginProcessor.h"

#include "Trace/Trace.h"

#include "PauseGuardAssets.h"
#include "PluginEditor.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>

namespace pauseguard
{
    namespace
    {
        constexpr auto stateVersionProperty = "pauseguardStateVersion";
        constexpr int stateVersion = 1;

        std::string_view builtinScript()
        {
            return { PauseGuardAssets::BuiltinEffect_lua, static_cast<size_t> (PauseGuardAssets::BuiltinEffect_luaSize) };
        }

        // The XML of a state blob written by copyXmlToBinary, or nullptr. JUCE's XML parser trusts
        // its text to be valid UTF-8: a byte such as 0xFF makes it step over the terminator and read
        // past the end of the string (found by Tests/Fuzz). So the text is checked first.
        std::unique_ptr<juce::XmlElement> xmlFromState (const void* data, int sizeInBytes)
        {
            constexpr juce::uint32 magic = 0x21324356; // copyXmlToBinary's
            if (data == nullptr || sizeInBytes <= 8 || juce::ByteOrder::littleEndianInt (data) != magic)
                return nullptr;
            const auto declared = juce::ByteOrder::littleEndianInt (juce::addBytesToPointer (data, 4));
            const auto length = static_cast<int> (juce::jmin (static_cast<juce::uint32> (sizeInBytes - 8), declared));
            const auto* text = static_cast<const char*> (data) + 8;
            if (length <= 0 || ! juce::CharPointer_UTF8::isValidString (text, length))
                return nullptr;
            // copyXmlToBinary writes one declaration and no comment, CDATA or DOCTYPE ("<" inside
            // a value is "&lt;"). JUCE 7.0.5's parser spun for minutes on a blob with a second
            // "<?xml" inside an element (the fuzzer's fifth finding): such text is refused unread.
            const std::string_view xml (text, static_cast<size_t> (length));
            const auto declarationEnd = xml.rfind ("?>", xml.find ('>') + 1); // if the first tag is one
            const auto afterDeclaration = declarationEnd == std::string_view::npos ? 0 : declarationEnd;
            if (xml.find ("<!") != std::string_view::npos || xml.find ("<?", afterDeclaration) != std::string_view::npos)
                return nullptr;
            return juce::parseXML (juce::String::fromUTF8 (text, length)); // as getXmlFromBinary does
        }

        // A number as a state holds it, if it is one and finite: read with std::from_chars, which
        // is exact, ignores the host's locale and reports overflow (JUCE 7.0.5's getDoubleValue
        // overflows an int on a long exponent: the fuzzer's fourth finding).
        std::optional<double> finiteNumberIn (const juce::var& v)
        {
            const auto text = v.toString().trim().toStdString();
            const char* begin = text.data();
            const char* end = begin + text.size();
            if (begin != end && *begin == '+')
                ++begin;
            double d = 0.0;
            const auto [stop, error] = std::from_chars (begin, end, d);
            if (begin == end || error != std::errc() || stop != end || ! std::isfinite (d))
                return std::nullopt;
            return d;
        }

        // A parameter's plain value as a state holds it, if it is a finite number within float's range.
        std::optional<float> numberIn (const juce::var& v)
        {
            const auto d = finiteNumberIn (v);
            if (! d.has_value() || std::abs (*d) > static_cast<double> (std::numeric_limits<float>::max()))
                return std::nullopt;
            return static_cast<float> (*d);
        }
    } // namespace

    const char* LatencyChange::describe (Reason r)
    {
        switch (r)
        {
            case Reason::prepare:
                return "prepare";
            case Reason::parameter:
                return "parameter";
            case Reason::strategySwitch:
                return "strategy switch";
            case Reason::adaptiveGrowth:
                return "adaptive growth";
            case Reason::adaptiveShrink:
                return "adaptive shrink";
            case Reason::profile:
                return "auto profile";
            case Reason::measured:
                return "auto, measured lateness";
            case Reason::blockSize:
                return "block size";
        }
        return "";
    }

    PauseGuardProcessor::PauseGuardProcessor()
        : AudioProcessor (BusesProperties()
                              .withInput ("Input", juce::AudioChannelSet::stereo(), true)
                              .withOutput ("Output", juce::AudioChannelSet::stereo(), true))
        , state (*this, nullptr, "PauseGuard", createParameterLayout())
        , params (state)
    {
        // The engine's trace, for the editor's pool view and "Export trace": on from the first
        // instance, keeping the last $PAUSEGUARD_TRACE_SECONDS (default 10).
        const auto traceSeconds = juce::SystemStats::getEnvironmentVariable ("PAUSEGUARD_TRACE_SECONDS", "10").getDoubleValue();
        pg::trace::Recorder::global().enableIfOff (traceSeconds > 0.0 ? std::min (traceSeconds, 600.0) : 10.0);
        // Output is not the DSP's: the engine applies it at the output stage, with the mix.
        const auto values = ParameterPush::scriptValues (params);
        for (size_t i = 0; i < scriptParams.size(); ++i)
            scriptParams[i] = engine.addScriptParameter (ParameterPush::scriptNames()[i], values[i]);
        // A host without an editor (a render farm, jalv) can give new instances a program in the
        // environment: started only if it is on the allow-list, as if a session named it.
        if (const auto named = juce::SystemStats::getEnvironmentVariable ("PAUSEGUARD_DSP_PROGRAM", {}).trim(); named.isNotEmpty())
            restoreDspProgram (named);
        startTimerHz (20);
        if (wrapperType == wrapperType_Standalone)
            deviceless = std::make_unique<DevicelessDriver> (DevicelessDriver::Target {
                [this] { return engine.isPrepared(); },
                [this] (double rate, int block) {
                    setRateAndBufferSizeDetails (rate, block);
                    prepareEngine (rate, block);
                },
                [this] (juce::AudioBuffer<float>& buffer) { processWithEngine (buffer, false); } });
    }

    PauseGuardProcessor::~PauseGuardProcessor()
    {
        deviceless.reset(); // the timer stops driving first
        stopTimer();
        engine.release();
    }

    bool PauseGuardProcessor::isBusesLayoutSupported (const BusesLayout& layouts) const
    {
        const auto& in = layouts.getMainInputChannelSet();
        const auto& out = layouts.getMainOutputChannelSet();
        return in == out && (out == juce::AudioChannelSet::mono() || out == juce::AudioChannelSet::stereo());
    }

    int PauseGuardProcessor::wantedLatencySamples() const
    {
        if (params.strategy.getIndex() == 1)
            return engine.clampLatency (engine.getWantedDynamicLatency());
        if (params.autoLatency.get())
        {
            const int target = autoLatencyTarget();
            return target < getLatencySamples() && autoLatencyLearning() ? getLatencySamples() : target;
        }
        const double sr = engine.isPrepared() ? engine.getSampleRate() : getSampleRate();
        return engine.clampLatency (juce::roundToInt (params.latencyMs.get() * 0.001 * (sr > 0.0 ? sr : 48000.0)));
    }

    // The auto latency's figure: the profile's, raised to what the responses at real-time pace have needed.
    int PauseGuardProcessor::autoLatencyTarget() const
    {
        const int profiled = profiledLatency.load() > 0 ? profiledLatency.load() : getLatencySamples();
        return engine.clampLatency (std::max (profiled, engine.getMeasuredLatency()));
    }

    // Until the engine has measured the machine for a while, the auto latency does not go below the one it has.
    bool PauseGuardProcessor::autoLatencyLearning() const { return engine.getMeasuredSeconds() < autoLatencyLearningSeconds.load(); }

    bool PauseGuardProcessor::canChangeLatency() const noexcept
    {
        return ! isNonRealtime() && ! engine.isOffline() && (! hostPlaying.load() || params.latencyWhilePlaying.get());
    }

    juce::String PauseGuardProcessor::getLatencyNote() const
    {
        if (! engine.isPrepared())
            return {};
        const double sr = engine.getSampleRate();
        const auto ms = [sr] (double samples) { return juce::String (samples * 1000.0 / sr, 1) + " ms"; };
        const int wanted = wantedLatencySamples();
        if (wanted != getLatencySamples() && ! canChangeLatency())
            return ms (wanted) + " wanted: applied when the transport stops";
        if (params.strategy.getIndex() == 0 && params.autoLatency.get() && profiledLatency.load() == 0)
            return "profiling the script...";
        if (const int target = autoLatencyTarget(); params.strategy.getIndex() == 0 && params.autoLatency.get() && target < getLatencySamples() && autoLatencyLearning())
            return "auto: " + ms (target) + " after " + juce::String (static_cast<int> (std::ceil (autoLatencyLearningSeconds.load() - engine.getMeasuredSeconds()))) + " s more of measuring";
        if (params.strategy.getIndex() == 0 && ! params.autoLatency.get())
        {
            const int asked = juce::roundToInt (params.latencyMs.get() * 0.001 * sr);
            if (asked < engine.getLatencyFloor())
                return ms (asked) + " asked, " + ms (wanted) + " used: " + juce::String (engine.getLargestBlock()) + "-sample blocks";
        }
        return {};
    }

    std::vector<LatencyChange> PauseGuardProcessor::getLatencyHistory() const
    {
        std::lock_guard<std::mutex> lock (historyLock);
        return history;
    }

    void PauseGuardProcessor::recordLatency (int samples, LatencyChange::Reason reason)
    {
        std::lock_guard<std::mutex> lock (historyLock);
        if (history.size() >= 512)
            history.erase (history.begin());
        history.push_back ({ (juce::Time::getMillisecondCounterHiRes() - createdAt) * 0.001, samples, reason });
    }

    void PauseGuardProcessor::prepareToPlay (double sampleRate, int maximumExpectedSamplesPerBlock)
    {
        if (deviceless != nullptr)
            deviceless->hostPrepares(); // a device takes over from the timer
        prepareEngine (sampleRate, maximumExpectedSamplesPerBlock);
    }

    void PauseGuardProcessor::prepareEngine (double sampleRate, int maximumExpectedSamplesPerBlock)
    {
        preparedBlockSize = juce::jmax (1, maximumExpectedSamplesPerBlock);
        pg::EngineSettings settings;
        settings.sampleRate = sampleRate;
        settings.maxBlockSize = preparedBlockSize;
        settings.numChannels = juce::jmax (1, getTotalNumInputChannels(), getTotalNumOutputChannels());
        // The rings hold the largest latency the knobs can ask for (Latency, Max latency), not more:
        // their memory is per instance.
        settings.maxLatencySeconds = 0.001 * juce::jmax (params.latencyMs.getNormalisableRange().end, params.maxLatencyMs.getNormalisableRange().end);

        // Every value, from this thread; the audio thread's next block passes them all again too.
        ParameterPush().push (params, scriptParams, engine, params.bypass.get(), isNonRealtime());
        parameterPush.pushEverythingNext();
        const int manual = juce::roundToInt (params.latencyMs.get() * 0.001 * sampleRate);
        const bool dynamic = params.strategy.getIndex() == 1;
        const bool useAuto = params.autoLatency.get();
        engine.setStrategy (dynamic ? pg::Strategy::dynamic : pg::Strategy::deterministic);
        engine.setOffline (isNonRealtime());
        // Auto and dynamic start where the saved session was (same rate and block size), so that a
        // reloaded session does not change its latency; else from the manual latency.
        const bool sameSetup = savedSampleRate.load() == sampleRate && savedBlockSize.load() == preparedBlockSize;
        const int start = (useAuto || dynamic) && sameSetup && savedLatency.load() > 0 ? savedLatency.load() : manual;
        if (! sameSetup)
            profiledLatency.store (0);
        std::string source, name;
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            source = scriptSource.empty() ? std::string (builtinScript()) : scriptSource;
            name = scriptSource.empty() ? std::string ("BuiltinEffect.lua") : scriptName;
            settings.dspProgram = dspCommand;
            programInEffect = dspProgram;
            commandInEffect = dspCommand;
        }
        engine.prepare (settings, source, name, start, useAuto || dynamic); // a manual latency never profiles
        appliedStrategy = params.strategy.getIndex();
        demo.prepare (sampleRate);
        if (wrapperType == wrapperType_Standalone)
            demoEnabled.store (true);

        setLatencySamples (engine.getLatencySamples());
        rememberLatency();
        recordLatency (getLatencySamples(), LatencyChange::Reason::prepare);
    }

    void PauseGuardProcessor::rememberLatency()
    {
        savedLatency.store (getLatencySamples());
        savedSampleRate.store (engine.getSampleRate());
        savedBlockSize.store (preparedBlockSize);
    }

    void PauseGuardProcessor::setScript (const juce::String& source, const juce::String& name)
    {
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            scriptSource = source.toStdString();
            scriptName = source.isEmpty() ? std::string ("BuiltinEffect.lua") : name.toStdString();
        }
        if (engine.isPrepared())
            engine.loadScript (source.isEmpty() ? std::string (builtinScript()) : source.toStdString(), getScriptName().toStdString(),
                               params.autoLatency.get() || params.strategy.getIndex() == 1);
    }

    bool PauseGuardProcessor::setDspProgram (const juce::String& commandLine, bool remember)
    {
        if (commandLine.trim().isEmpty())
        {
            runProgram ({}, {});
            return true;
        }
        const auto resolved = resolveProgram (commandLine);
        if (! resolved.ok())
        {
            addConsoleLine (pg::ConsoleLine::error, resolved.error + " (not started)");
            return false;
        }
        if (remember)
            AllowedPrograms().add (resolved.command);
        runProgram (resolved.command, {}, true);
        return true;
    }

    void PauseGuardProcessor::runProgramAsShown (const pg::ProgramCommand& shown, bool remember)
    {
        if (remember)
            AllowedPrograms().add (shown);
        std::string sessionState; // the session's, for the program it named (only)
        bool fromSession = false;
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            fromSession = pendingProgram.isNotEmpty() && pendingArgv == shown.argv;
            if (fromSession)
                sessionState = pendingProgramState;
        }
        runProgram (shown, sessionState, ! fromSession); // a session's program keeps the session's knobs
    }

    // The running program's state (the worker saves it between two chunks, 0.1 s at the most), or
    // the session's for a program not allowed yet.
    std::string PauseGuardProcessor::savedProgramState()
    {
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            if (dspProgram.isEmpty())
                return pendingProgramState;
        }
        return engine.getProgramState (0.1);
    }

    // The program decided on (its files' hashes as they were allowed: the engine checks them again
    // at each start), or the script for an empty one.
    void PauseGuardProcessor::runProgram (const pg::ProgramCommand& command, const std::string& programState, bool takeDefaults)
    {
        std::lock_guard<std::mutex> lock (scriptLock); // held across loadProgram: keepWhatPlays sees both or neither
        if (command == dspCommand && pendingProgram.isEmpty())
            return; // (the program goes on, with its own state)
        defaultsFor = takeDefaults ? command : pg::ProgramCommand {};
        for (size_t i = 0; i < knobsAtChoice.size(); ++i)
            knobsAtChoice[i] = params.macros[i]->get();
        engine.setProgramState (programState);
        pendingProgramState.clear();
        dspCommand = command;
        dspProgram = joinCommandLine (command.argv);
        pendingProgram.clear();
        pendingDismissed = false;
        if (engine.isPrepared())
            engine.loadProgram (command, params.autoLatency.get() || params.strategy.getIndex() == 1);
    }

    void PauseGuardProcessor::addConsoleLine (pg::ConsoleLine::Kind kind, const juce::String& text)
    {
        pg::ConsoleLine line;
        line.kind = kind;
        text.copyToUTF8 (line.text, sizeof (line.text));
        consoleLines.push_back (line);
        if (consoleLines.size() > 500)
            consoleLines.pop_front();
    }

    // Message thread: a program the user chose that did not start (its message is on the console)
    // is not kept as the choice: the one that plays is, so the session saves what was heard.
    void PauseGuardProcessor::keepWhatPlays()
    {
        if (! engine.isPrepared())
            return;
        std::lock_guard<std::mutex> lock (scriptLock);
        if (dspProgram == programInEffect || engine.isProgramChoicePending() || ! pendingProgram.isEmpty())
            return; // (the same choice: nothing to keep)
        const auto active = engine.getActiveProgram();
        if (dspCommand == active)
        {
            programInEffect = dspProgram;
            commandInEffect = dspCommand;
        }
        else if (commandInEffect == active)
        {
            dspProgram = programInEffect;
            dspCommand = commandInEffect;
        }
    }

    juce::String PauseGuardProcessor::getDspProgram() const
    {
        std::lock_guard<std::mutex> lock (scriptLock);
        return dspProgram;
    }

    juce::String PauseGuardProcessor::getPendingDspProgram() const
    {
        std::lock_guard<std::mutex> lock (scriptLock);
        return pendingProgram;
    }

    void PauseGuardProcessor::dismissPendingDspProgram() { pendingDismissed = true; }

    bool PauseGuardProcessor::loadScriptFile (const juce::File& file)
    {
        if (! file.existsAsFile())
            return false;
        watchedFile = file;
        watchedModification = file.getLastModificationTime();
        setScript (file.loadFileAsString(), file.getFileName());
        return true;
    }

    void PauseGuardProcessor::useBuiltinScript()
    {
        watchedFile = juce::File();
        setScript ({}, {});
    }

    juce::String PauseGuardProcessor::getScriptName() const
    {
        std::lock_guard<std::mutex> lock (scriptLock);
        return scriptSource.empty() ? juce::String ("BuiltinEffect.lua") : juce::String (scriptName);
    }

    juce::String PauseGuardProcessor::getScriptSource() const
    {
        std::lock_guard<std::mutex> lock (scriptLock);
        return scriptSource.empty() ? juce::String (std::string (builtinScript())) : juce::String (scriptSource);
    }

    void PauseGuardProcessor::applyProgramDefaults()
    {
        decltype (knobsAtChoice) before;
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            if (defaultsFor.empty() || ! engine.isPrepared() || engine.getActiveProgram() != defaultsFor)
                return; // none chosen, or it does not run yet
            defaultsFor = {};
            before = knobsAtChoice;
        }
        const auto declared = engine.getScriptMacros();
        for (size_t i = 0; i < std::min (declared.size(), before.size()); ++i)
        {
            const auto& m = declared[i];
            auto& knob = *params.macros[i];
            if (std::isnan (m.defaultValue) || m.max == m.min || knob.get() != before[i])
                continue;
            knob.setValueNotifyingHost (static_cast<float> (std::clamp ((m.defaultValue - m.min) / (m.max - m.min), 0.0, 1.0)));
        }
    }

    void PauseGuardProcessor::messageThreadTick()
    {
        applyPendingLatencyChange();
        applyProgramDefaults();
        keepWhatPlays();
        pg::ConsoleLine line;
        while (engine.popConsoleLine (line))
            addConsoleLine (line.kind, line.text);
        // Live reload: the watched file was saved again.
        if (watchedFile != juce::File() && watchedFile.existsAsFile())
        {
            const auto modified = watchedFile.getLastModificationTime();
            if (modified != watchedModification)
            {
                watchedModification = modified;
                setScript (watchedFile.loadFileAsString(), watchedFile.getFileName());
            }
        }
    }

    void PauseGuardProcessor::releaseResources()
    {
        if (deviceless != nullptr)
            deviceless->hostPrepares();
        engine.release();
    }

    bool PauseGuardProcessor::applyPendingLatencyChange()
    {
        if (! engine.isPrepared())
            return false;
        pg::ProfileResult profile;
        bool profiled = false;
        if (engine.takeProfile (profile))
        {
            profiledLatency.store (profile.latencySamples);
            profiled = true;
        }
        const int strategyNow = params.strategy.getIndex();
        const auto requested = strategyNow == 1 ? pg::Strategy::dynamic : pg::Strategy::deterministic;
        // Auto latency or the dynamic strategy asked for after a prepare that did not profile: the
        // profile runs now, in the background.
        if ((strategyNow == 1 || params.autoLatency.get()) && ! engine.hasProfiled())
            engine.profileInBackground();
        engine.setStrategy (requested);
        // The worker switches first (entering the dynamic strategy runs a full collection, which the
        // previous, larger, latency covers); the latency follows at a later tick.
        if (engine.getAppliedStrategy() != requested)
            return false;
        const int wanted = wantedLatencySamples();
        const int current = getLatencySamples();
        if (wanted == current || ! canChangeLatency())
            return false; // (during playback, the engine conceals what the current L cannot hide)
        const bool switched = strategyNow != appliedStrategy;
        appliedStrategy = strategyNow;

        using Reason = LatencyChange::Reason;
        auto reason = switched ? Reason::strategySwitch
                               : (strategyNow == 1 ? (wanted > current ? Reason::adaptiveGrowth : Reason::adaptiveShrink)
                                                   : Reason::parameter);
        if (! switched && strategyNow == 0 && wanted == engine.getLatencyFloor() && engine.getLargestBlock() > engine.getMaxBlockSize())
            reason = Reason::blockSize;
        else if (! switched && strategyNow == 0 && params.autoLatency.get() && (profiled || wanted == engine.clampLatency (profiledLatency.load())))
            reason = Reason::profile;
        else if (! switched && strategyNow == 0 && params.autoLatency.get() && engine.getMeasuredLatency() >= wanted) // (clamped, maybe)
            reason = Reason::measured;
        engine.requestLatency (wanted);
        setLatencySamples (wanted);
        rememberLatency();
        recordLatency (wanted, reason);
        return true;
    }

    void PauseGuardProcessor::processWithEngine (juce::AudioBuffer<float>& buffer, bool forceBypass) noexcept
    {
        juce::ScopedNoDenormals noDenormals;
        const int numChannels = buffer.getNumChannels();
        const int numSamples = buffer.getNumSamples();
        if (numSamples <= 0 || numChannels <= 0)
            return;

        if (demoEnabled.load (std::memory_order_relaxed) && buffer.getMagnitude (0, numSamples) < 1.0e-5f)
        {
            for (int i = 0; i < numSamples; ++i)
            {
                const float s = demo.next();
                for (int c = 0; c < numChannels; ++c)
                    buffer.setSample (c, i, s);
            }
        }

        parameterPush.push (params, scriptParams, engine, forceBypass || params.bypass.get(), isNonRealtime());
        bool playing = false;
        if (auto* hostPlayHead = getPlayHead())
            if (const auto position = hostPlayHead->getPosition())
                playing = position->getIsPlaying();
        engine.setTransportPlaying (playing); // (stores only a change)
        if (hostPlaying.load (std::memory_order_relaxed) != playing)
            hostPlaying.store (playing, std::memory_order_relaxed);
        engine.processBlock (buffer.getArrayOfWritePointers(), numChannels, numSamples);
    }

    void PauseGuardProcessor::processBlock (juce::AudioBuffer<float>& buffer, juce::MidiBuffer&)
    {
        if (deviceless != nullptr && ! deviceless->hostProcesses())
            return buffer.clear(); // the timer's block is in the processor: this device's first one is silence
        processWithEngine (buffer, false);
    }

    void PauseGuardProcessor::processBlockBypassed (juce::AudioBuffer<float>& buffer, juce::MidiBuffer&)
    {
        if (deviceless != nullptr && ! deviceless->hostProcesses())
            return buffer.clear();
        // Bypass keeps the latency: the dry signal, delayed by L.
        processWithEngine (buffer, true);
    }

    void PauseGuardProcessor::getStateInformation (juce::MemoryBlock& destData)
    {
        auto copy = state.copyState();
        copy.setProperty (stateVersionProperty, stateVersion, nullptr);
        // The latency the host saw, so that a reloaded session starts at it (auto and dynamic).
        copy.setProperty ("latencySamples", savedLatency.load(), nullptr);
        copy.setProperty ("latencySampleRate", savedSampleRate.load(), nullptr);
        copy.setProperty ("latencyBlockSize", savedBlockSize.load(), nullptr);
        copy.setProperty ("profiledLatency", profiledLatency.load(), nullptr);
        const auto programState = savedProgramState(); // (it may wait for the worker: before the lock)
        {
            // A user script travels with the session, so that it opens on another machine.
            std::lock_guard<std::mutex> lock (scriptLock);
            if (! scriptSource.empty())
            {
                juce::ValueTree script ("SCRIPT");
                script.setProperty ("name", juce::String (scriptName), nullptr);
                script.setProperty ("source", juce::String (scriptSource), nullptr);
                copy.appendChild (script, nullptr);
            }
            // The program the session runs (or names, not allowed here yet): its command line, and
            // its state (protocol 2.2) as Base64.
            if (const auto program = dspProgram.isNotEmpty() ? dspProgram : pendingProgram; program.isNotEmpty())
            {
                juce::ValueTree dsp ("DSPPROGRAM");
                dsp.setProperty ("command", program, nullptr);
                if (! programState.empty())
                    dsp.setProperty ("state", juce::Base64::toBase64 (programState.data(), programState.size()), nullptr);
                copy.appendChild (dsp, nullptr);
            }
        }
        if (auto xml = copy.createXml())
            copyXmlToBinary (*xml, destData);
    }

    void PauseGuardProcessor::setStateInformation (const void* data, int sizeInBytes)
    {
        // A blob that is not ours, truncated or corrupt gives no XML (or the wrong tag): keep the
        // current values. A newer version's blob is read for the parameters this version knows.
        auto xml = xmlFromState (data, sizeInBytes);
        if (xml == nullptr || ! xml->hasTagName (state.state.getType()))
            return;
        const auto tree = juce::ValueTree::fromXml (*xml);
        if (! tree.isValid())
            return;
        const auto script = tree.getChildWithName ("SCRIPT");
        const juce::String source = script.isValid() ? script.getProperty ("source").toString() : juce::String();
        const juce::String name = script.isValid() ? script.getProperty ("name").toString() : juce::String();
        state.replaceState (parameterTreeFrom (tree));
        // A count read as an int, clamped first: a float beyond int's range does not convert (UB).
        const auto count = [&tree] (const char* property) {
            const float v = numberIn (tree.getProperty (property)).value_or (0.0f);
            return static_cast<int> (juce::jlimit (-1.0f, 1.0e9f, v));
        };
        const int savedSamples = count ("latencySamples");
        const double rate = finiteNumberIn (tree.getProperty ("latencySampleRate")).value_or (0.0);
        const int block = count ("latencyBlockSize");
        const int profiled = count ("profiledLatency");
        const bool sane = savedSamples > 0 && savedSamples <= 10 * 192000 && rate >= 8000.0 && rate <= 768000.0 && block > 0;
        savedLatency.store (sane ? savedSamples : 0);
        savedSampleRate.store (sane ? rate : 0.0);
        savedBlockSize.store (sane ? block : 0);
        profiledLatency.store (sane && profiled > 0 && profiled <= 10 * 192000 ? profiled : 0);
        bool changed = false;
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            changed = source.toStdString() != scriptSource;
        }
        if (changed)
            setScript (source, name.isNotEmpty() ? name : juce::String ("session.lua"));
        const auto program = tree.getChildWithName ("DSPPROGRAM");
        juce::MemoryOutputStream decoded;
        std::string programState;
        if (juce::Base64::convertFromBase64 (decoded, program.getProperty ("state").toString())) // (a corrupt one: none)
            programState.assign (static_cast<const char*> (decoded.getData()), decoded.getDataSize());
        restoreDspProgram (program.getProperty ("command").toString().trim(), programState);
    }

    // A session never starts a program by itself: only one whose files are on the user's
    // allow-list, with the hashes they were allowed with.
    void PauseGuardProcessor::restoreDspProgram (const juce::String& named, const std::string& programState)
    {
        if (named.isEmpty())
        {
            runProgram ({}, {});
            return;
        }
        const auto resolved = resolveProgram (named);
        if (resolved.ok() && AllowedPrograms().allows (resolved.command))
        {
            runProgram (resolved.command, programState);
            return;
        }
        bool wasRunning = false;
        {
            std::lock_guard<std::mutex> lock (scriptLock);
            wasRunning = dspProgram.isNotEmpty();
            dspProgram.clear();
            dspCommand = {};
            pendingProgram = named;
            pendingArgv = resolved.command.argv;
            pendingProgramState = programState;
        }
        pendingDismissed = false;
        ++pendingSerial;
        if (wasRunning && engine.isPrepared())
            engine.loadProgram ({}, params.autoLatency.get() || params.strategy.getIndex() == 1); // the script plays until it is allowed
    }

    juce::ValueTree PauseGuardProcessor::parameterTreeFrom (const juce::ValueTree& restored) const
    {
        // The tree in the shape this version writes: one PARAM per parameter it knows, in range; the
        // first one a blob holds for each id, and the default where it holds none or no number.
        // (Handed to replaceState as it came, a PARAM with two id attributes left a state that did
        // not read back the same: the fuzzer's second finding.)
        juce::ValueTree clean (state.state.getType());
        for (auto* p : getParameters())
        {
            auto* param = dynamic_cast<juce::RangedAudioParameter*> (p);
            if (param == nullptr)
                continue;
            const auto id = param->getParameterID();
            float value = param->convertFrom0to1 (param->getDefaultValue());
            if (const auto stored = numberIn (restored.getChildWithProperty ("id", id).getProperty ("value")))
                value = param->convertFrom0to1 (param->convertTo0to1 (*stored));
            clean.appendChild (juce::ValueTree ("PARAM", { { "id", id }, { "value", value } }), nullptr);
        }
        return clean;
    }

    juce::AudioProcessorEditor* PauseGuardProcessor::createEditor() { return new PauseGuardEditor (*this); }
} // namespace pauseguard

juce::AudioProcessor* JUCE_CALLTYPE createPluginFilter() { return new pauseguard::PauseGuardProcessor(); }
