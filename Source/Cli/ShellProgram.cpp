#include "ShellProgram.h"

#include "DspPrograms.h"

#include <unistd.h>

namespace pauseguard
{
    namespace
    {
        juce::String foundOnPath (const juce::String& name)
        {
            juce::StringArray entries;
            entries.addTokens (juce::SystemStats::getEnvironmentVariable ("PATH", {}), ":", {});
            for (const auto& entry : entries)
            {
                if (! juce::File::isAbsolutePath (entry))
                    continue;
                const auto candidate = juce::File (entry).getChildFile (name);
                if (candidate.existsAsFile() && access (candidate.getFullPathName().toRawUTF8(), X_OK) == 0)
                    return candidate.getFullPathName();
            }
            return {};
        }
    } // namespace

    juce::String withProgramFoundAsShellWould (const juce::String& commandLine)
    {
        auto words = splitCommandLine (commandLine);
        if (words.empty() || words[0].front() == '/')
            return commandLine;
        const juce::String first (words[0]);
        const auto found = first.containsChar ('/') ? juce::File::getCurrentWorkingDirectory().getChildFile (first).getFullPathName()
                                                    : foundOnPath (first);
        if (found.isEmpty())
            return commandLine;
        words[0] = found.toStdString();
        return joinCommandLine (words);
    }
} // namespace pauseguard
