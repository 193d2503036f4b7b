#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

namespace pauseguard
{
    // One table of parameter IDs. The version in juce::ParameterID lets hosts keep automation
    // across releases: bump it only for a parameter whose meaning changes.
    namespace ParamIDs
    {
        inline constexpr auto latencyMs = "latency_ms";
        inline constexpr auto autoLatency = "auto_latency";
        inline constexpr auto mix = "mix";
        inline constexpr auto bypass = "bypass";
        inline constexpr auto drive = "drive_db";
        inline constexpr auto tone = "tone";
        inline constexpr auto output = "output_db";
        inline constexpr auto garbageKb = "garbage_kb";
        inline constexpr auto liveHeapMb = "live_heap_mb";
    } // namespace ParamIDs

    inline constexpr int parameterVersion = 1;

    juce::AudioProcessorValueTreeState::ParameterLayout createParameterLayout();

    // Typed references, looked up once: never a string lookup on the audio thread.
    struct ParameterRefs
    {
        explicit ParameterRefs (juce::AudioProcessorValueTreeState& state);

        juce::AudioParameterFloat& latencyMs;
        juce::AudioParameterBool& autoLatency;
        juce::AudioParameterFloat& mix; // percent
        juce::AudioParameterBool& bypass;
        juce::AudioParameterFloat& drive;
        juce::AudioParameterFloat& tone; // percent
        juce::AudioParameterFloat& output;
        juce::AudioParameterFloat& garbageKb;
        juce::AudioParameterFloat& liveHeapMb;
    };
} // namespace pauseguard
