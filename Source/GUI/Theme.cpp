#include "Theme.h"

namespace pauseguard::theme
{
    void drawPanel (juce::Graphics& g, juce::Rectangle<float> bounds)
    {
        g.setColour (colours::panel);
        g.fillRoundedRectangle (bounds, panelCorner);
        g.setColour (colours::outline);
        g.drawRoundedRectangle (bounds.reduced (0.5f), panelCorner, 1.0f);
    }

    void PanelShape::set (juce::Rectangle<float> bounds, float corner, float thickness)
    {
        if (bounds == box && ! fill.isEmpty())
            return;
        box = bounds;
        fill.clear();
        fill.addRoundedRectangle (bounds, corner);
        outline.clear();
        outline.addRoundedRectangle (bounds, corner);
        outline.addRoundedRectangle (bounds.reduced (thickness), juce::jmax (0.0f, corner - thickness));
        outline.setUsingNonZeroWinding (false);
    }

    void PanelShape::draw (juce::Graphics& g, juce::Colour fillColour, juce::Colour outlineColour) const
    {
        g.setColour (fillColour);
        g.fillPath (fill);
        g.setColour (outlineColour);
        g.fillPath (outline);
    }

    bool TextBlock::set (const juce::String& newText, const juce::Font& newFont, juce::Rectangle<float> area,
                         juce::Justification justification, int maxLines)
    {
        if (newText == text && newFont == font && area == box && justification == just && maxLines == lines)
            return false;
        text = newText;
        font = newFont;
        box = area;
        just = justification;
        lines = maxLines;
        glyphs.clear();
        if (text.isNotEmpty() && ! box.isEmpty())
            glyphs.addFittedText (font, text, box.getX(), box.getY(), box.getWidth(), box.getHeight(), just, lines, 0.8f);
        return true;
    }

    LookAndFeel::LookAndFeel()
    {
        using namespace colours;
        setColourScheme ({ background, raised, raised, outline, text, accent, text, accent.withAlpha (0.3f), text });
        setColour (juce::ResizableWindow::backgroundColourId, background);
        setColour (juce::Label::textColourId, text);
        setColour (juce::Slider::textBoxTextColourId, text);
        setColour (juce::Slider::textBoxBackgroundColourId, juce::Colours::transparentBlack);
        setColour (juce::Slider::textBoxOutlineColourId, juce::Colours::transparentBlack);
        setColour (juce::Slider::textBoxHighlightColourId, accent.withAlpha (0.35f));
        setColour (juce::Slider::trackColourId, accent);
        setColour (juce::Slider::backgroundColourId, juce::Colour (0xff2a313b));
        setColour (juce::Slider::thumbColourId, text);
        setColour (juce::TextButton::buttonColourId, raised);
        setColour (juce::TextButton::buttonOnColourId, accent.withAlpha (0.25f));
        setColour (juce::TextButton::textColourOffId, text);
        setColour (juce::TextButton::textColourOnId, text);
        setColour (juce::ToggleButton::textColourId, text);
        setColour (juce::ToggleButton::tickColourId, accent);
        setColour (juce::ComboBox::backgroundColourId, raised);
        setColour (juce::ComboBox::outlineColourId, outline);
        setColour (juce::ComboBox::textColourId, text);
        setColour (juce::ComboBox::arrowColourId, dim);
        setColour (juce::PopupMenu::backgroundColourId, raised);
        setColour (juce::PopupMenu::textColourId, text);
        setColour (juce::PopupMenu::highlightedBackgroundColourId, accent.withAlpha (0.25f));
        setColour (juce::PopupMenu::highlightedTextColourId, text);
        setColour (juce::ScrollBar::thumbColourId, faint);
        setColour (juce::TooltipWindow::backgroundColourId, raised);
        setColour (juce::TooltipWindow::textColourId, text);
        setColour (juce::TooltipWindow::outlineColourId, outline);
        setColour (juce::TextEditor::backgroundColourId, raised);
        setColour (juce::TextEditor::textColourId, text);
        setColour (juce::TextEditor::highlightColourId, accent.withAlpha (0.35f));
        setColour (juce::TextEditor::outlineColourId, outline);
        setColour (juce::TextEditor::focusedOutlineColourId, accent);
        setColour (juce::CaretComponent::caretColourId, accent);
    }

    void LookAndFeel::drawLinearSlider (juce::Graphics& g, int x, int y, int width, int height, float sliderPos,
                                        float minSliderPos, float maxSliderPos, juce::Slider::SliderStyle style,
                                        juce::Slider& slider)
    {
        if (style != juce::Slider::LinearHorizontal)
        {
            LookAndFeel_V4::drawLinearSlider (g, x, y, width, height, sliderPos, minSliderPos, maxSliderPos, style, slider);
            return;
        }
        const auto area = juce::Rectangle<float> (static_cast<float> (x), static_cast<float> (y), static_cast<float> (width),
                                                  static_cast<float> (height));
        const float trackHeight = 4.0f;
        const auto track = area.withSizeKeepingCentre (area.getWidth(), trackHeight);
        g.setColour (slider.findColour (juce::Slider::backgroundColourId));
        g.fillRoundedRectangle (track, trackHeight * 0.5f);
        g.setColour (slider.findColour (juce::Slider::trackColourId));
        g.fillRoundedRectangle (track.withRight (sliderPos), trackHeight * 0.5f);

        const float thumb = slider.isMouseOverOrDragging() ? 13.0f : 11.0f;
        const auto knob = juce::Rectangle<float> (thumb, thumb).withCentre ({ sliderPos, track.getCentreY() });
        g.setColour (slider.findColour (juce::Slider::thumbColourId));
        g.fillEllipse (knob);
        g.setColour (slider.findColour (juce::Slider::trackColourId));
        g.drawEllipse (knob.reduced (0.5f), 1.5f);
    }

