#pragma once

// The editor's look: colours, fonts, panels, a dark LookAndFeel, and text laid out once and drawn
// many times.

#include <juce_gui_basics/juce_gui_basics.h>

namespace pauseguard::theme
{
    namespace colours
    {
        inline const juce::Colour background { 0xff0e1115 }, panel { 0xff161a20 }, raised { 0xff1e232b },
            outline { 0xff262c35 }, grid { 0xff232932 }, text { 0xffe8ecf1 }, dim { 0xff8c96a4 },
            faint { 0xff5d6774 }, accent { 0xff4fc3f7 }, warn { 0xffff5d5d }, ok { 0xff6fd28a },
            amber { 0xffffc857 }, p50 { 0xffa8ecff }, p99 { 0xffffd166 }, p999 { 0xffff9f43 }, max { 0xfff06bb5 };
    } // namespace colours

    inline juce::Font font (float height, bool bold = false)
    {
        return juce::Font (height, bold ? juce::Font::bold : juce::Font::plain);
    }

    // A panel: its background and outline; its title's box (small capitals, top left); the area below.
    inline constexpr float panelPadding = 12.0f, panelTitleHeight = 16.0f, panelCorner = 6.0f;
    void drawPanel (juce::Graphics& g, juce::Rectangle<float> bounds);
    inline juce::Rectangle<float> panelTitleBox (juce::Rectangle<float> panel)
    {
        return panel.reduced (panelPadding).removeFromTop (panelTitleHeight);
    }
    inline juce::Rectangle<float> panelContent (juce::Rectangle<float> panel)
    {
        auto r = panel.reduced (panelPadding);
        r.removeFromTop (panelTitleHeight + 6.0f);
        return r;
    }
    inline juce::Font titleFont() { return font (11.5f, true).withExtraKerningFactor (0.08f); }

    // A rounded box and its outline, built when the layout changes, so that painting only fills.
    class PanelShape
    {
    public:
        void set (juce::Rectangle<float> bounds, float corner = panelCorner, float thickness = 1.0f);
        void draw (juce::Graphics& g, juce::Colour fillColour, juce::Colour outlineColour) const;
        juce::Rectangle<float> getBounds() const noexcept { return box; }

    private:
        juce::Rectangle<float> box;
        juce::Path fill, outline;
    };

    // Text laid out when it or its box changes (message thread, outside paint), so that painting
    // only draws the glyphs.
    class TextBlock
    {
    public:
        // Returns true if anything changed.
        bool set (const juce::String& newText, const juce::Font& newFont, juce::Rectangle<float> area,
                  juce::Justification justification = juce::Justification::centredLeft, int maxLines = 1);
        void draw (juce::Graphics& g, juce::Colour colour) const
        {
            g.setColour (colour);
            glyphs.draw (g);
        }
        const juce::String& getText() const noexcept { return text; }
        const juce::GlyphArrangement& getGlyphs() const noexcept { return glyphs; }

    private:
        juce::String text;
        juce::Font font;
        juce::Rectangle<float> box;
        juce::Justification just { juce::Justification::centredLeft };
        int lines = 1;
        juce::GlyphArrangement glyphs;
    };

    // Dark, flat controls: thin slider tracks, switch toggles, quiet buttons.
    class LookAndFeel final : public juce::LookAndFeel_V4
    {
    public:
        LookAndFeel();

        void drawLinearSlider (juce::Graphics&, int x, int y, int width, int height, float sliderPos, float minSliderPos,
                               float maxSliderPos, juce::Slider::SliderStyle, juce::Slider&) override;
        juce::Slider::SliderLayout getSliderLayout (juce::Slider&) override;
        juce::Label* createSliderTextBox (juce::Slider&) override;
        void drawLabel (juce::Graphics&, juce::Label&) override;
        void drawToggleButton (juce::Graphics&, juce::ToggleButton&, bool highlighted, bool down) override;
        void drawButtonBackground (juce::Graphics&, juce::Button&, const juce::Colour& background, bool highlighted,
                                   bool down) override;
        juce::Font getTextButtonFont (juce::TextButton&, int buttonHeight) override;
        juce::Font getComboBoxFont (juce::ComboBox&) override;
        juce::Font getPopupMenuFont() override;
        void drawComboBox (juce::Graphics&, int width, int height, bool down, int buttonX, int buttonY, int buttonW,
                           int buttonH, juce::ComboBox&) override;
    };
} // namespace pauseguard::theme
