#include "DspPrograms.h"

namespace pauseguard
{
    std::vector<std::string> splitCommandLine (const juce::String& commandLine)
    {
        juce::StringArray words;
        words.addTokens (commandLine, " \t", "\"");
        words.removeEmptyStrings();
        std::vector<std::string> argv;
        for (auto w : words)
            argv.push_back (w.unquoted().toStdString());
        return argv;
    }

    juce::File AllowedPrograms::defaultFile()
    {
        const auto fromEnvironment = juce::SystemStats::getEnvironmentVariable ("PAUSEGUARD_ALLOWED_PROGRAMS", {});
        if (fromEnvironment.isNotEmpty())
            return juce::File (fromEnvironment);
        return juce::File::getSpecialLocation (juce::File::userApplicationDataDirectory)
            .getChildFile ("PauseGuard")
            .getChildFile ("allowed-programs.txt");
    }

    juce::StringArray AllowedPrograms::list() const
    {
        juce::StringArray lines;
        if (file.existsAsFile())
            lines.addLines (file.loadFileAsString());
        lines.trim();
        lines.removeEmptyStrings();
        lines.removeDuplicates (false);
        return lines;
    }

    bool AllowedPrograms::contains (const juce::String& commandLine) const
    {
        return commandLine.trim().isNotEmpty() && list().contains (commandLine.trim());
    }

    bool AllowedPrograms::add (const juce::String& commandLine)
    {
        auto lines = list();
        if (commandLine.trim().isEmpty() || lines.contains (commandLine.trim()))
            return true;
        lines.add (commandLine.trim());
        return write (lines);
    }

    bool AllowedPrograms::remove (const juce::String& commandLine)
    {
        auto lines = list();
        lines.removeString (commandLine.trim());
        return write (lines);
    }

    bool AllowedPrograms::write (const juce::StringArray& lines)
    {
        return file.getParentDirectory().createDirectory().wasOk() && file.replaceWithText (lines.joinIntoString ("\n") + "\n");
    }
} // namespace pauseguard
