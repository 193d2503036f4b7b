#pragma once

// A sandboxed Lua 5.4 state running one DSP script. Not thread-safe: one thread owns it
// (the engine's worker; during prepare, the thread that prepares, before the worker starts).

#include "Dsp.h"
#include "EngineTypes.h"
#include "ManagedHeap.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct lua_State;

namespace pg
{
    class LuaDsp final : public Dsp
    {
    public:
        explicit LuaDsp (LuaDspLimits limits = {});
        ~LuaDsp() override;
        LuaDsp (const LuaDsp&) = delete;
        LuaDsp& operator= (const LuaDsp&) = delete;

        // Creates a fresh sandboxed state and runs the script's main chunk. The script must
        // define `process(channels, n, params)`. Returns false and keeps a message on error.
        bool load (std::string_view source, std::string_view chunkName);

        // Calls the script's optional `prepare(sampleRate, maxFrames, numChannels)` and sizes
        // the channel tables passed to `process`.
        bool prepare (double sampleRate, int maxFrames, int numChannels) override;

        // A new state from the same source and limits, loaded and prepared as this one was.
        std::unique_ptr<Dsp> restarted() const override;

        // Runs `process` in place on numFrames samples of each channel. Non-finite values coming
        // back from the script are written as 0. On error returns false; the state is dead.
        bool process (float* const* channels, int numChannels, int numFrames) override;

        // Sets params[name] = value for the script (a plain Lua table), applied at the next
        // process call. `name` must outlive this object (a string literal). Up to maxParameters.
        void setParameter (const char* name, double value) override;
        static constexpr int maxParameters = 24;

        // Takes effect at the next load().
        void setLimits (LuaDspLimits newLimits) noexcept { limits = newLimits; }
        const LuaDspLimits& getLimits() const noexcept { return limits; }

        bool isReady() const noexcept override { return L != nullptr && error.empty(); }

        // The macro knobs the script declares in its global `macros` table (at most 8): params.macroN
        // (0..1, from the host) arrives as params[name] = min + (max - min) * knob.
        using MacroSpec = ScriptMacro;
        const std::vector<MacroSpec>& getMacros() const noexcept override { return macros; }

        // What the script printed since the last call (at most 64 lines are kept in between).
        std::vector<std::string> takePrinted() override { return std::exchange (printed, {}); }
        void addPrinted (std::string line)
        {
            if (printed.size() < 64)
                printed.push_back (std::move (line));
        }
        const std::string& getError() const noexcept override { return error; }

        // ---- the collector ----------------------------------------------------------------
        void setAutomaticCollection (bool enabled) override;
        // Lua's incremental pacing (LUA_GCINC): pause and step multiplier in percent, and the size of
        // a basic step as log2 of bytes (0 keeps the current one; Lua's default is 13, 8 KB).
        void setIncrementalPacing (int pausePercent, int stepMultiplierPercent, int stepSizeLog2 = 0) override;
        // Lua's generational mode (LUA_GCGEN): a basic step is then a young collection. Entering it
        // runs a full collection.
        void setGenerational() override;
        // A full collection; returns its duration in seconds.
        double fullCollection() override;
        // One basic incremental step (LUA_GCSTEP, 0); returns its duration in seconds.
        double collectorStep (bool* cycleFinished = nullptr) override;
        bool hasCollectorSteps() const noexcept override { return true; }

        size_t heapBytes() const noexcept override { return heap != nullptr ? heap->usedBytes() : 0; }
        void reserveHeapGrowth (int percent) noexcept override;
        size_t memoryLimit() const noexcept { return limits.memoryLimitBytes; }
        lua_State* state() const noexcept { return L; }

    private:
        static int processProtected (lua_State*);
        static int prepareProtected (lua_State*);
        static int readMacrosProtected (lua_State*);
        void close();
        void flushParameters();
        bool fail (std::string message);
        void armBudget (double seconds);

        LuaDspLimits limits;
        std::unique_ptr<ManagedHeap> heap;
        lua_State* L = nullptr;
        std::string error;
        std::vector<std::string> printed;
        std::vector<MacroSpec> macros;
        int paramsRef = -1, channelsRef = -1, processRef = -1, prepareRef = -1;
        int numChannels = 0, maxFrames = 0;
        double preparedRate = 0.0;
        std::string loadedSource, loadedName; // what load() was given, for restarted()

        struct Parameter
        {
            const char* name = nullptr;
            double value = 0.0;
            bool dirty = false;
        };
        Parameter parameters[maxParameters];
        int numParameters = 0;

        // Scratch for the protected call.
        float* const* ioChannels = nullptr;
        int ioNumChannels = 0, ioNumFrames = 0;

    public:
        double budgetDeadline = 0.0; // steady-clock seconds; read by the instruction hook
        double armedBudgetSeconds = 0.0; // the budget that deadline is for (in its message)
    };
} // namespace pg
