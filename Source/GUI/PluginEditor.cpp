#include "PluginEditor.h"

namespace pauseguard
{
    namespace Colours
    {
        const juce::Colour background { 0xff15181d }, panel { 0xff1f242b }, text { 0xffe6e9ee },
            dim { 0xff8b95a3 }, accent { 0xff4fc3f7 }, warn { 0xffff7043 }, ok { 0xff81c784 };
    }

    LabelledKnob::LabelledKnob (juce::AudioProcessorValueTreeState& state, const char* paramId, const juce::String& title)
        : attachment (state, paramId, slider)
    {
        label.setText (title, juce::dontSendNotification);
        label.setJustificationType (juce::Justification::centred);
        label.setColour (juce::Label::textColourId, Colours::dim);
        slider.setColour (juce::Slider::rotarySliderFillColourId, Colours::accent);
        slider.setColour (juce::Slider::textBoxOutlineColourId, juce::Colours::transparentBlack);
        slider.setTextBoxStyle (juce::Slider::TextBoxBelow, false, 80, 18);
        addAndMakeVisible (label);
        addAndMakeVisible (slider);
    }

    void LabelledKnob::resized()
    {
        auto r = getLocalBounds();
        label.setBounds (r.removeFromTop (18));
        slider.setBounds (r);
    }

    PauseGuardEditor::PauseGuardEditor (PauseGuardProcessor& p)
        : AudioProcessorEditor (p)
        , processor (p)
        , autoAttachment (p.getState(), ParamIDs::autoLatency, autoLatency)
        , bypassAttachment (p.getState(), ParamIDs::bypass, bypass)
    {
        auto& s = p.getState();
        const std::pair<const char*, const char*> controls[] = {
            { ParamIDs::latencyMs, "Latency" }, { ParamIDs::mix, "Mix" },
            { ParamIDs::drive, "Drive" },       { ParamIDs::tone, "Tone" },
            { ParamIDs::output, "Output" },     { ParamIDs::garbageKb, "Garbage / block" },
            { ParamIDs::liveHeapMb, "Live heap" },
        };
        for (const auto& [paramId, title] : controls)
            addAndMakeVisible (knobs.add (new LabelledKnob (s, paramId, title)));
        for (auto* b : { &autoLatency, &bypass })
        {
            b->setColour (juce::ToggleButton::textColourId, Colours::text);
            b->setColour (juce::ToggleButton::tickColourId, Colours::accent);
            addAndMakeVisible (*b);
        }

        setResizable (true, true);
        setResizeLimits (640, 420, 1600, 1000);
        setSize (760, 460);
        refresh();
        startTimerHz (30);
    }

    PauseGuardEditor::~PauseGuardEditor() { stopTimer(); }

    void PauseGuardEditor::refresh()
    {
        const auto& engine = processor.getEngine();
        const int latency = processor.getLatencySamples();
        const double sr = processor.getEngine().getSampleRate();
        latencyText = juce::String (latency) + " samples";
        const auto counters = engine.getCounters();
        const auto pauses = engine.getPauseHistogram();
        const auto chunks = engine.getProcessingHistogram();
        detailText = juce::String (1000.0 * latency / sr, 2) + " ms reported to the host"
                     + (processor.getParams().autoLatency.get() ? " (auto)" : "");
        statusText = "Dropouts " + juce::String (static_cast<juce::int64> (counters.dropoutEvents))
                     + "   |   Heap " + juce::String (static_cast<double> (counters.heapBytes) / (1024.0 * 1024.0), 1)
                     + " MB   |   Worst collection " + juce::String (pauses.maxSeconds * 1000.0, 2)
                     + " ms   |   Worst chunk " + juce::String (chunks.maxSeconds * 1000.0, 2) + " ms";
        hasDropouts = counters.dropoutEvents > 0;
        const auto error = engine.getScriptError();
        errorText = error.empty() ? juce::String() : "Script stopped, playing the delayed dry signal: " + juce::String (error);
        repaint();
    }

    void PauseGuardEditor::paint (juce::Graphics& g)
    {
        g.fillAll (Colours::background);
        auto r = getLocalBounds().reduced (16);

        auto header = r.removeFromTop (120);
        g.setColour (Colours::panel);
        g.fillRoundedRectangle (header.toFloat(), 8.0f);
        auto inner = header.reduced (16, 10);
        g.setColour (Colours::accent);
        g.setFont (juce::Font (22.0f, juce::Font::bold));
        g.drawText ("PauseGuard", inner.removeFromTop (28), juce::Justification::left);
        g.setColour (Colours::text);
        g.setFont (juce::Font (36.0f, juce::Font::bold));
        g.drawText (latencyText, inner.removeFromTop (42), juce::Justification::left);
        g.setColour (Colours::dim);
        g.setFont (juce::Font (15.0f));
        g.drawText (detailText, inner.removeFromTop (22), juce::Justification::left);

        auto footer = getLocalBounds().reduced (16).removeFromBottom (errorText.isEmpty() ? 24 : 48);
        g.setFont (juce::Font (14.0f));
        g.setColour (hasDropouts ? Colours::warn : Colours::ok);
        g.drawText (statusText, footer.removeFromTop (24), juce::Justification::left);
        if (errorText.isNotEmpty())
        {
            g.setColour (Colours::warn);
            g.drawFittedText (errorText, footer, juce::Justification::left, 2);
        }
    }

    void PauseGuardEditor::resized()
    {
        auto r = getLocalBounds().reduced (16);
        r.removeFromTop (130);
        r.removeFromBottom (errorText.isEmpty() ? 30 : 54);
        auto toggles = r.removeFromTop (30);
        autoLatency.setBounds (toggles.removeFromLeft (160));
        bypass.setBounds (toggles.removeFromLeft (120));
        r.removeFromTop (8);
        const int perRow = 4;
        const int rows = (knobs.size() + perRow - 1) / perRow;
        const int rowHeight = r.getHeight() / juce::jmax (1, rows);
        for (int row = 0; row < rows; ++row)
        {
            auto line = r.removeFromTop (rowHeight);
            const int w = line.getWidth() / perRow;
            for (int k = 0; k < perRow; ++k)
            {
                const int index = row * perRow + k;
                if (index < knobs.size())
                    knobs[index]->setBounds (line.removeFromLeft (w).reduced (6));
            }
        }
    }
} // namespace pauseguard
