#pragma once

// The CLI's --process: a command line typed in a shell names its program as the shell would find
// it. Only here: the plugin never searches PATH (DspPrograms.h).

#include <juce_core/juce_core.h>

namespace pauseguard
{
    // The command line with its first word made absolute: a word with a slash against the working
    // directory, a bare name in PATH's absolute entries (an empty or relative entry is skipped).
    // Unchanged if nothing is found (resolveProgram then says why it cannot run).
    juce::String withProgramFoundAsShellWould (const juce::String& commandLine);
} // namespace pauseguard
