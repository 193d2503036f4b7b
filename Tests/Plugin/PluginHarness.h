#pragma once

#include "EngineTesting.h"
#include "EngineHarness.h"
#include "LuaDsp.h"
#include "PluginProcessor.h"

namespace pgtest
{
    // A real-time host simulated faster than real time (blocks back to back): the engine must not
    // take the pace of its calls for a render (RenderPace.h).
    inline void simulateRealtimeHost (pauseguard::PauseGuardProcessor& p) { pg::EngineTesting::setRenderDetection (p.getEngine(), false); }

    inline void setParam (pauseguard::PauseGuardProcessor& p, const char* id, float plainValue)
    {
        auto* param = p.getState().getParameter (id);
        param->setValueNotifyingHost (param->convertTo0to1 (plainValue));
    }

    // Runs `in` through the processor as a real-time host on an idle machine would (the worker
    // always in time: the harness waits for it after each block), in blocks from nextBlock().
    inline std::vector<std::vector<float>> runProcessor (pauseguard::PauseGuardProcessor& p, const std::vector<std::vector<float>>& in,
                                                         const std::function<int()>& nextBlock,
                                                         const std::function<void (size_t)>& beforeBlock = {})
    {
        simulateRealtimeHost (p);
        p.getEngine().waitUntilWarm (30.0); // (an idle machine's worker is in time from the first block)
        const size_t frames = in[0].size();
        const int channels = static_cast<int> (in.size());
        std::vector<std::vector<float>> out = in;
        juce::MidiBuffer midi;
        size_t pos = 0;
        while (pos < frames)
        {
            const auto n = std::min<size_t> (static_cast<size_t> (nextBlock()), frames - pos);
            if (beforeBlock)
                beforeBlock (pos);
            std::vector<float*> ptrs;
            for (int c = 0; c < channels; ++c)
                ptrs.push_back (out[static_cast<size_t> (c)].data() + pos);
            juce::AudioBuffer<float> buffer (ptrs.data(), channels, static_cast<int> (n));
            p.processBlock (buffer, midi);
            pg::EngineTesting::waitForWorker (p.getEngine(), 10.0);
            pos += n;
        }
        return out;
    }

    // The built-in effect computed directly by a LuaDsp with the processor's parameter values.
    inline std::vector<std::vector<float>> builtinWet (const std::vector<std::vector<float>>& in, double rate, float driveDb,
                                                       float tone01)
    {
        pg::LuaDsp dsp;
        dsp.load (readAsset ("BuiltinEffect.lua"), "BuiltinEffect.lua");
        dsp.setParameter ("drive_db", driveDb);
        dsp.setParameter ("tone", tone01);
        dsp.setParameter ("garbage_kb", 0.0);
        dsp.setParameter ("live_heap_mb", 0.0);
        const int channels = static_cast<int> (in.size());
        dsp.prepare (rate, 256, channels);
        auto out = in;
        for (size_t pos = 0; pos < in[0].size(); pos += 256)
        {
            const auto n = std::min<size_t> (256, in[0].size() - pos);
            std::vector<float*> ptrs;
            for (auto& ch : out)
                ptrs.push_back (ch.data() + pos);
            dsp.process (ptrs.data(), channels, static_cast<int> (n));
        }
        return out;
    }
} // namespace pgtest
