#pragma once

// The dialogs around DSP programs: choosing one to run in place of the script, and asking before
// a restored session's program starts. Message thread only; both are asynchronous, and an answer
// that comes after `owner` (the editor) is gone does nothing.

#include "PluginProcessor.h"

#include <functional>

namespace pauseguard
{
    // "Run a DSP program": a command line (pre-filled with the running program, or the last one
    // allowed), the allow-list to pick from, a file browser for the executable, and a way back to
    // the script. `status` reports what was done.
    void showProgramDialog (juce::Component& owner, PauseGuardProcessor& processor, std::function<void (const juce::String&)> status);

    // "This session wants to run …": run it once, always allow it, or keep the script.
    void showSessionProgramQuestion (juce::Component& owner, PauseGuardProcessor& processor, std::function<void (const juce::String&)> status);
} // namespace pauseguard
