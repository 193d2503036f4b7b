#include "ScriptPanel.h"

#include <cstring>

namespace pauseguard
{
    using namespace theme;

    namespace
    {
        constexpr float rowGap = 4.0f;
        constexpr int buttonHeight = 24, clearWidth = 56;

        juce::Colour colourFor (pg::ConsoleLine::Kind kind)
        {
            switch (kind)
            {
                case pg::ConsoleLine::error:
                    return colours::warn;
                case pg::ConsoleLine::info:
                    return colours::dim;
                case pg::ConsoleLine::print:
                    break;
            }
            return colours::text;
        }

        // "watching /a/long/path/x.lua", shortened from the left to fit: the file's name matters most.
        juce::String watchLine (const juce::String& path, const juce::Font& f, float width)
        {
            if (path.isEmpty())
                return "load a .lua file, or drop one on the editor";
            const juce::String prefix = "watching ", ellipsis = juce::String::fromUTF8 ("\xe2\x80\xa6");
            auto shown = path;
            while (shown.length() > 12 && f.getStringWidthFloat (prefix + shown) > width)
                shown = ellipsis + shown.substring (juce::jmax (2, shown.length() / 10));
            return prefix + shown;
        }
    } // namespace

    ScriptPanel::ScriptPanel()
    {
        loadButton.setTooltip ("Run a Lua script from a file (or drop a .lua file on the editor); saving the file again reloads it");
        builtinButton.setTooltip ("Go back to the built-in effect");
        clearButton.setTooltip ("Clear the console");
        programButton.setTooltip ("Run a DSP program (Go, ...) in a process of its own, in place of the script");
        programButton.onClick = [this] {
            if (onProgram)
                onProgram();
        };
        retryButton.setTooltip ("The program failed too often and is no longer restarted: start it again");
        retryButton.setComponentID ("retry");
        retryButton.onClick = [this] {
            if (onRetry)
                onRetry();
        };
        addChildComponent (retryButton);
        loadButton.onClick = [this] {
            if (onLoad)
                onLoad();
        };
        builtinButton.onClick = [this] {
            if (onBuiltin)
                onBuiltin();
        };
        clearButton.onClick = [this] {
            if (onClear)
                onClear();
        };
        for (auto* b : { &loadButton, &builtinButton, &clearButton, &programButton })
            addAndMakeVisible (*b);

        console.setMultiLine (true, true);
        console.setReadOnly (true);
        console.setCaretVisible (false);
        console.setScrollbarsShown (true);
        console.setScrollBarThickness (8);
        console.setPopupMenuEnabled (true); // copy an error message
        console.setFont (juce::Font (juce::Font::getDefaultMonospacedFontName(), 12.5f, juce::Font::plain));
        console.setColour (juce::TextEditor::backgroundColourId, colours::background);
        console.setColour (juce::TextEditor::outlineColourId, colours::outline);
        console.setColour (juce::TextEditor::focusedOutlineColourId, colours::outline);
        console.setIndents (6, 4);
        console.setTitle ("Script console");
        addAndMakeVisible (console);
    }

    void ScriptPanel::setScript (const Shown& s)
    {
        if (s == shown)
            return;
        shown = s;
        layout();
        repaint();
    }

    void ScriptPanel::setDropHighlight (bool on)
    {
        if (on == dropHighlight)
            return;
        dropHighlight = on;
        layout();
        repaint();
    }

    bool ScriptPanel::sameText (const std::string& s, const pg::ConsoleLine& line) noexcept
    {
        const auto n = strnlen (line.text, sizeof (line.text));
        return s.size() == n && std::memcmp (s.data(), line.text, n) == 0;
    }

    bool ScriptPanel::setConsole (const std::deque<pg::ConsoleLine>& lines)
    {
        // Compared in place, every refresh: no text is copied unless the console changed.
        if (lines.size() == consoleCount && (lines.empty() || (sameText (consoleFirst, lines.front()) && sameText (consoleLast, lines.back()))))
            return false;

        const auto textOf = [] (const pg::ConsoleLine& line) { return std::string (line.text, strnlen (line.text, sizeof (line.text))); };
        // Only grew (nothing dropped at the front, the last line shown still in place): append.
        const bool grew = consoleCount > 0 && lines.size() > consoleCount && sameText (consoleFirst, lines.front()) && sameText (consoleLast, lines[consoleCount - 1]);
        if (grew)
            appendLines (lines, consoleCount);
        else
        {
            console.clear();
            appendLines (lines, 0);
        }
        consoleCount = lines.size();
        consoleFirst = lines.empty() ? std::string() : textOf (lines.front());
        consoleLast = lines.empty() ? std::string() : textOf (lines.back());
        return true;
    }

