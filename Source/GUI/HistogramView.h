#pragma once

#include "Stats.h"
#include "Theme.h"

#include <array>

namespace pauseguard
{
    // A duration histogram on a log time axis (10 us to 1 s, with the under- and overflow bins at
    // the ends) and a log count axis, with p50 / p99 / p99.9 / max marked and the latency budget
    // drawn as a line: bars past the budget are drawn in the warning colour.
    class HistogramView final : public juce::Component
    {
    public:
        enum class Kind
        {
            pauses, // collector calls: the budget is the slack
            processing, // script calls per chunk: likewise
            lateness // past the deadline: anything but "on time" reached the output late
        };

        HistogramView();

        // Message thread. Copies the snapshot (no allocation) and lays out the texts that changed;
        // repaints only if something did. budgetSeconds <= 0: no budget line.
        void setData (const pg::DurationHistogram::Snapshot& snapshot, Kind kind, double budgetSeconds,
                      const juce::String& emptyMessage);

        void paint (juce::Graphics&) override;
        void resized() override;

        juce::Rectangle<float> getPlotArea() const noexcept { return plot; }
        // Where a duration sits on the time axis (the under- and overflow bins at the ends).
        float xForSeconds (double seconds) const noexcept;
        // The legend as shown, e.g. "p99 1.93 ms" (index: 0 count, 1 p50, 2 p99, 3 p99.9, 4 max, 5 budget).
        juce::String getLegendText (int index) const { return legend[static_cast<size_t> (index)].getText(); }

    private:
        static constexpr int numColumns = pg::DurationHistogram::numBins; // one per bin, under- and overflow included
        enum Marker
        {
            markerP50,
            markerP99,
            markerP999,
            markerMax,
            numMarkers
        };

        float xForColumnEdge (double column) const noexcept;
        float yForCount (double count) const noexcept;
        void layoutTexts();

        pg::DurationHistogram::Snapshot snap {};
        Kind kind = Kind::pauses;
        double budget = 0.0;
        std::array<double, numMarkers> markers {};
        double countTop = 10.0; // the count axis' top: a power of ten
        juce::String empty;

        juce::Rectangle<float> plot;
        std::array<theme::TextBlock, 6> legend;
        std::array<juce::Colour, 6> legendColours {};
        std::array<juce::Rectangle<float>, 6> legendSwatches {};
        std::array<theme::TextBlock, numMarkers + 1> tags; // markers, then the budget
        std::array<theme::TextBlock, 8> xLabels, yLabels;
        theme::TextBlock xTitle, emptyText;
        int numYLabels = 0;
    };
} // namespace pauseguard
