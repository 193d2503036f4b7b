#pragma once

// Drives a LatencyEngine the way a host would, offline (waiting for the worker after each block,
// so it is never late) or paced in real time (a block every block period, the worker on its own).

#include "EngineTesting.h"
#include "LatencyEngine.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace pgtest
{
    inline std::string readAsset (const std::string& name)
    {
        std::ifstream in (std::string (PAUSEGUARD_ASSETS_DIR) + "/" + name, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    inline pg::EngineSettings settingsFor (double rate, int block, int channels)
    {
        pg::EngineSettings s;
        s.sampleRate = rate;
        s.maxBlockSize = block;
        s.numChannels = channels;
        return s;
    }

    // A stateful, chunking-independent test effect: y = 0.5 x + 0.25 x[n-1]. Its output differs
    // from the dry signal, so a test can tell wet from dry at every sample.
    inline const char* const simpleScript = R"lua(
local previous = {}
function prepare() previous = {} end
function process(ch, n, p)
    for c = 1, #ch do
        local x = ch[c]
        local prev = previous[c] or 0.0
        for i = 1, n do
            local v = x[i]
            x[i] = 0.5 * v + 0.25 * prev
            prev = v
        end
        previous[c] = prev
    end
end
)lua";

    // The same effect computed in C++ (in double, as Lua does, then rounded to float).
    inline std::vector<std::vector<float>> simpleWet (const std::vector<std::vector<float>>& in)
    {
        auto out = in;
        for (size_t c = 0; c < in.size(); ++c)
        {
            double prev = 0.0;
            for (size_t i = 0; i < in[c].size(); ++i)
            {
                const double v = static_cast<double> (in[c][i]);
                out[c][i] = static_cast<float> (0.5 * v + 0.25 * prev);
                prev = v;
            }
        }
        return out;
    }

    inline std::vector<std::vector<float>> noise (int channels, size_t frames, unsigned seed)
    {
        std::mt19937 rng (seed);
        std::uniform_real_distribution<float> d (-1.0f, 1.0f);
        std::vector<std::vector<float>> s (static_cast<size_t> (channels), std::vector<float> (frames));
        for (auto& ch : s)
            for (auto& v : ch)
                v = d (rng);
        return s;
    }

    // Puts the calling thread at a real-time priority above the engine's worker while it lives, as
    // a host's audio thread is; quietly does nothing where that is not allowed.
    class ScopedAudioPriority
    {
    public:
        ScopedAudioPriority()
        {
#if defined(__linux__)
            pthread_getschedparam (pthread_self(), &oldPolicy, &oldParam);
            sched_param p {};
            p.sched_priority = std::min (sched_get_priority_max (SCHED_FIFO), sched_get_priority_min (SCHED_FIFO) + 20);
            raised = pthread_setschedparam (pthread_self(), SCHED_FIFO, &p) == 0;
#endif
        }
        ~ScopedAudioPriority()
        {
#if defined(__linux__)
            if (raised)
                pthread_setschedparam (pthread_self(), oldPolicy, &oldParam);
#endif
        }

    private:
#if defined(__linux__)
        int oldPolicy = SCHED_OTHER;
        sched_param oldParam {};
#endif
        bool raised = false;
    };

    // Runs `in` through the engine in blocks whose sizes come from nextBlock(). offline: waits for
    // the worker after each block. Otherwise paced: one block per block period of real time; or,
    // not paced, as fast as the calls go. Only a paced run lets the engine find a render by the
    // pace of the calls.
    // A host that always sends blocks of n frames.
    inline std::function<int()> fixedBlocks (int n)
    {
        return [n] { return n; };
    }

    inline std::vector<std::vector<float>> run (pg::LatencyEngine& engine, const std::vector<std::vector<float>>& in,
                                                const std::function<int()>& nextBlock, bool offline,
                                                const std::function<void (size_t)>& beforeBlock = {}, bool paced = true)
    {
        const size_t frames = in[0].size();
        const int channels = static_cast<int> (in.size());
        std::vector<std::vector<float>> out = in;
        std::vector<float*> ptrs (static_cast<size_t> (channels));
        std::unique_ptr<ScopedAudioPriority> priority;
        if (! offline && paced)
            priority = std::make_unique<ScopedAudioPriority>();
        // Real time simulated faster than real time (blocks back to back, or waiting for the worker
        // after each, as an idle machine would): the engine must not take it for a render
        // (RenderPace.h). A host that renders says so here (setOffline).
        pg::EngineTesting::setRenderDetection (engine, ! offline && paced);
        // Simulated time (waiting for the worker, or not paced) starts with the script warm: in
        // real time the blocks of the warm-up pass on dry (ChunkWorkerTests.cpp tests them).
        if (offline || ! paced)
            engine.waitUntilWarm (30.0);
        const auto start = std::chrono::steady_clock::now();
        size_t pos = 0;
        while (pos < frames)
        {
            const auto n = std::min<size_t> (static_cast<size_t> (nextBlock()), frames - pos);
            if (! offline && paced)
                std::this_thread::sleep_until (start + std::chrono::duration<double> (static_cast<double> (pos) / engine.getSampleRate()));
            if (beforeBlock)
                beforeBlock (pos);
            for (int c = 0; c < channels; ++c)
                ptrs[static_cast<size_t> (c)] = out[static_cast<size_t> (c)].data() + pos;
            engine.processBlock (ptrs.data(), channels, static_cast<int> (n));
            if (offline)
                pg::EngineTesting::waitForWorker (engine, 10.0);
            pos += n;
        }
        return out;
    }

    // Offline, with the worker held (taking no chunk) for the blocks [holdFrom, holdFrom + holdBlocks):
    // a worker pause of exactly holdBlocks blocks of audio time, on any machine. Between the held
    // blocks the host does not wait; everywhere else it waits for the worker after each block.
    inline std::vector<std::vector<float>> runWithHeldWorker (pg::LatencyEngine& engine, const std::vector<std::vector<float>>& in,
                                                              int block, size_t holdFrom, size_t holdBlocks)
    {
        size_t index = 0;
        const auto out = run (
            engine, in, [block] { return block; }, false, [&] (size_t) {
            const bool held = index >= holdFrom && index < holdFrom + holdBlocks;
            // Wait before holding too: the block before the hold must be done, not merely queued,
            // or a busy machine would hold it as well.
            if (! held)
                pg::EngineTesting::holdWorker (engine, false);
            if (! held || index == holdFrom)
                pg::EngineTesting::waitForWorker (engine, 10.0);
            pg::EngineTesting::holdWorker (engine, held);
            ++index; }, /*paced*/ false);
        pg::EngineTesting::holdWorker (engine, false);
        return out;
    }

    // Everything the engine's console holds, a line each (emptying it).
    inline std::string consoleText (pg::LatencyEngine& engine)
    {
        std::string text;
        pg::ConsoleLine line;
        while (engine.popConsoleLine (line))
            text += std::string (line.text) + "\n";
        return text;
    }

    inline float delayedAt (const std::vector<float>& x, size_t n, int latency)
    {
        return n >= static_cast<size_t> (latency) ? x[n - static_cast<size_t> (latency)] : 0.0f;
    }
    // out[n] == wet[n - L] * mix + in[n - L] * (1 - mix), exactly, at every sample.
    inline size_t countMisaligned (const std::vector<std::vector<float>>& in, const std::vector<std::vector<float>>& wet,
                                   const std::vector<std::vector<float>>& out, int latency, float mix)
    {
        size_t bad = 0;
        for (size_t c = 0; c < in.size(); ++c)
            for (size_t n = 0; n < in[c].size(); ++n)
            {
                const float w = delayedAt (wet[c], n, latency), d = delayedAt (in[c], n, latency);
                const float expected = mix == 1.0f ? w : (mix == 0.0f ? d : w * mix + d * (1.0f - mix));
                bad += out[c][n] != expected ? 1u : 0u;
            }
        return bad;
    }
} // namespace pgtest