    void ScriptPanel::appendLines (const std::deque<pg::ConsoleLine>& lines, size_t from)
    {
        // Consecutive lines of one kind go in as one piece of text, in one colour.
        console.moveCaretToEnd();
        juce::String run;
        auto runKind = pg::ConsoleLine::print;
        const auto flush = [this, &run, &runKind] {
            if (run.isEmpty())
                return;
            console.setColour (juce::TextEditor::textColourId, colourFor (runKind));
            console.insertTextAtCaret (run);
            run.clear();
        };
        for (size_t i = from; i < lines.size(); ++i)
        {
            const auto& line = lines[i];
            if (line.kind != runKind)
                flush();
            runKind = line.kind;
            if (i > 0)
                run << "\n";
            run << juce::String::fromUTF8 (line.text, static_cast<int> (strnlen (line.text, sizeof (line.text))));
        }
        flush();
        console.moveCaretToEnd(); // the newest line in view
    }

    void ScriptPanel::resized()
    {
        layout();
    }

    void ScriptPanel::layout()
    {
        const auto bounds = getLocalBounds().toFloat();
        panel.set (bounds, panelCorner, dropHighlight ? 2.0f : 1.0f);
        auto r = bounds.reduced (panelPadding);

        auto titleRow = r.removeFromTop (static_cast<float> (buttonHeight));
        auto buttons = titleRow.toNearestInt();
        builtinButton.setBounds (buttons.removeFromRight (76));
        buttons.removeFromRight (6);
        loadButton.setBounds (buttons.removeFromRight (112));
        title.set (shown.program.isEmpty() ? "SCRIPT" : "DSP PROGRAM", titleFont(), titleRow.withRight (static_cast<float> (loadButton.getX()) - 8.0f));
        r.removeFromTop (rowGap + 2.0f);

        auto nameRow = r.removeFromTop (20.0f);
        const juce::String macros = shown.failed           ? "stopped"
                                    : shown.numMacros == 0 ? "no macros"
                                    : shown.numMacros == 1 ? "1 macro"
                                                           : juce::String (shown.numMacros) + " macros";
        const auto small = font (12.5f);
        const float macrosWidth = small.getStringWidthFloat (macros) + 4.0f;
        macrosText.set (macros, small, nameRow.removeFromRight (macrosWidth), juce::Justification::centredRight);
        nameText.set (shown.name, font (15.5f, true), nameRow.withTrimmedRight (8.0f));
        r.removeFromTop (rowGap);

        auto watchRow = r.removeFromTop (22.0f);
        clearButton.setBounds (watchRow.removeFromRight (static_cast<float> (clearWidth)).toNearestInt());
        watchRow.removeFromRight (6.0f);
        programButton.setBounds (watchRow.removeFromRight (84.0f).toNearestInt());
        retryButton.setVisible (shown.restartsStopped);
        if (shown.restartsStopped)
        {
            watchRow.removeFromRight (6.0f);
            retryButton.setBounds (watchRow.removeFromRight (80.0f).toNearestInt());
        }
        const auto line = shown.program.isNotEmpty() ? (shown.starting ? "starting " : "running ") + shown.program : watchLine (shown.watchedPath, small, watchRow.getWidth() - 8.0f);
        watchText.set (line, small, watchRow.withTrimmedRight (8.0f));
        r.removeFromTop (rowGap);

        console.setBounds (r.toNearestInt());
        dropText.set (dropHighlight ? "drop to load the script" : "", font (14.0f, true), r, juce::Justification::centred);
    }

    void ScriptPanel::paint (juce::Graphics& g)
    {
        panel.draw (g, colours::panel, dropHighlight ? colours::accent : colours::outline);
        title.draw (g, colours::dim);
        nameText.draw (g, shown.failed ? colours::warn : colours::text);
        macrosText.draw (g, shown.failed ? colours::warn : colours::accent);
        watchText.draw (g, colours::dim);
    }

    void ScriptPanel::paintOverChildren (juce::Graphics& g)
    {
        if (! dropHighlight)
            return;
        g.setColour (colours::accent.withAlpha (0.12f));
        g.fillRect (console.getBounds());
        dropText.draw (g, colours::accent);
    }
} // namespace pauseguard
