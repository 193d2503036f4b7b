#pragma once

#include "DemoSignal.h"
#include "DevicelessDriver.h"
#include "DspPrograms.h"
#include "LatencyEngine.h"
#include "ParameterPush.h"
#include "Parameters.h"
#include "Realtime.h"

#include <juce_audio_processors/juce_audio_processors.h>

#include <deque>
#include <mutex>

namespace pauseguard
{
    // One change of the latency reported to the host: when, to what, and why.
    struct LatencyChange
    {
        enum class Reason
        {
            prepare,
            parameter,
            strategySwitch,
            adaptiveGrowth,
            adaptiveShrink,
            profile, // the auto latency's background profile finished
            blockSize, // the host sent blocks larger than it announced: the floor rose
            measured // the auto latency rose to what the worker's responses at real-time pace needed
        };
        static constexpr int numReasons = static_cast<int> (Reason::measured) + 1;
        double seconds = 0.0; // since the processor was created
        int samples = 0;
        Reason reason = Reason::prepare;

        static const char* describe (Reason r);
    };

    // The bridge between the host, the latency engine and the editor. Thin: the engine does the work.
    class PauseGuardProcessor final : public juce::AudioProcessor, private juce::Timer
    {
    public:
        PauseGuardProcessor();
        ~PauseGuardProcessor() override;

        // Host thread (not the audio callback). Fast: prepares the engine and reports the latency
        // before processing starts. Auto latency: starts from the latency the state saved (or the
        // manual one) and profiles in the background; the result is applied like any latency change.
        void prepareToPlay (double sampleRate, int maximumExpectedSamplesPerBlock) override;
        void releaseResources() override;
        bool isBusesLayoutSupported (const BusesLayout& layouts) const override;

        // Audio thread. Real-time safe. (Double precision is not supported: JUCE converts.)
        using AudioProcessor::processBlock;
        using AudioProcessor::processBlockBypassed;
        // The audio thread's entry points: checked by RealtimeSanitizer (PG_NONBLOCKING) in its build.
        void processBlock (juce::AudioBuffer<float>&, juce::MidiBuffer&) PG_NONBLOCKING override;
        void processBlockBypassed (juce::AudioBuffer<float>&, juce::MidiBuffer&) PG_NONBLOCKING override;

        juce::AudioProcessorEditor* createEditor() override;
        bool hasEditor() const override { return true; }

        const juce::String getName() const override { return "PauseGuard"; }
        bool acceptsMidi() const override { return false; }
        bool producesMidi() const override { return false; }
        bool isMidiEffect() const override { return false; }
        double getTailLengthSeconds() const override { return 0.0; }

        int getNumPrograms() override { return 1; }
        int getCurrentProgram() override { return 0; }
        void setCurrentProgram (int) override {}
        const juce::String getProgramName (int) override { return "Default"; }
        void changeProgramName (int, const juce::String&) override {}

        void getStateInformation (juce::MemoryBlock& destData) override;
        void setStateInformation (const void* data, int sizeInBytes) override;

        juce::AudioProcessorParameter* getBypassParameter() const override { return &params.bypass; }

        // Message thread (the timer, or a test standing in for it): applies a latency that the
        // parameters ask for and notifies the host, if the host can take it now (canChangeLatency).
        // Returns true if the latency changed.
        bool applyPendingLatencyChange();
        // The latency the parameters (deterministic) or the engine (dynamic) ask for now, in samples,
        // raised to the engine's floor. The auto latency goes below the latency it has only once
        // the engine has measured autoLatencyLearningSeconds of audio at real-time pace: a
        // profile sees the script, not the machine's stalls to come.
        int wantedLatencySamples() const;
        static constexpr double defaultAutoLatencyLearningSeconds = 10.0;
        void setAutoLatencyLearningSeconds (double seconds) { autoLatencyLearningSeconds.store (seconds); }
        // Any thread: a latency change may reach the host now: never while rendering offline, and
        // by default only while the transport is stopped (the latency_while_playing parameter
        // allows it during playback).
        bool canChangeLatency() const noexcept;
        // Message thread: what the user should know about the latency, or empty: a manual latency
        // raised to the floor ("20.0 ms asked, 29.7 ms used: 1024-sample blocks"), a change waiting
        // for the transport to stop, a profile running.
        juce::String getLatencyNote() const;

        // Any non-audio thread: every latency change so far (the newest last, at most 512).
        std::vector<LatencyChange> getLatencyHistory() const;
        // Any thread: now, on the history's clock (seconds since the processor was created).
        double getSecondsSinceCreation() const { return (juce::Time::getMillisecondCounterHiRes() - createdAt) * 0.001; }

        // Message thread: the DSP script to run (an empty source: the built-in effect). While audio
        // runs, the worker compiles it and crossfades to it; a script that does not compile never
        // replaces a working one. The source is saved in the plugin state.
        void setScript (const juce::String& source, const juce::String& name);
        // Message thread: loads a .lua file and watches it: saving it again reloads it.
        bool loadScriptFile (const juce::File& file);
        void useBuiltinScript();
        juce::String getScriptName() const;
        juce::String getScriptSource() const;
        juce::File getWatchedScriptFile() const { return watchedFile; }

