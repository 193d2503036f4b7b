#pragma once

// The dialogs around DSP programs: choosing one to run in place of the script, and asking before
// a restored session's program starts. Message thread only; both are asynchronous, and an answer
// that comes after `owner` (the editor) is gone does nothing.

#include "PluginProcessor.h"

#include <functional>
#include <vector>

namespace pauseguard
{
    // "Run a DSP program": a command line (pre-filled with the running program only, never with one
    // a session names), the allow-list to pick from, a file browser for the executable, and a way
    // back to the script. `status` reports what was done.
    void showProgramDialog (juce::Component& owner, PauseGuardProcessor& processor, std::function<void (const juce::String&)> status);

    // "This session runs a DSP program": keep the script (the default: Return and Escape), run it
    // once, or always allow it.
    void showSessionProgramQuestion (juce::Component& owner, PauseGuardProcessor& processor, std::function<void (const juce::String&)> status);

    // What the two windows are made of (a test reads it: a window needs a display). The program
    // dialog's command line as it opens, and the question's buttons, in order.
    juce::String programDialogCommand (const PauseGuardProcessor& processor);
    struct QuestionButton
    {
        juce::String text;
        int answer = 0;
        bool onReturnAndEscape = false; // the default
    };
    std::vector<QuestionButton> sessionQuestionButtons (const ResolvedProgram& resolved);

    // The question's text: each file that would run, as resolved now (its absolute path and its
    // hash's first 16 hex digits), or why it cannot run.
    juce::String sessionQuestionText (const ResolvedProgram& resolved);
} // namespace pauseguard