    juce::Slider::SliderLayout LookAndFeel::getSliderLayout (juce::Slider& slider)
    {
        auto layout = LookAndFeel_V4::getSliderLayout (slider);
        if (slider.getSliderStyle() == juce::Slider::LinearHorizontal)
            layout.sliderBounds = layout.sliderBounds.reduced (4, 0);
        return layout;
    }

    juce::Label* LookAndFeel::createSliderTextBox (juce::Slider& slider)
    {
        auto* label = LookAndFeel_V4::createSliderTextBox (slider);
        label->setFont (font (13.0f));
        label->setJustificationType (juce::Justification::centredRight);
        label->setColour (juce::Label::outlineColourId, juce::Colours::transparentBlack);
        label->setColour (juce::Label::backgroundColourId, juce::Colours::transparentBlack);
        return label;
    }

    void LookAndFeel::drawLabel (juce::Graphics& g, juce::Label& label)
    {
        g.fillAll (label.findColour (juce::Label::backgroundColourId));
        if (label.isBeingEdited())
        {
            g.setColour (colours::accent);
            g.drawRect (label.getLocalBounds());
            return;
        }
        const auto f = getLabelFont (label);
        g.setColour (label.findColour (juce::Label::textColourId).withMultipliedAlpha (label.isEnabled() ? 1.0f : 0.5f));
        g.setFont (f);
        const auto area = getLabelBorderSize (label).subtractedFrom (label.getLocalBounds());
        g.drawFittedText (label.getText(), area, label.getJustificationType(),
                          juce::jmax (1, static_cast<int> (static_cast<float> (area.getHeight()) / f.getHeight())),
                          label.getMinimumHorizontalScale());
    }

    void LookAndFeel::drawToggleButton (juce::Graphics& g, juce::ToggleButton& button, bool highlighted, bool)
    {
        const auto bounds = button.getLocalBounds().toFloat();
        const float h = 16.0f, w = 30.0f;
        const auto pill = juce::Rectangle<float> (bounds.getX() + 4.0f, bounds.getCentreY() - h * 0.5f, w, h);
        const bool on = button.getToggleState();
        g.setColour (on ? colours::accent : juce::Colour (0xff2a313b));
        g.fillRoundedRectangle (pill, h * 0.5f);
        if (highlighted)
        {
            g.setColour (colours::text.withAlpha (0.25f));
            g.drawRoundedRectangle (pill, h * 0.5f, 1.0f);
        }
        const float d = h - 4.0f;
        const float kx = on ? pill.getRight() - d - 2.0f : pill.getX() + 2.0f;
        g.setColour (on ? colours::background : colours::dim);
        g.fillEllipse (kx, pill.getY() + 2.0f, d, d);

        g.setColour (button.findColour (juce::ToggleButton::textColourId));
        g.setFont (font (13.5f));
        g.drawText (button.getButtonText(), bounds.withTrimmedLeft (w + 12.0f), juce::Justification::centredLeft, true);
    }

    void LookAndFeel::drawButtonBackground (juce::Graphics& g, juce::Button& button, const juce::Colour& background,
                                            bool highlighted, bool down)
    {
        const auto bounds = button.getLocalBounds().toFloat().reduced (0.5f);
        auto fill = button.getToggleState() ? button.findColour (juce::TextButton::buttonOnColourId) : background;
        if (down)
            fill = fill.brighter (0.15f);
        else if (highlighted)
            fill = fill.brighter (0.08f);
        g.setColour (fill);
        g.fillRoundedRectangle (bounds, 4.0f);
        g.setColour (button.getToggleState() ? colours::accent.withAlpha (0.7f) : colours::outline.brighter (0.15f));
        g.drawRoundedRectangle (bounds, 4.0f, 1.0f);
    }

    juce::Font LookAndFeel::getTextButtonFont (juce::TextButton&, int buttonHeight)
    {
        return font (juce::jmin (14.0f, static_cast<float> (buttonHeight) * 0.5f));
    }

    juce::Font LookAndFeel::getComboBoxFont (juce::ComboBox&) { return font (13.5f); }

    juce::Font LookAndFeel::getPopupMenuFont() { return font (14.0f); }

    void LookAndFeel::drawComboBox (juce::Graphics& g, int width, int height, bool, int, int, int, int, juce::ComboBox& box)
    {
        auto bounds = juce::Rectangle<float> (0.0f, 0.0f, static_cast<float> (width), static_cast<float> (height)).reduced (0.5f);
        g.setColour (box.findColour (juce::ComboBox::backgroundColourId));
        g.fillRoundedRectangle (bounds, 4.0f);
        g.setColour (box.isMouseOver (true) ? colours::accent.withAlpha (0.6f) : box.findColour (juce::ComboBox::outlineColourId));
        g.drawRoundedRectangle (bounds, 4.0f, 1.0f);

        const auto arrowZone = bounds.removeFromRight (22.0f).reduced (7.0f, 0.0f).withSizeKeepingCentre (8.0f, 5.0f);
        juce::Path arrow;
        arrow.addTriangle (arrowZone.getTopLeft(), arrowZone.getTopRight(), { arrowZone.getCentreX(), arrowZone.getBottom() });
        g.setColour (box.findColour (juce::ComboBox::arrowColourId));
        g.fillPath (arrow);
    }
} // namespace pauseguard::theme
