#include "Parameters.h"

namespace pauseguard
{
    namespace
    {
        juce::ParameterID id (const char* name) { return { name, parameterVersion }; }

        // A range whose useful values are small gets its midpoint there.
        juce::NormalisableRange<float> skewed (float lo, float hi, float centre, float step = 0.0f)
        {
            juce::NormalisableRange<float> r { lo, hi, step };
            r.setSkewForCentre (centre);
            return r;
        }

        juce::AudioParameterFloatAttributes unit (const char* label, int decimals)
        {
            return juce::AudioParameterFloatAttributes {}
                .withLabel (label)
                .withStringFromValueFunction ([decimals] (float v, int) { return juce::String (v, decimals); })
                .withValueFromStringFunction ([] (const juce::String& s) { return s.retainCharacters ("-0123456789.").getFloatValue(); });
        }

        template <typename T>
        T& get (juce::AudioProcessorValueTreeState& state, const char* paramId)
        {
            auto* p = dynamic_cast<T*> (state.getParameter (paramId));
            jassert (p != nullptr);
            return *p;
        }
    } // namespace

    juce::AudioProcessorValueTreeState::ParameterLayout createParameterLayout()
    {
        using namespace ParamIDs;
        juce::AudioProcessorValueTreeState::ParameterLayout layout;

        auto latency = std::make_unique<juce::AudioProcessorParameterGroup> ("latency", "Latency", "|");
        latency->addChild (std::make_unique<juce::AudioParameterFloat> (id (latencyMs), "Latency", skewed (1.0f, 200.0f, 20.0f, 0.1f), 20.0f, unit ("ms", 1)));
        latency->addChild (std::make_unique<juce::AudioParameterBool> (id (autoLatency), "Auto latency", false));
        latency->addChild (std::make_unique<juce::AudioParameterBool> (id (latencyWhilePlaying), "Latency changes while playing", false));
        latency->addChild (std::make_unique<juce::AudioParameterChoice> (id (strategy), "Strategy", juce::StringArray { "Deterministic", "Dynamic" }, 0));
        latency->addChild (std::make_unique<juce::AudioParameterFloat> (id (maxLatencyMs), "Max latency", skewed (5.0f, 500.0f, 60.0f, 0.1f), 100.0f, unit ("ms", 1)));
        latency->addChild (std::make_unique<juce::AudioParameterFloat> (id (safetyFactor), "Safety factor", juce::NormalisableRange<float> { 1.0f, 4.0f, 0.05f }, 1.5f, unit ("x", 2)));

        auto collector = std::make_unique<juce::AudioProcessorParameterGroup> ("collector", "Collector schedule", "|");
        collector->addChild (std::make_unique<juce::AudioParameterFloat> (id (gcBudgetPct), "Collector budget", juce::NormalisableRange<float> { 1.0f, 50.0f, 0.5f }, 25.0f, unit ("%", 1)));
        collector->addChild (std::make_unique<juce::AudioParameterFloat> (id (gcIntervalS), "Full collection interval", skewed (0.5f, 60.0f, 5.0f, 0.1f), 5.0f, unit ("s", 1)));
        collector->addChild (std::make_unique<juce::AudioParameterFloat> (id (gcThresholdMb), "Forced collection threshold", skewed (16.0f, 768.0f, 256.0f, 1.0f), 384.0f, unit ("MB", 0)));
        collector->addChild (std::make_unique<juce::AudioParameterFloat> (id (silenceDb), "Silence threshold", juce::NormalisableRange<float> { -96.0f, -30.0f, 0.5f }, -60.0f, unit ("dB", 1)));
        collector->addChild (std::make_unique<juce::AudioParameterFloat> (id (silenceHoldMs), "Silence hold", skewed (50.0f, 5000.0f, 500.0f, 1.0f), 250.0f, unit ("ms", 0)));
        collector->addChild (std::make_unique<juce::AudioParameterFloat> (id (gcPausePct), "Collector pause (deterministic)", juce::NormalisableRange<float> { 100.0f, 1000.0f, 5.0f }, 200.0f, unit ("%", 0)));
        collector->addChild (std::make_unique<juce::AudioParameterFloat> (id (gcStepMulPct), "Collector step multiplier (deterministic)", juce::NormalisableRange<float> { 100.0f, 1000.0f, 5.0f }, 100.0f, unit ("%", 0)));

        auto effect = std::make_unique<juce::AudioProcessorParameterGroup> ("effect", "Effect", "|");
        effect->addChild (std::make_unique<juce::AudioParameterFloat> (id (drive), "Drive", juce::NormalisableRange<float> { 0.0f, 36.0f, 0.1f }, 12.0f, unit ("dB", 1)));
        effect->addChild (std::make_unique<juce::AudioParameterFloat> (id (tone), "Tone", juce::NormalisableRange<float> { 0.0f, 100.0f, 0.1f }, 50.0f, unit ("%", 0)));
        effect->addChild (std::make_unique<juce::AudioParameterFloat> (id (output), "Output", juce::NormalisableRange<float> { -24.0f, 12.0f, 0.1f }, 0.0f, unit ("dB", 1)));
        effect->addChild (std::make_unique<juce::AudioParameterFloat> (id (mix), "Mix", juce::NormalisableRange<float> { 0.0f, 100.0f, 0.1f }, 100.0f, unit ("%", 0)));
        effect->addChild (std::make_unique<juce::AudioParameterBool> (id (bypass), "Bypass", false));

        auto workload = std::make_unique<juce::AudioProcessorParameterGroup> ("workload", "Workload", "|");
        workload->addChild (std::make_unique<juce::AudioParameterFloat> (id (garbageKb), "Garbage per block", skewed (0.0f, 1024.0f, 64.0f, 1.0f), 16.0f, unit ("KB", 0)));
        workload->addChild (std::make_unique<juce::AudioParameterFloat> (id (liveHeapMb), "Live heap", skewed (0.0f, 256.0f, 16.0f, 0.5f), 4.0f, unit ("MB", 1)));

        auto script = std::make_unique<juce::AudioProcessorParameterGroup> ("script", "Script macros", "|");
        for (int i = 0; i < 8; ++i)
            script->addChild (std::make_unique<juce::AudioParameterFloat> (id (macros[i]), "Macro " + juce::String (i + 1),
                                                                           juce::NormalisableRange<float> { 0.0f, 1.0f, 0.001f }, 0.5f,
                                                                           juce::AudioParameterFloatAttributes {}));

        layout.add (std::move (latency), std::move (collector), std::move (effect), std::move (workload), std::move (script));
        return layout;
    }