        // Message thread: runs a DSP program (a command line: the program's absolute path, then its
        // arguments) in place of the script, as the user chose it in the editor; remember: its
        // files and their hashes also go on the per-user allow-list, so that a session naming it
        // starts it without asking while they do not change (DspPrograms.h). The command line is
        // saved in the plugin state. An empty one goes back to the script. False: it names no
        // program that can run (the console says why), and nothing changed.
        bool setDspProgram (const juce::String& commandLine, bool remember = true);
        // Message thread: runs exactly the program a prompt showed (resolved and hashed then: a
        // file that changed since starts nothing); remember: it goes on the allow-list too. The
        // program the restored session named gets the state the session saved for it.
        void runProgramAsShown (const pg::ProgramCommand& shown, bool remember);
        juce::String getDspProgram() const;
        // A program the restored session names but the allow-list does not: not started. The
        // editor asks the user (setDspProgram starts it; dismissPendingDspProgram keeps the script,
        // and the session still names it when saved).
        juce::String getPendingDspProgram() const;
        void dismissPendingDspProgram();
        bool isPendingDspProgramDismissed() const noexcept { return pendingDismissed; }
        // Counts the sessions restored that named a program not allowed: each one is asked about.
        int getPendingDspProgramSerial() const noexcept { return pendingSerial.load(); }

        // Message thread, 20 times a second (the timer, or a test standing in for it): applies latency
        // changes, drains the console, reloads a watched script that changed, frees a swapped-out one.
        void messageThreadTick();
        // Message thread: once a program the user chose (not a session's) runs, its macro knobs take
        // the defaults it declares, but for a knob moved since the choice. (messageThreadTick calls it.)
        void applyProgramDefaults();

        // Message thread: the script's console (its print output, load events and errors).
        const std::deque<pg::ConsoleLine>& getConsole() const noexcept { return consoleLines; }
        void clearConsole() { consoleLines.clear(); }

        // The Standalone app feeds the engine a demo arpeggio while its input is silent.
        void setDemoSignalEnabled (bool enabled) noexcept { demoEnabled.store (enabled); }
        // Any thread: the Standalone app has no audio device open, and a timer drives the processor.
        bool isDrivenWithoutDevice() const noexcept { return deviceless != nullptr && deviceless->isDriving(); }
        bool isDemoSignalEnabled() const noexcept { return demoEnabled.load(); }

        pg::LatencyEngine& getEngine() noexcept { return engine; }
        juce::AudioProcessorValueTreeState& getState() noexcept { return state; }
        const ParameterRefs& getParams() const noexcept { return params; }

    private:
        juce::ValueTree parameterTreeFrom (const juce::ValueTree& restoredState) const;
        void timerCallback() override { messageThreadTick(); }
        void keepWhatPlays();
        void restoreDspProgram (const juce::String& named, const std::string& programState = {});
        void runProgram (const pg::ProgramCommand& command, const std::string& programState, bool takeDefaults = false);
        std::string savedProgramState();
        void addConsoleLine (pg::ConsoleLine::Kind kind, const juce::String& text);
        void recordLatency (int samples, LatencyChange::Reason reason);
        void rememberLatency();
        void processWithEngine (juce::AudioBuffer<float>&, bool forceBypass) noexcept PG_NONBLOCKING;
        void prepareEngine (double sampleRate, int maximumExpectedSamplesPerBlock);

        juce::AudioProcessorValueTreeState state;
        ParameterRefs params;
        pg::LatencyEngine engine;
        std::array<int, ParameterPush::scriptParameterCount> scriptParams {};
        ParameterPush parameterPush;
        int autoLatencyTarget() const;
        bool autoLatencyLearning() const;
        std::atomic<int> profiledLatency { 0 }; // the auto latency (0: not profiled yet)
        std::atomic<double> autoLatencyLearningSeconds { defaultAutoLatencyLearningSeconds };
        std::atomic<bool> hostPlaying { false }; // audio thread writes, from the play head
        // The latency the host last saw, as the state saved it: a reloaded session starts there.
        std::atomic<int> savedLatency { 0 }, savedBlockSize { 0 };
        std::atomic<double> savedSampleRate { 0.0 };
        std::atomic<bool> demoEnabled { false };
        DemoSignal demo;
        std::unique_ptr<DevicelessDriver> deviceless; // the Standalone app's only; last made, first destroyed
        int preparedBlockSize = 512;
        int appliedStrategy = 0; // message thread: the strategy whose latency was last applied
        const double createdAt = juce::Time::getMillisecondCounterHiRes();
        mutable std::mutex historyLock; // message and prepare threads only, never the audio thread
        mutable std::mutex scriptLock; // likewise
        std::string scriptSource, scriptName;
        juce::String dspProgram, pendingProgram; // scriptLock
        juce::String programInEffect; // scriptLock: the choice the engine last started (or the script's "")
        pg::ProgramCommand dspCommand, commandInEffect; // scriptLock: the two above, resolved and hashed
        std::string pendingProgramState; // scriptLock: the session's state for pendingProgram
        std::vector<std::string> pendingArgv; // scriptLock: pendingProgram resolved (empty: it cannot run)
        pg::ProgramCommand defaultsFor; // scriptLock: a program chosen whose knobs await its defaults
        std::array<float, std::size (ParamIDs::macros)> knobsAtChoice {}; // scriptLock: the macro knobs then
        bool pendingDismissed = false; // message thread
        std::atomic<int> pendingSerial { 0 }; // counted by setStateInformation, on any thread
        juce::File watchedFile; // message thread
        juce::Time watchedModification; // message thread
        std::deque<pg::ConsoleLine> consoleLines; // message thread
        std::vector<LatencyChange> history;

        JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (PauseGuardProcessor)
    };
} // namespace pauseguard
