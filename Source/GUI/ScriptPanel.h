#pragma once

#include "LatencyEngine.h"
#include "Theme.h"

#include <deque>
#include <functional>

namespace pauseguard
{
    // The script the engine runs, as a panel: its name, how many macros it declares, the file that
    // is watched for live reload (or the DSP program that runs in place of the script), buttons to
    // load a .lua file, go back to the built-in effect or choose a DSP program (and try a program
    // whose restarts stopped again: component ID "retry"), and the console (the
    // script's print output or the program's stderr, load events and errors, the newest at the bottom).
    // Message thread only.
    class ScriptPanel final : public juce::Component
    {
    public:
        struct Shown
        {
            juce::String name;
            int numMacros = 0;
            juce::String watchedPath; // empty: no file is watched
            bool failed = false;
            juce::String program; // the DSP program's command line; empty: the script runs
            bool starting = false; // the program was just chosen: its start is under way
            bool restartsStopped = false; // the program failed too often: "Try again" is shown
            bool operator== (const Shown&) const = default;
        };

        ScriptPanel();

        std::function<void()> onLoad, onBuiltin, onClear, onProgram, onRetry;

        // Lays out and repaints only if something shown changed.
        void setScript (const Shown& s);
        // Rebuilds the console's text only when the console's size, first or last line changed; new
        // lines at the end of a console that only grew are appended. Returns true if it changed.
        bool setConsole (const std::deque<pg::ConsoleLine>& lines);
        // While a .lua file is dragged over the editor.
        void setDropHighlight (bool on);

        juce::String getNameText() const { return nameText.getText(); }
        juce::String getWatchText() const { return watchText.getText(); }
        juce::String getConsoleText() const { return console.getText(); }

        void paint (juce::Graphics&) override;
        void paintOverChildren (juce::Graphics&) override;
        void resized() override;

    private:
        void layout();
        void appendLines (const std::deque<pg::ConsoleLine>& lines, size_t from);

        Shown shown;
        bool dropHighlight = false;

        juce::TextButton loadButton { juce::String::fromUTF8 ("Load script\xe2\x80\xa6") }, builtinButton { "Built-in" },
            clearButton { "Clear" }, programButton { juce::String::fromUTF8 ("Program\xe2\x80\xa6") }, retryButton { "Try again" };
        juce::TextEditor console;

        // What the console shows: the number of lines, the first and the last.
        size_t consoleCount = 0;
        std::string consoleFirst, consoleLast;
        static bool sameText (const std::string& s, const pg::ConsoleLine& line) noexcept;

        theme::PanelShape panel, consoleBox;
        theme::TextBlock title, nameText, macrosText, watchText, consoleTitle, dropText;

        JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (ScriptPanel)
    };
} // namespace pauseguard
