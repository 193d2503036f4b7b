#pragma once

#include "Theme.h"

#include <juce_audio_processors/juce_audio_processors.h>

#include <memory>
#include <vector>

namespace pauseguard
{
    // Every parameter with a control attached to it, in groups: strategy, latency, collector
    // schedule, effect, workload, then any other parameter group of the processor. Controls that do
    // not apply to the current strategy are dimmed.
    class ControlPanel final : public juce::Component
    {
    public:
        explicit ControlPanel (juce::AudioProcessorValueTreeState& state);

        // Message thread. Dims what the strategy (and auto latency) leave without effect.
        void setStrategy (bool dynamic, bool autoLatency);
        int getIdealHeight() const noexcept;
        int getNumControls() const noexcept { return static_cast<int> (rows.size()); }

        void paint (juce::Graphics&) override;
        void resized() override;

    private:
        enum class AppliesTo
        {
            always,
            deterministic,
            dynamic,
            manualLatency // deterministic, auto latency off
        };

        struct Row
        {
            const juce::AudioProcessorParameter* parameter = nullptr;
            juce::Label label;
            std::unique_ptr<juce::Component> control;
            std::unique_ptr<juce::AudioProcessorValueTreeState::SliderAttachment> sliderAttachment;
            std::unique_ptr<juce::AudioProcessorValueTreeState::ButtonAttachment> buttonAttachment;
            std::unique_ptr<juce::AudioProcessorValueTreeState::ComboBoxAttachment> comboAttachment;
            AppliesTo appliesTo = AppliesTo::always;
        };

        struct Group
        {
            juce::String title;
            int firstRow, numRows, columns;
            theme::TextBlock text;
        };

        void addGroup (const juce::String& title, int columns = 1);
        // label: nullptr takes the parameter's name.
        void addRow (juce::AudioProcessorValueTreeState& state, const char* paramId, const char* label, AppliesTo appliesTo);
        bool hasRow (const juce::AudioProcessorParameter* param) const;

        std::vector<std::unique_ptr<Row>> rows;
        std::vector<Group> groups;

        JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (ControlPanel)
    };
} // namespace pauseguard
