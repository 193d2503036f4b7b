#include "ParameterPush.h"

#include <juce_audio_basics/juce_audio_basics.h>

namespace pauseguard
{
    namespace
    {
        // Stores `now` in `last` and says whether it changed (or `all` asks for every value).
        template <typename T>
        bool changed (T& last, const T& now, bool all) noexcept
        {
            if (! all && last == now)
                return false;
            last = now;
            return true;
        }

    } // namespace

    const std::array<const char*, ParameterPush::scriptParameterCount>& ParameterPush::scriptNames() noexcept
    {
        static const std::array<const char*, scriptParameterCount> names { ParamIDs::drive, ParamIDs::tone, ParamIDs::garbageKb,
                                                                           ParamIDs::liveHeapMb, ParamIDs::macros[0], ParamIDs::macros[1],
                                                                           ParamIDs::macros[2], ParamIDs::macros[3], ParamIDs::macros[4],
                                                                           ParamIDs::macros[5], ParamIDs::macros[6], ParamIDs::macros[7] };
        return names;
    }

    std::array<float, ParameterPush::scriptParameterCount> ParameterPush::scriptValues (const ParameterRefs& params) noexcept
    {
        return { params.drive.get(), params.tone.get() * 0.01f, params.garbageKb.get(), params.liveHeapMb.get(),
                 params.macros[0]->get(), params.macros[1]->get(), params.macros[2]->get(), params.macros[3]->get(),
                 params.macros[4]->get(), params.macros[5]->get(), params.macros[6]->get(), params.macros[7]->get() };
    }

    int ParameterPush::push (const ParameterRefs& params, const std::array<int, scriptParameterCount>& scriptIndices, pg::LatencyEngine& engine,
                             bool bypassed, bool offline) noexcept
    {
        const bool all = everything.load (std::memory_order_relaxed); // (a load: no read-modify-write per block)
        if (all)
            everything.store (false, std::memory_order_relaxed);
        int calls = 0;
        if (changed (mix, params.mix.get(), all))
        {
            engine.setMix (mix * 0.01f);
            ++calls;
        }
        if (changed (outputDb, params.output.get(), all))
        {
            engine.setOutputGain (juce::Decibels::decibelsToGain (outputDb));
            ++calls;
        }

        const auto scriptNow = scriptValues (params);
        for (size_t i = 0; i < scriptParameterCount; ++i)
            if (changed (script[i], scriptNow[i], all))
            {
                engine.setScriptParameter (scriptIndices[i], script[i]);
                ++calls;
            }

        const int pauseNow = juce::roundToInt (params.gcPausePct.get()), stepNow = juce::roundToInt (params.gcStepMulPct.get());
        if (all || pauseNow != pausePercent || stepNow != stepPercent)
        {
            pausePercent = pauseNow;
            stepPercent = stepNow;
            {
                engine.setPacing (pausePercent, stepPercent);
                ++calls;
            }
        }

        pg::DynamicSettings d;
        d.scheduler.budgetFraction = params.gcBudgetPct.get() * 0.01;
        d.scheduler.intervalSeconds = params.gcIntervalS.get();
        d.scheduler.heapThresholdBytes = static_cast<size_t> (params.gcThresholdMb.get()) << 20;
        d.scheduler.silenceHoldSeconds = params.silenceHoldMs.get() * 0.001;
        d.safetyFactor = params.safetyFactor.get();
        d.maxLatencySeconds = params.maxLatencyMs.get() * 0.001;
        d.silenceThreshold = juce::Decibels::decibelsToGain (params.silenceDb.get(), -200.0f);
        if (all || d != dynamic)
        {
            dynamic = d;
            {
                engine.setDynamicSettings (dynamic);
                ++calls;
            }
        }

        if (changed (wasBypassed, bypassed, all))
        {
            engine.setBypassed (bypassed);
            ++calls;
        }
        if (changed (wasOffline, offline, all))
        {
            engine.setOffline (offline);
            ++calls;
        }
        return calls;
    }
} // namespace pauseguard
