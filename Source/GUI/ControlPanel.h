#pragma once

#include "EngineTypes.h"
#include "Theme.h"

#include <juce_audio_processors/juce_audio_processors.h>

#include <memory>
#include <vector>

namespace pauseguard
{
    // Every parameter with a control attached to it, in groups: strategy, latency, collector
    // schedule, effect, workload, the script's macros, then any other parameter group of the
    // processor. Controls that do not apply to the current strategy are dimmed; the macros take the
    // names and ranges the running script declares.
    class ControlPanel final : public juce::Component
    {
    public:
        explicit ControlPanel (juce::AudioProcessorValueTreeState& state);

        // Message thread. Dims what the strategy (and auto latency) leave without effect.
        void setStrategy (bool dynamic, bool autoLatency);
        // Message thread. The macros the running script declares (`scriptName`): those get its names
        // and show their values in its ranges, one per line; the others are hidden. A script that
        // declares none leaves all eight dimmed, as "Macro N". Returns true if the layout changed.
        bool setScriptMacros (const std::vector<pg::ScriptMacro>& macros, const juce::String& scriptName);
        int getIdealHeight() const noexcept;
        int getNumControls() const noexcept { return static_cast<int> (rows.size()); }

        // What the macro control `index` (0..7) shows: its label, its value's text, whether it shows.
        juce::String getMacroLabel (int index) const;
        juce::String getMacroValueText (int index) const;
        bool isMacroShown (int index) const;

        void paint (juce::Graphics&) override;
        void resized() override;

    private:
        enum class AppliesTo
        {
            always,
            deterministic,
            dynamic,
            manualLatency, // deterministic, auto latency off
            declaredMacro // a macro the running script declares
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
            bool shown = true, declared = false;
        };

        struct Group
        {
            juce::String title;
            int firstRow, numRows, columns;
            theme::TextBlock text, note; // the note: at the right of the title
        };

        void addGroup (const juce::String& title, int columns = 1);
        // label: nullptr takes the parameter's name.
        void addRow (juce::AudioProcessorValueTreeState& state, const char* paramId, const char* label, AppliesTo appliesTo);
        bool hasRow (const juce::AudioProcessorParameter* param) const;
        int numShownRows (const Group& group) const;
        static int numLines (int shownRows, int columns) { return (shownRows + columns - 1) / columns; }
        Row& macroRow (int index) const { return *rows[static_cast<size_t> (firstMacroRow + index)]; }

        std::vector<std::unique_ptr<Row>> rows;
        std::vector<Group> groups;
        int firstMacroRow = 0, macroGroup = 0;
        std::vector<pg::ScriptMacro> macros; // as last shown
        juce::String macrosScript;

        JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (ControlPanel)
    };
} // namespace pauseguard
