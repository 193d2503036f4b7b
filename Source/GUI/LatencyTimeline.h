#pragma once

#include "PluginProcessor.h"
#include "Theme.h"

#include <array>
#include <vector>

namespace pauseguard
{
    // The latency reported to the host over time, as a panel: a step line with a dot at every
    // change, coloured by its reason, and the latest changes listed with when and why.
    class LatencyTimeline final : public juce::Component
    {
    public:
        LatencyTimeline();

        // Message thread. `now` is on the history's clock (PauseGuardProcessor::getSecondsSinceCreation).
        void setHistory (const std::vector<LatencyChange>& changes, double now, double sampleRate);

        void paint (juce::Graphics&) override;
        void resized() override;

        static juce::Colour colourFor (LatencyChange::Reason reason);

    private:
        static constexpr size_t listRows = 6;
        static constexpr int numReasons = LatencyChange::numReasons; // the dots are indexed by reason

        float xFor (double seconds) const noexcept;
        float yFor (double ms) const noexcept;
        void layout();

        std::vector<LatencyChange> history; // reserved once: assigning reuses it
        double now = 0.0, rate = 48000.0, start = 0.0, end = 10.0, topMs = 10.0;

        juce::Rectangle<float> plot, list;
        theme::PanelShape panel;
        // Dots, one path per reason, and the halo under the timeline's dots: rebuilt on change,
        // outside paint, keeping their storage.
        std::array<juce::Path, numReasons> dots;
        juce::Path halos;
        std::array<float, 5> yTicks {};
        std::array<theme::TextBlock, 10> xLabels;
        std::array<theme::TextBlock, 5> yLabels;
        int numXLabels = 0, numYLabels = 0;
        std::array<theme::TextBlock, listRows> rows;
        std::array<theme::TextBlock, numReasons> legend;
        std::array<juce::Rectangle<float>, numReasons> legendDots {};
        theme::TextBlock title, listTitle, emptyText;
    };
} // namespace pauseguard
