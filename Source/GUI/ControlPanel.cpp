#include "ControlPanel.h"

#include "Parameters.h"

#include <algorithm>
#include <iterator>

namespace pauseguard
{
    namespace
    {
        constexpr int rowHeight = 24, groupHeader = 26, groupGap = 10, padding = 12, textBoxWidth = 74, compactTextBoxWidth = 40;
    } // namespace

    ControlPanel::ControlPanel (juce::AudioProcessorValueTreeState& state)
    {
        using A = AppliesTo;
        namespace id = ParamIDs;
        addGroup ("STRATEGY");
        addRow (state, id::strategy, "Strategy", A::always);
        addRow (state, id::safetyFactor, "Safety factor", A::dynamic);
        addRow (state, id::maxLatencyMs, "Max latency", A::dynamic);
        addGroup ("LATENCY");
        addRow (state, id::latencyMs, "Latency", A::manualLatency);
        addRow (state, id::autoLatency, "Auto latency (profile)", A::deterministic);
        addGroup ("COLLECTOR SCHEDULE");
        addRow (state, id::gcBudgetPct, "Slice budget", A::dynamic);
        addRow (state, id::gcIntervalS, "Full collection every", A::dynamic);
        addRow (state, id::gcThresholdMb, "Forced past heap", A::dynamic);
        addRow (state, id::silenceDb, "Silence below", A::dynamic);
        addRow (state, id::silenceHoldMs, "Silence hold", A::dynamic);
        addRow (state, id::gcPausePct, "Lua pause", A::deterministic);
        addRow (state, id::gcStepMulPct, "Lua step multiplier", A::deterministic);
        addGroup ("EFFECT");
        addRow (state, id::drive, "Drive", A::always);
        addRow (state, id::tone, "Tone", A::always);
        addRow (state, id::output, "Output", A::always);
        addRow (state, id::mix, "Mix", A::always);
        addRow (state, id::bypass, "Bypass", A::always);
        addGroup ("WORKLOAD");
        addRow (state, id::garbageKb, "Garbage per block", A::always);
        addRow (state, id::liveHeapMb, "Live heap", A::always);
        // The script's own knobs: named and ranged by the script (setScriptMacros).
        addGroup ("SCRIPT MACROS", 2);
        macroGroup = static_cast<int> (groups.size()) - 1;
        firstMacroRow = static_cast<int> (rows.size());
        for (const auto* macroId : id::macros)
            addRow (state, macroId, nullptr, A::declaredMacro);

        // Any other parameter gets a control too, under its group's name.
        const auto& tree = state.processor.getParameterTree();
        const auto addRemaining = [this, &state] (const juce::Array<juce::AudioProcessorParameter*>& params, const juce::String& title) {
            bool added = false;
            for (auto* param : params)
            {
                auto* withId = dynamic_cast<juce::AudioProcessorParameterWithID*> (param);
                if (withId == nullptr || hasRow (param))
                    continue;
                if (! added)
                    addGroup (title.toUpperCase(), 2);
                added = true;
                addRow (state, withId->paramID.toRawUTF8(), nullptr, AppliesTo::always);
            }
        };
        for (const auto* group : tree.getSubgroups (true))
            addRemaining (group->getParameters (false), group->getName());
        addRemaining (tree.getParameters (false), "Other");
    }

    bool ControlPanel::hasRow (const juce::AudioProcessorParameter* param) const
    {
        for (const auto& row : rows)
            if (row->parameter == param)
                return true;
        return false;
    }

    int ControlPanel::numShownRows (const Group& group) const
    {
        int n = 0;
        for (int i = 0; i < group.numRows; ++i)
            n += rows[static_cast<size_t> (group.firstRow + i)]->shown ? 1 : 0;
        return n;
    }

