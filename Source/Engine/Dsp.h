#pragma once

// What the engine's worker runs: a DSP in a collected runtime. Two kinds implement it: LuaDsp (a
// Lua state in this process) and ExternalDsp (a program in a process of its own, Go for one).
// No JUCE here.
//
// Not thread-safe: one thread owns a Dsp at a time (the worker, or the loader while it prepares,
// warms or profiles one).

#include "EngineTypes.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace pg
{
    // While the host renders, a process call may take this long before it counts as hung: a render
    // waits for it, so only a hang is failed (in real time, the DSP's own budget applies).
    inline constexpr double renderCallBudgetSeconds = 20.0;

    class Dsp
    {
    public:
        virtual ~Dsp() = default;

        // Sizes the DSP for chunks of up to maxFrames frames and resets its DSP state.
        virtual bool prepare (double sampleRate, int maxFrames, int numChannels) = 0;
        // Replaces numFrames samples of each channel in place. False on failure: the buffers are
        // then left as they were (the input), getError says why, and the DSP is no longer ready.
        virtual bool process (float* const* channels, int numChannels, int numFrames) = 0;
        // params[name] = value at the next process call. `name` must outlive the DSP (a literal).
        virtual void setParameter (const char* name, double value) = 0;
        // A new DSP like this one (its script or program, its limits), started and prepared as
        // this one was; nullptr if it cannot start. Its parameters and collector mode are the
        // caller's to set. (A render starts a DSP that failed again, and runs its chunk again.)
        virtual std::unique_ptr<Dsp> restarted() const = 0;
        // The host renders (its calls wait for the DSP): process calls get renderCallBudgetSeconds.
        void setRendering (bool isRendering) noexcept { rendering = isRendering; }

        virtual bool isReady() const noexcept = 0;
        virtual const std::string& getError() const noexcept = 0;
        // What the DSP printed since the last call (a script's print; a program's stderr), by line.
        virtual std::vector<std::string> takePrinted() = 0;
        virtual const std::vector<ScriptMacro>& getMacros() const noexcept = 0;

        // ---- the collector ----------------------------------------------------------------
        // false: the engine runs every collection itself (dynamic strategy).
        virtual void setAutomaticCollection (bool enabled) = 0;
        // The deterministic strategy's pacing, where the runtime has one (Lua's incremental mode).
        virtual void setIncrementalPacing (int pausePercent, int stepMultiplierPercent, int stepSizeLog2 = 0) = 0;
        // The dynamic strategy's mode, where the runtime has one (Lua's generational mode).
        virtual void setGenerational() = 0;
        // A full collection; its duration in seconds, or < 0 if the DSP failed.
        virtual double fullCollection() = 0;
        // The dynamic strategy's full collection: one that runs beside the next process calls where
        // the runtime collects concurrently (isCollecting() is true until it ends), else a full
        // collection now. The time the call took, or < 0 if the DSP failed.
        virtual double startFullCollection() { return fullCollection(); }
        virtual bool isCollecting() const noexcept { return false; }
        // One small collector step, if the runtime has them (hasCollectorSteps); its duration.
        virtual double collectorStep (bool* cycleFinished = nullptr) = 0;
        virtual bool hasCollectorSteps() const noexcept = 0;
        // The runtime collects concurrently when left to itself (Go, Java, .NET): its automatic
        // collector never stops a process call for a whole cycle (its assists and short
        // stop-the-world pauses show in the calls' times). Lua's incremental steps run inside them.
        virtual bool collectsConcurrently() const noexcept { return false; }
        // Its work runs on the calling thread, so that thread's CPU time measures it (false: a
        // program's work is in another process).
        virtual bool runsOnCallingThread() const noexcept { return true; }
        // The runtime's heap, as it counts it (garbage not yet collected included).
        virtual size_t heapBytes() const noexcept = 0;
        // Right after a full collection: maps the memory the heap will grow into, now, where the
        // runtime's allocator can, up to `percent` of the heap it holds then (its live data). On
        // the loader, so that the first chunks do not fault the pages in on the real-time worker.
        virtual void reserveHeapGrowth (int percent) noexcept { (void)percent; }
        // The runtime's own collector figures, where it reports them (complete = false otherwise).
        virtual RuntimeFigures runtimeFigures() const noexcept { return {}; }

    protected:
        // The longest a process call may take: the DSP's own budget, or a render's.
        double processBudget (double realtimeBudget, double renderBudget = renderCallBudgetSeconds) const noexcept
        {
            return rendering && realtimeBudget < renderBudget ? renderBudget : realtimeBudget;
        }

    private:
        bool rendering = false;
    };
} // namespace pg
