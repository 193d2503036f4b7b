#pragma once

// The engine's statistics as one report, written as CSV or JSON (and read back). No JUCE: the
// editor and the console tool export the same files.

#include "LatencyEngine.h"
#include "Stats.h"

#include <array>
#include <string>
#include <string_view>

namespace pg
{
    struct StatsReport
    {
        static constexpr int formatVersion = 1;
        static constexpr int numHistograms = 4;
        enum HistogramIndex
        {
            pauses, // each collector call the engine made
            processing, // each chunk's script call
            lateness, // max (0, completion - deadline) per chunk
            response // a chunk's input arrival to its output's delivery
        };
        static const char* histogramName (int index) noexcept; // "pauses", "processing", ...

        double sampleRate = 0.0;
        int blockSize = 0;
        int latencySamples = 0; // the latency reported to the host
        EngineCounters counters {};
        std::array<DurationHistogram::Snapshot, numHistograms> histograms {};

        double latencyMs() const noexcept { return sampleRate > 0.0 ? 1000.0 * latencySamples / sampleRate : 0.0; }
        // What a pause may take without reaching the output: L minus one block, in seconds.
        double slackSeconds() const noexcept
        {
            return sampleRate > 0.0 ? static_cast<double> (latencySamples - blockSize) / sampleRate : 0.0;
        }
    };

    // Any thread. Lock-free: each histogram is a consistent snapshot, the counters are read one by one.
    StatsReport captureStatistics (const LatencyEngine& engine);

    // Any thread. The figures are written exactly (shortest round-trip form), locale-independent.
    // CSV: a "key,value" table (settings, counters, and count/sum/max/p50/p99/p99.9 per histogram),
    // a blank line, then the bins: "bin,lower_s,upper_s,pauses,processing,lateness,response".
    std::string statisticsToCsv (const StatsReport& report);
    std::string statisticsToJson (const StatsReport& report);

    // Read back what the writers produced (derived figures such as percentiles are recomputed from
    // the bins). Return false, leaving `out` unspecified, if the text is not such a file.
    bool statisticsFromCsv (std::string_view text, StatsReport& out);
    bool statisticsFromJson (std::string_view text, StatsReport& out);
} // namespace pg