    bool ControlPanel::setScriptMacros (const std::vector<pg::ScriptMacro>& newMacros, const juce::String& scriptName)
    {
        const auto same = [] (const pg::ScriptMacro& a, const pg::ScriptMacro& b) {
            return a.name == b.name && a.min == b.min && a.max == b.max && a.unit == b.unit;
        };
        if (scriptName == macrosScript && std::equal (newMacros.begin(), newMacros.end(), macros.begin(), macros.end(), same))
            return false;
        macros = newMacros;
        macrosScript = scriptName;

        const int declared = static_cast<int> (std::min<size_t> (macros.size(), std::size (ParamIDs::macros)));
        auto& group = groups[static_cast<size_t> (macroGroup)];
        group.columns = declared > 0 ? 1 : 2;
        group.title = declared > 0 ? "SCRIPT MACROS" : "SCRIPT MACROS (NONE DECLARED)";
        for (int i = 0; i < group.numRows; ++i)
        {
            auto& row = macroRow (i);
            auto* param = row.parameter;
            auto* slider = dynamic_cast<juce::Slider*> (row.control.get());
            jassert (slider != nullptr);
            row.declared = i < declared;
            row.shown = row.declared || declared == 0;
            row.label.setVisible (row.shown);
            row.control->setVisible (row.shown);
            slider->setTextBoxStyle (juce::Slider::TextBoxRight, false, row.declared ? textBoxWidth : compactTextBoxWidth, 20);
            if (row.declared)
            {
                const auto& m = macros[static_cast<size_t> (i)];
                const double lo = m.min, hi = m.max, span = std::abs (hi - lo);
                const int decimals = span >= 100.0 ? 0 : (span >= 10.0 ? 1 : (span >= 1.0 ? 2 : 3));
                row.label.setText (juce::String (m.name), juce::dontSendNotification);
                const auto unit = m.unit.empty() ? juce::String() : " " + juce::String (m.unit);
                row.label.setTooltip (juce::String (m.name) + ": " + juce::String (lo) + " to " + juce::String (hi) + unit + " (" + param->getName (40) + ")");
                slider->textFromValueFunction = [lo, hi, decimals, unit] (double knob) { return juce::String (lo + (hi - lo) * knob, decimals) + unit; };
                slider->valueFromTextFunction = [lo, hi] (const juce::String& text) {
                    return hi == lo ? 0.0 : juce::jlimit (0.0, 1.0, (text.getDoubleValue() - lo) / (hi - lo));
                };
            }
            else
            {
                row.label.setText (param->getName (40), juce::dontSendNotification);
                row.label.setTooltip (param->getName (40) + ": the script declares no macro here");
                slider->textFromValueFunction = [param] (double v) { return param->getText (static_cast<float> (v), 0); };
                slider->valueFromTextFunction = [param] (const juce::String& text) {
                    return static_cast<double> (param->getValueForText (text));
                };
            }
            slider->updateText();
        }
        group.note.set (scriptName, theme::font (12.0f), {}, juce::Justification::centredRight);
        resized();
        repaint();
        return true;
    }

    juce::String ControlPanel::getMacroLabel (int index) const { return macroRow (index).label.getText(); }

    juce::String ControlPanel::getMacroValueText (int index) const
    {
        auto* slider = dynamic_cast<juce::Slider*> (macroRow (index).control.get());
        return slider != nullptr ? slider->getTextFromValue (slider->getValue()) : juce::String();
    }

    bool ControlPanel::isMacroShown (int index) const { return macroRow (index).shown; }

    void ControlPanel::addGroup (const juce::String& title, int columns)
    {
        groups.push_back ({ title, static_cast<int> (rows.size()), 0, columns, {}, {} });
    }

    void ControlPanel::addRow (juce::AudioProcessorValueTreeState& state, const char* paramId, const char* labelText,
                               AppliesTo appliesTo)
    {
        auto* param = state.getParameter (paramId);
        jassert (param != nullptr);
        auto row = std::make_unique<Row>();
        row->parameter = param;
        row->appliesTo = appliesTo;
        row->label.setText (labelText != nullptr ? juce::String (labelText) : param->getName (40), juce::dontSendNotification);
        row->label.setFont (theme::font (13.5f));
        row->label.setColour (juce::Label::textColourId, theme::colours::text.withAlpha (0.88f));
        row->label.setMinimumHorizontalScale (0.8f);
        row->label.setTooltip (param->getName (100));
        addAndMakeVisible (row->label);

        if (auto* choice = dynamic_cast<juce::AudioParameterChoice*> (param))
        {
            auto combo = std::make_unique<juce::ComboBox>();
            combo->addItemList (choice->choices, 1);
            row->comboAttachment = std::make_unique<juce::AudioProcessorValueTreeState::ComboBoxAttachment> (state, paramId, *combo);
            row->control = std::move (combo);
        }
        else if (dynamic_cast<juce::AudioParameterBool*> (param) != nullptr)
        {
            auto toggle = std::make_unique<juce::ToggleButton>();
            row->buttonAttachment = std::make_unique<juce::AudioProcessorValueTreeState::ButtonAttachment> (state, paramId, *toggle);
            row->control = std::move (toggle);
        }
        else
        {
            auto slider = std::make_unique<juce::Slider> (juce::Slider::LinearHorizontal, juce::Slider::TextBoxRight);
            slider->setTextBoxStyle (juce::Slider::TextBoxRight, false, groups.back().columns > 1 ? compactTextBoxWidth : textBoxWidth, 20);
            row->sliderAttachment = std::make_unique<juce::AudioProcessorValueTreeState::SliderAttachment> (state, paramId, *slider);
            if (param->getLabel().isNotEmpty())
                slider->setTextValueSuffix (" " + param->getLabel());
            if (auto* ranged = dynamic_cast<juce::RangedAudioParameter*> (param))
                slider->setDoubleClickReturnValue (true, ranged->convertFrom0to1 (ranged->getDefaultValue()));
            row->control = std::move (slider);
        }
        row->control->setTitle (param->getName (100));
        addAndMakeVisible (*row->control);
        rows.push_back (std::move (row));
        ++groups.back().numRows;
    }

