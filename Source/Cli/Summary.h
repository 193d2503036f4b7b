#pragma once

// A run's summary: what one processor did, as text or JSON.

#include "Options.h"
#include "PluginProcessor.h"

namespace pauseguard::cli
{
    struct Summary
    {
        juce::String strategy;
        double rate = 0.0, seconds = 0.0;
        int block = 0, latency = 0, maxLatency = 0, latencyChanges = 0;
        uint64_t dropouts = 0, dropoutsAfterWarmup = 0, deadlineMisses = 0;
        pg::EngineCounters counters;
        pg::DurationHistogram::Snapshot pauses, lateness, processing;
    };

    juce::var histogramVar (const pg::DurationHistogram::Snapshot& s);
    juce::var runtimeVar (const pg::RuntimeFigures& r);
    juce::DynamicObject::Ptr summaryObject (const Summary& s);
    // As text, or one JSON object (with `extra`'s properties added).
    void printSummary (const Summary& s, bool json, juce::DynamicObject::Ptr extra = nullptr);
    // p's figures after a run of `seconds`.
    Summary collect (PauseGuardProcessor& p, const Options& o, double seconds);
} // namespace pauseguard::cli
