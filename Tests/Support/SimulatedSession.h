#pragma once

// A host session under virtual time: a pool of k simulated threads, N engines (LatencyEngine, the
// real one) each with a SimulatedDsp, and an audio callback thread that calls every engine in
// turn each block period, as a DAW's would. It keeps each engine's output, so that a test can
// check it sample by sample against the input it was given.

#include "EngineTesting.h"
#include "SimulatedDsp.h"
#include "Simulation.h"
#include "WorkerPool.h"

#include <cmath>
#include <memory>
#include <vector>

namespace pgtest
{
    struct SessionConfig
    {
        int instances = 1, poolThreads = 2, block = 128;
        double rate = 48000.0;
        int latency = 960; // samples (-1: the engine's provisional one)
        pg::Strategy strategy = pg::Strategy::deterministic;
        std::function<DspCosts (int instance)> costs = [] (int) { return DspCosts {}; };
        float gain = 0.5f; // the DSP: y = gain · x
        int64_t callbackCost = 0; // the host callback's own time, besides the engines'
        // The input falls silent for the last silenceSeconds of every phraseSeconds, as music's
        // phrases end (0: a sine throughout). Silence is where the dynamic latency may shrink.
        double phraseSeconds = 0.0, silenceSeconds = 0.5;
    };

    class SimulatedSession
    {
    public:
        explicit SimulatedSession (SessionConfig c)
            : config (std::move (c))
        {
            pool = std::make_shared<pg::WorkerPool> (config.poolThreads);
            pg::WorkerPool::replaceShared (pool);
            for (int i = 0; i < config.instances; ++i)
            {
                auto e = std::make_unique<pg::LatencyEngine>();
                pg::EngineTesting::setDspFactory (*e, [this, i] { return std::make_unique<SimulatedDsp> (sim, config.costs (i), config.gain); });
                e->setStrategy (config.strategy);
                pg::EngineSettings s;
                s.sampleRate = config.rate;
                s.maxBlockSize = config.block;
                s.numChannels = 1;
                e->prepare (s, {}, "simulated", config.latency);
                engines.push_back (std::move (e));
                out.emplace_back();
            }
            pg::WorkerPool::replaceShared (nullptr);
        }

        ~SimulatedSession()
        {
            engines.clear(); // (each waits, in virtual time, until no pool thread is inside it)
            pool.reset(); // its threads end
        }

        // The input of instance i at sample n: a sine, a little different for each instance (and
        // the phrases' silences).
        float input (int i, long n) const
        {
            if (config.phraseSeconds > 0.0 && std::fmod (static_cast<double> (n) / config.rate, config.phraseSeconds) >= config.phraseSeconds - config.silenceSeconds)
                return 0.0f;
            return 0.5f * static_cast<float> (std::sin (2.0 * M_PI * (220.0 + 10.0 * i) * static_cast<double> (n) / config.rate));
        }

        // Plays `blocks` blocks from the next period on, and runs until the last has been called.
        void play (long blocks)
        {
            const int64_t period = periodNanos();
            const int64_t first = sim.now() + period;
            sim.every (first, period, blocks, [this] (long) { callback(); });
            sim.runUntil (first + blocks * period);
        }

        int64_t periodNanos() const { return static_cast<int64_t> (std::llround (config.block * 1.0e9 / config.rate)); }
        uint64_t dropouts (int i) const { return engines[static_cast<size_t> (i)]->getCounters().dropoutEvents; }
        uint64_t totalDropouts() const
        {
            uint64_t n = 0;
            for (int i = 0; i < config.instances; ++i)
                n += dropouts (i);
            return n;
        }
        // The wet output expected at sample n of instance i at latency L: gain · in[n - L].
        float expectedWet (int i, long n, int latency) const { return n < latency ? 0.0f : config.gain * input (i, n - latency); }

        SessionConfig config;
        Simulation sim; // (made before, and gone after, what it drives)
        std::shared_ptr<pg::WorkerPool> pool;
        std::vector<std::unique_ptr<pg::LatencyEngine>> engines;
        std::vector<std::vector<float>> out; // each instance's output, from its first sample

    private:
        void callback()
        {
            std::vector<float> buffer (static_cast<size_t> (config.block));
            for (size_t i = 0; i < engines.size(); ++i)
            {
                auto& o = out[i];
                const long n0 = static_cast<long> (o.size());
                for (int k = 0; k < config.block; ++k)
                    buffer[static_cast<size_t> (k)] = input (static_cast<int> (i), n0 + k);
                float* ch[1] = { buffer.data() };
                engines[i]->processBlock (ch, 1, config.block);
                o.insert (o.end(), buffer.begin(), buffer.end());
            }
            if (config.callbackCost > 0)
                sim.work (config.callbackCost);
        }
    };
} // namespace pgtest