    void ControlPanel::setStrategy (bool dynamic, bool autoLatency)
    {
        for (auto& row : rows)
        {
            bool applies = true;
            switch (row->appliesTo)
            {
                case AppliesTo::always:
                    break;
                case AppliesTo::deterministic:
                    applies = ! dynamic;
                    break;
                case AppliesTo::dynamic:
                    applies = dynamic;
                    break;
                case AppliesTo::manualLatency:
                    applies = ! dynamic && ! autoLatency;
                    break;
                case AppliesTo::declaredMacro:
                    applies = row->declared;
                    break;
            }
            const float alpha = applies ? 1.0f : 0.38f;
            if (row->label.getAlpha() != alpha)
            {
                row->label.setAlpha (alpha);
                row->control->setAlpha (alpha);
            }
        }
    }

    int ControlPanel::getIdealHeight() const noexcept
    {
        int height = 2 * padding - groupGap;
        for (const auto& group : groups)
            height += groupGap + groupHeader + numLines (numShownRows (group), group.columns) * rowHeight;
        return height;
    }

    void ControlPanel::resized()
    {
        auto r = getLocalBounds().reduced (padding);
        for (size_t gi = 0; gi < groups.size(); ++gi)
        {
            auto& group = groups[gi];
            if (gi > 0)
                r.removeFromTop (groupGap);
            auto header = r.removeFromTop (groupHeader).toFloat();
            group.text.set (group.title, theme::titleFont(), header.withTrimmedBottom (6.0f), juce::Justification::bottomLeft);
            if (group.note.getText().isNotEmpty())
            {
                const auto noteFont = theme::font (12.0f);
                const float titleWidth = theme::titleFont().getStringWidthFloat (group.title) + 24.0f;
                const float noteWidth = std::min (noteFont.getStringWidthFloat (group.note.getText()) + 4.0f, header.getWidth() - titleWidth);
                group.note.set (group.note.getText(), noteFont, header.withTrimmedBottom (4.0f).removeFromRight (noteWidth),
                                juce::Justification::bottomRight);
            }
            // Shown rows fill the group's columns left to right, then top to bottom.
            auto area = r.removeFromTop (numLines (numShownRows (group), group.columns) * rowHeight);
            const int columnGap = 12;
            const int columnWidth = (area.getWidth() - columnGap * (group.columns - 1)) / group.columns;
            int shownIndex = 0;
            for (int i = 0; i < group.numRows; ++i)
            {
                auto& row = *rows[static_cast<size_t> (group.firstRow + i)];
                if (! row.shown)
                    continue;
                const int column = shownIndex % group.columns, lineIndex = shownIndex / group.columns;
                ++shownIndex;
                auto line = juce::Rectangle<int> (area.getX() + column * (columnWidth + columnGap), area.getY() + lineIndex * rowHeight,
                                                  columnWidth, rowHeight);
                const int labelWidth = group.columns > 1 ? juce::jmin (52, line.getWidth() * 2 / 5)
                                                         : juce::jmin (150, line.getWidth() * 2 / 5);
                row.label.setBounds (line.removeFromLeft (labelWidth));
                if (dynamic_cast<juce::ComboBox*> (row.control.get()) != nullptr)
                    row.control->setBounds (line.reduced (4, 1));
                else
                    row.control->setBounds (line);
            }
        }
    }

    void ControlPanel::paint (juce::Graphics& g)
    {
        for (const auto& group : groups)
        {
            group.text.draw (g, theme::colours::accent.withAlpha (0.9f));
            group.note.draw (g, theme::colours::dim);
            const auto box = group.text.getGlyphs().getBoundingBox (0, -1, true);
            const float lineEnd = group.note.getText().isNotEmpty() ? group.note.getGlyphs().getBoundingBox (0, -1, true).getX() - 10.0f
                                                                    : static_cast<float> (getWidth() - padding);
            g.setColour (theme::colours::outline);
            if (lineEnd > box.getRight() + 10.0f)
                g.drawHorizontalLine (juce::roundToInt (box.getCentreY()), box.getRight() + 10.0f, lineEnd);
        }
    }
} // namespace pauseguard