    ParameterRefs::ParameterRefs (juce::AudioProcessorValueTreeState& s)
        : latencyMs (get<juce::AudioParameterFloat> (s, ParamIDs::latencyMs))
        , autoLatency (get<juce::AudioParameterBool> (s, ParamIDs::autoLatency))
        , latencyWhilePlaying (get<juce::AudioParameterBool> (s, ParamIDs::latencyWhilePlaying))
        , mix (get<juce::AudioParameterFloat> (s, ParamIDs::mix))
        , bypass (get<juce::AudioParameterBool> (s, ParamIDs::bypass))
        , drive (get<juce::AudioParameterFloat> (s, ParamIDs::drive))
        , tone (get<juce::AudioParameterFloat> (s, ParamIDs::tone))
        , output (get<juce::AudioParameterFloat> (s, ParamIDs::output))
        , garbageKb (get<juce::AudioParameterFloat> (s, ParamIDs::garbageKb))
        , liveHeapMb (get<juce::AudioParameterFloat> (s, ParamIDs::liveHeapMb))
        , strategy (get<juce::AudioParameterChoice> (s, ParamIDs::strategy))
        , gcBudgetPct (get<juce::AudioParameterFloat> (s, ParamIDs::gcBudgetPct))
        , gcIntervalS (get<juce::AudioParameterFloat> (s, ParamIDs::gcIntervalS))
        , gcThresholdMb (get<juce::AudioParameterFloat> (s, ParamIDs::gcThresholdMb))
        , silenceDb (get<juce::AudioParameterFloat> (s, ParamIDs::silenceDb))
        , silenceHoldMs (get<juce::AudioParameterFloat> (s, ParamIDs::silenceHoldMs))
        , safetyFactor (get<juce::AudioParameterFloat> (s, ParamIDs::safetyFactor))
        , maxLatencyMs (get<juce::AudioParameterFloat> (s, ParamIDs::maxLatencyMs))
        , gcPausePct (get<juce::AudioParameterFloat> (s, ParamIDs::gcPausePct))
        , gcStepMulPct (get<juce::AudioParameterFloat> (s, ParamIDs::gcStepMulPct))
    {
        for (size_t i = 0; i < macros.size(); ++i)
            macros[i] = &get<juce::AudioParameterFloat> (s, ParamIDs::macros[i]);
    }
} // namespace pauseguard
