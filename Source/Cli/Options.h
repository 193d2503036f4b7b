#pragma once

// The command line: its options, parsed, and the usage text.

#include <juce_core/juce_core.h>

namespace pauseguard::cli
{
    struct Options
    {
        juce::String command, strategy = "deterministic", latency = "20", script, report, process, trace;
        juce::StringArray files, params; // params: ID=VALUE
        double seconds = 10.0, rate = 48000.0, garbageKb = -1.0, liveHeapMb = -1.0, traceSeconds = 10.0;
        int block = 128, instances = 1, workers = 0, rounds = 15;
        int preparedBlock = 0; // the maximum block announced to prepareToPlay (0: block)
        bool json = false, realtime = false, keepLatency = false, secondsGiven = false, audioOnly = false;
    };

    // Prints the problem (if any) and the usage to stderr; returns 2 (the exit code).
    int usage (const char* problem = nullptr);
    // The usage, to stdout (--help).
    void printHelp();
    // Parses argv into o; returns an error message, or an empty string.
    juce::String parse (int argc, char* argv[], Options& o);
} // namespace pauseguard::cli
