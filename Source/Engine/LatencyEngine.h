#pragma once

// The latency engine: the managed DSP runs on a worker thread, decoupled from the audio thread by
// lock-free FIFOs, and the audio thread plays its output exactly L samples late. No JUCE here.
//
// This header is the engine's whole interface. Its rings, threads, locks and Lua state live in
// EngineControl and its parts, out of sight: a host includes this and links PauseGuard::engine.
//
// Threads:
//   audio   processBlock().
//   worker  a thread of the process's shared WorkerPool: runs the script (and, through it, the
//           collector). Never seen by the caller.
//   control everything else: any one non-audio thread at a time (a host's message thread).

#include "EngineTypes.h"
#include "Realtime.h"
#include "Stats.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pg
{
    class EngineControl;

    class LatencyEngine
    {
    public:
        static constexpr int maxChannels = 8;
        static constexpr int maxScriptParameters = 16;
        // Offline, the audio thread gives up waiting after this long without output from the worker
        // (a render's DSP call may take renderCallBudgetSeconds, 20 s, before it counts as hung).
        static constexpr double offlineWaitSeconds = 30.0;
        // The largest block the engine's buffers are sized for, and the largest a real-time host
        // sends (JACK's and Ardour's largest period). A larger announced maximum is capped here;
        // larger blocks are processed in pieces of the prepared size, and are a render (RenderPace.h).
        static constexpr int maxBufferedBlock = 8192;

        LatencyEngine();
        ~LatencyEngine();
        LatencyEngine (const LatencyEngine&) = delete;
        LatencyEngine& operator= (const LatencyEngine&) = delete;

        // Control thread, before prepare. `name` must be a string literal (it outlives the engine).
        // Returns the parameter's index, or -1 past maxScriptParameters.
        int addScriptParameter (const char* name, float initialValue);

        // Control thread. Not real-time, but fast (no profile here): stops the worker, allocates,
        // compiles and prepares the script (a script that fails leaves the engine running with the
        // delayed dry signal and the error kept), then starts the worker. With settings.dspProgram,
        // the program is started (or kept, if it runs already) and prepared in place of the
        // script, each answer bounded by 2 s; one that fails is restarted after a backoff. Returns false if the
        // script failed. L is latencySamples raised to the floor (latencySamples < 0: the floor, or
        // 10 ms if more). profile: the auto latency is measured on the loader thread, in the
        // background; takeProfile() gives it when it is done (the engine does not apply it).
        //
        // Safe against a concurrent processBlock(): prepare() and release() first wait until no
        // call is inside it, and calls meanwhile pass the audio through untouched. A host still
        // normally stops its callback around them (JUCE: prepareToPlay, releaseResources).
        bool prepare (const EngineSettings& settings, std::string_view scriptSource, std::string_view scriptName,
                      int latencySamples, bool profile = false, double profileBudgetSeconds = 0.4);

        // Control thread. Stops the worker (and a DSP program's process); processBlock() is a
        // pass-through until the next prepare.
        void release();

        // Control thread: the newest complete profile, once (then false until another completes).
        bool takeProfile (ProfileResult& result);
        // Control thread: the newest complete profile (complete = false if none yet).
        ProfileResult getProfile() const;
        // Control thread: waits until a profile asked for has completed. False on timeout or if none runs.
        bool waitForProfile (double timeoutSeconds) const;
        // Control thread, after prepare: profiles the running script in the background (as prepare
        // does when asked), unless a profile of it has already run or is running.
        void profileInBackground (double budgetSeconds = 0.4);
        // Control thread: a profile of the current script has run or is running.
        bool hasProfiled() const;

        // Audio thread. Wait-free in real time: no allocation, no lock, no Lua, no blocking syscall.
        // Offline (setOffline (true)) it waits for the worker, a bounded time, so that the output
        // is complete. Processes any numFrames in place (larger than prepared: in pieces).
        void processBlock (float* const* channels, int numChannels, int numFrames) noexcept PG_NONBLOCKING;

        // Any thread: the host renders offline (JUCE's isNonRealtime()). processBlock then waits for
        // the worker in each block (up to offlineWaitSeconds), and the engine wants no latency change.
        // isOffline() is also true while the host calls much faster than real time without saying
        // so (RenderPace.h; EngineTesting.h says whether it does now, and lets a test that plays
        // real time faster than real time turn that off).
        void setOffline (bool isOffline) noexcept;
        bool isOffline() const noexcept;

        // The smallest latency a block size allows: the block, the dropout fade's look-ahead (1 ms),
        // and the worker's minimum slack to run a chunk (2 ms + a quarter of the block).
        static int latencyFloorFor (int blockSize, double sampleRate) noexcept;
        // Any thread: the floor for the largest block sent in real time since prepare; before the
        // first, for the announced maximum block (prepare's), or for no block if that is more than
        // maxBufferedBlock (no real-time host sends such blocks). Blocks of a render never raise it.
        // Every latency the engine takes is raised to it. In the dynamic strategy (once the worker
        // runs it) the floor is one block + the fade + 0.5 ms: the slack is what the adaptive
        // latency measures (one block + the fade + the safety factor x the responses).
        int getLatencyFloor() const noexcept;
        // Any thread: the block size the floor is for now (see getLatencyFloor).
        int getLargestBlock() const noexcept;

        // Any thread. The new latency (raised to the floor) is taken by the audio thread at its next
        // block, or, if a latency crossfade is running, when it ends (a request back to the
        // previous latency reverses it from its current gain at once).
        void requestLatency (int samples) noexcept;
        // Any thread: the latency the audio thread is using (or will use once a request lands).
        int getLatencySamples() const noexcept;
        int clampLatency (int samples) const noexcept;

        // Any thread. Lock-free. The mix and the output gain (linear, on the wet signal) are applied
        // at the output stage, ramped over the next block: a host that sends automation for the
        // time the output is heard (Ardour) has them land there.
        void setMix (float zeroToOne) noexcept;
        void setOutputGain (float linear) noexcept;
        void setBypassed (bool b) noexcept;
        void setScriptParameter (int index, float value) noexcept;
        void setStrategy (Strategy s) noexcept;
        Strategy getStrategy() const noexcept;
        // The strategy the worker runs now (it takes a requested one at its next chunk).
        Strategy getAppliedStrategy() const noexcept;
        // Deterministic strategy: Lua's incremental pacing (pause and step multiplier, in %).
        void setPacing (int pausePercent, int stepMultiplierPercent) noexcept;
        void setDynamicSettings (const DynamicSettings& s) noexcept;
        // Audio thread (from the host's play head). Stopped transport is a natural break.
        void setTransportPlaying (bool playing) noexcept;

        // Any thread: the latency the dynamic strategy wants now (0 before prepare). The control
        // thread applies it (requestLatency + the host's notification) when the strategy is dynamic.
        int getWantedDynamicLatency() const noexcept;
        // Any thread: the latency that the deterministic strategy's responses at real-time pace
        // (a chunk's arrival to its output) have called for since prepare or the last script swap:
        // one block + the safety factor x the longest response, on the adapter's grid; 0 before
        // any. It only grows. Chunks that arrived before the script's warm-up ended are left out.
        // The plugin's auto latency is the larger of this and the profile's.
        int getMeasuredLatency() const noexcept;
        // Any thread: the audio, in seconds, whose responses getMeasuredLatency has seen (since
        // the same point).
        double getMeasuredSeconds() const noexcept;

        bool isPrepared() const noexcept;
        // Any thread, while prepared: the memory this instance's buffers take (the delay line, the
        // rings to and from the worker, their stamps, its lane of the trace). The DSP's own heap
        // is not in it.
        size_t getPreparedBytes() const noexcept;
        double getSampleRate() const noexcept;
        int getMaxBlockSize() const noexcept;

        // Any thread. Lock-free snapshots.
        EngineCounters getCounters() const noexcept;
        DurationHistogram::Snapshot getProcessingHistogram() const noexcept;
        DurationHistogram::Snapshot getLatenessHistogram() const noexcept;
        DurationHistogram::Snapshot getPauseHistogram() const noexcept;
        // Arrival of a chunk's input to the delivery of its output.
        DurationHistogram::Snapshot getResponseHistogram() const noexcept;
        // Resets every histogram and counter, from any thread (the worker clears them at its next chunk).
        void resetStatistics() noexcept;
        // The script's error, empty if none.
        std::string getScriptError() const;

        // Control thread, after prepare: the loader thread compiles `source`, prepares it, builds its
        // live heap (and profiles it if `profile`), then the worker crossfades from the running
        // script to it; a script that fails never replaces a working one (it is reported on the
        // console instead). Before prepare it does nothing: prepare takes the script.
        void loadScript (std::string source, std::string name, bool profile = false);
        // Control thread: runs a DSP program in place of the script from now on (as
        // settings.dspProgram would at prepare), started on the loader thread and crossfaded to; an
        // empty program goes back to the script. While a program is chosen, loadScript only reports
        // on the console. Before prepare it does nothing: prepare takes settings.dspProgram.
        void loadProgram (ProgramCommand program, bool profile = false);
        // Control thread: the name of the script the worker runs, and the macros it declares.
        std::string getScriptName() const;
        std::vector<ScriptMacro> getScriptMacros() const;
        // Control thread: the next console line, if any. A DSP program's stderr arrives here too.
        bool popConsoleLine (ConsoleLine& line) noexcept;
        // Any thread: the process id of the DSP program running (settings.dspProgram), 0 if none.
        // This engine's number in the trace (Trace/Trace.h: 0, 1, 2, … in the order engines were made).
        int getTraceInstance() const noexcept;
        int getDspProcessId() const noexcept;
        // Control thread: the DSP program in effect (prepare's settings.dspProgram, or the last
        // loadProgram's once it started; empty: the script), and whether a loadProgram's start is
        // still under way. A loadProgram that fails leaves the one before in effect.
        ProgramCommand getActiveProgram() const;
        // A program that failed is restarted after a backoff (0.25 s, doubling), 5 times in a row
        // at the most (the backoff starts over once it ran 30 s); then restarts stop, with a
        // message on the console, until retryProgram (false: restarts had not stopped). Any thread.
        bool retryProgram();
        bool areProgramRestartsStopped() const noexcept;
        // A DSP program's state (protocol 2.2): bytes of its own that a session keeps. Every start
        // of the program loads the state set here (a restart: the latest one saved); an empty one
        // loads nothing. getProgramState asks the worker to save the running program's state
        // before its next chunk and waits up to timeoutSeconds; with no answer (no audio runs) it
        // gives the latest known. Control thread.
        void setProgramState (std::string state);
        std::string getProgramState (double timeoutSeconds = 0.1);
        bool isProgramChoicePending() const;
        // Control thread: waits until the warm-up is done. False on timeout. The warm-up: the
        // loader builds the live heap of the script prepare gave (in real time; prepare starts it).
        // The worker takes no chunk meanwhile, so a host that plays at once gets the delayed dry
        // signal, counted as dropouts, until it is done. The script's prepare() is called again
        // after it: the script must reset its DSP state there.
        bool waitUntilWarm (double timeoutSeconds) const;

    private:
        friend class EngineTesting; // the hooks of tests and tools (EngineTesting.h, not installed)
        std::unique_ptr<EngineControl> core;
    };
} // namespace pg
