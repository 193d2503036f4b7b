#pragma once

// A DSP for simulations (Simulation.h): y = gain · x, whose chunks and collections cost scripted
// virtual time. Its heap grows by `garbagePerChunk` each chunk and returns to `liveBytes` after a
// collection, so the dynamic strategy's scheduler sees a heap that grows as a script's does.

#include "Dsp.h"
#include "Simulation.h"

#include <functional>
#include <memory>

namespace pgtest
{
    struct DspCosts
    {
        // The cost of chunk k (counted from 0) of n frames.
        std::function<int64_t (long k, int n)> chunk = [] (long, int) { return 50 * us; };
        int64_t fullCollection = 2 * ms;
        int64_t collectorStep = 100 * us;
        size_t liveBytes = size_t (4) << 20, garbagePerChunk = size_t (16) << 10;
        // A runtime that collects by itself (the deterministic strategy): every `cycleChunks`
        // chunks after the last collection, a chunk also pays for a whole collection (0: never).
        long cycleChunks = 0;
        long cycleJitter = 0; // each cycle a few chunks longer or shorter, as a real runtime's (0..±this)
        unsigned seed = 1;
        bool concurrent = false; // its collector runs beside the calls (Go's): no full-collection pauses
    };

    class SimulatedDsp final : public pg::Dsp
    {
    public:
        SimulatedDsp (Simulation& s, DspCosts c, float g = 0.5f)
            : sim (s)
            , costs (std::move (c))
            , gain (g)
        {
        }

        bool prepare (double, int, int) override { return true; }
        bool process (float* const* channels, int numChannels, int numFrames) override
        {
            const bool cycleEnds = automatic && costs.cycleChunks > 0 && ++sinceCollection >= costs.cycleChunks + jitter;
            sim.work (costs.chunk (chunks++, numFrames) + (cycleEnds ? costs.fullCollection : 0));
            if (cycleEnds)
                garbage = 0, sinceCollection = 0, jitter = nextJitter();
            for (int c = 0; c < numChannels; ++c)
                for (int i = 0; i < numFrames; ++i)
                    channels[c][i] *= gain;
            garbage += costs.garbagePerChunk;
            return true;
        }
        void setParameter (const char*, double) override {}
        std::unique_ptr<pg::Dsp> restarted() const override { return std::make_unique<SimulatedDsp> (sim, costs, gain); }
        bool isReady() const noexcept override { return true; }
        const std::string& getError() const noexcept override { return noError; }
        std::vector<std::string> takePrinted() override { return {}; }
        const std::vector<pg::ScriptMacro>& getMacros() const noexcept override { return noMacros; }
        void setAutomaticCollection (bool enabled) override { automatic = enabled; }
        void setIncrementalPacing (int, int, int) override {}
        void setGenerational() override {}
        double fullCollection() override { return collect (costs.fullCollection); }
        double collectorStep (bool* finished) override
        {
            if (finished != nullptr)
                *finished = false;
            return collect (costs.collectorStep);
        }
        bool hasCollectorSteps() const noexcept override { return true; }
        bool collectsConcurrently() const noexcept override { return costs.concurrent; }
        size_t heapBytes() const noexcept override { return costs.liveBytes + garbage; }
        long chunksRun() const noexcept { return chunks; }

    private:
        double collect (int64_t cost)
        {
            const int64_t t0 = sim.now();
            sim.work (cost);
            garbage = 0;
            sinceCollection = 0;
            return static_cast<double> (sim.now() - t0) * 1.0e-9;
        }

        Simulation& sim;
        DspCosts costs;
        float gain;
        long nextJitter()
        {
            if (costs.cycleJitter <= 0)
                return 0;
            rng = rng * 1103515245u + 12345u;
            return static_cast<long> ((rng >> 8) % static_cast<unsigned> (2 * costs.cycleJitter + 1)) - costs.cycleJitter;
        }

        long chunks = 0, sinceCollection = 0, jitter = 0;
        unsigned rng = costs.seed;
        size_t garbage = 0;
        bool automatic = true;
        const std::string noError;
        const std::vector<pg::ScriptMacro> noMacros {};
    };
} // namespace pgtest
