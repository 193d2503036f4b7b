#pragma once

#include <juce_audio_processors/juce_audio_processors.h>

#include <array>

namespace pauseguard
{
    // One table of parameter IDs. The version in juce::ParameterID lets hosts keep automation
    // across releases: bump it only for a parameter whose meaning changes.
    namespace ParamIDs
    {
        inline constexpr auto latencyMs = "latency_ms";
        inline constexpr auto autoLatency = "auto_latency";
        inline constexpr auto latencyWhilePlaying = "latency_while_playing";
        inline constexpr auto mix = "mix";
        inline constexpr auto bypass = "bypass";
        inline constexpr auto drive = "drive_db";
        inline constexpr auto tone = "tone";
        inline constexpr auto output = "output_db";
        inline constexpr auto garbageKb = "garbage_kb";
        inline constexpr auto liveHeapMb = "live_heap_mb";
        inline constexpr auto strategy = "strategy";
        inline constexpr auto gcBudgetPct = "gc_budget_pct";
        inline constexpr auto gcIntervalS = "gc_interval_s";
        inline constexpr auto gcThresholdMb = "gc_threshold_mb";
        inline constexpr auto silenceDb = "silence_db";
        inline constexpr auto silenceHoldMs = "silence_hold_ms";
        inline constexpr auto safetyFactor = "safety_factor";
        inline constexpr auto maxLatencyMs = "max_latency_ms";
        inline constexpr auto gcPausePct = "gc_pause_pct";
        inline constexpr auto gcStepMulPct = "gc_stepmul_pct";
        // The script's macro knobs, 0..1 (the script maps them to its own names and ranges).
        inline constexpr const char* macros[8] = { "macro1", "macro2", "macro3", "macro4",
                                                   "macro5", "macro6", "macro7", "macro8" };
    } // namespace ParamIDs

    inline constexpr int parameterVersion = 1;

    juce::AudioProcessorValueTreeState::ParameterLayout createParameterLayout();

    // Typed references, looked up once: never a string lookup on the audio thread.
    struct ParameterRefs
    {
        explicit ParameterRefs (juce::AudioProcessorValueTreeState& state);

        juce::AudioParameterFloat& latencyMs;
        juce::AudioParameterBool& autoLatency;
        juce::AudioParameterBool& latencyWhilePlaying; // off: latency changes reach the host only while stopped
        juce::AudioParameterFloat& mix; // percent
        juce::AudioParameterBool& bypass;
        juce::AudioParameterFloat& drive;
        juce::AudioParameterFloat& tone; // percent
        juce::AudioParameterFloat& output;
        juce::AudioParameterFloat& garbageKb;
        juce::AudioParameterFloat& liveHeapMb;
        juce::AudioParameterChoice& strategy; // 0 deterministic, 1 dynamic
        juce::AudioParameterFloat& gcBudgetPct;
        juce::AudioParameterFloat& gcIntervalS;
        juce::AudioParameterFloat& gcThresholdMb;
        juce::AudioParameterFloat& silenceDb;
        juce::AudioParameterFloat& silenceHoldMs;
        juce::AudioParameterFloat& safetyFactor;
        juce::AudioParameterFloat& maxLatencyMs;
        juce::AudioParameterFloat& gcPausePct;
        juce::AudioParameterFloat& gcStepMulPct;
        std::array<juce::AudioParameterFloat*, 8> macros {};
    };
} // namespace pauseguard
