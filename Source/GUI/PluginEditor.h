#pragma once

#include "PluginProcessor.h"

#include <juce_gui_basics/juce_gui_basics.h>

namespace pauseguard
{
    // A rotary control with its name above and its value below, attached to one parameter.
    class LabelledKnob : public juce::Component
    {
    public:
        LabelledKnob (juce::AudioProcessorValueTreeState& state, const char* paramId, const juce::String& title);
        void resized() override;

    private:
        juce::Label label;
        juce::Slider slider { juce::Slider::RotaryHorizontalVerticalDrag, juce::Slider::TextBoxBelow };
        juce::AudioProcessorValueTreeState::SliderAttachment attachment;
    };

    // The first editor: every control, and the latency reported to the host, large.
    class PauseGuardEditor final : public juce::AudioProcessorEditor, private juce::Timer
    {
    public:
        explicit PauseGuardEditor (PauseGuardProcessor&);
        ~PauseGuardEditor() override;

        void paint (juce::Graphics&) override;
        void resized() override;

        // Message thread: refreshes the figures from the processor (the timer calls it at 30 Hz).
        void refresh();
        juce::String getLatencyText() const { return latencyText; }

    private:
        void timerCallback() override { refresh(); }

        PauseGuardProcessor& processor;
        juce::OwnedArray<LabelledKnob> knobs;
        juce::ToggleButton autoLatency { "Auto latency" }, bypass { "Bypass" };
        juce::AudioProcessorValueTreeState::ButtonAttachment autoAttachment, bypassAttachment;

        juce::String latencyText, detailText, statusText, errorText;
        bool hasDropouts = false;

        JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (PauseGuardEditor)
    };
} // namespace pauseguard
