#pragma once

// DSP programs (a DSP in a process of its own, such as bin/pauseguard-example-go): their command
// lines, and the per-user list of programs the user has allowed to run.
//
// A session file never starts a program by itself: the processor starts one the user chose in the
// editor, or one on this list; a session that names another program asks first (the editor).

#include <juce_core/juce_core.h>

#include <string>
#include <vector>

namespace pauseguard
{
    // A command line split into words: spaces separate them, "double quotes" keep spaces inside one.
    std::vector<std::string> splitCommandLine (const juce::String& commandLine);

    // The per-user allow-list: one command line per line, in a text file. Message thread.
    class AllowedPrograms
    {
    public:
        // $PAUSEGUARD_ALLOWED_PROGRAMS if set, else allowed-programs.txt in the user's application
        // data folder (Linux: ~/.config/PauseGuard).
        static juce::File defaultFile();

        explicit AllowedPrograms (juce::File listFile = defaultFile()) : file (std::move (listFile)) {}

        juce::StringArray list() const;
        bool contains (const juce::String& commandLine) const;
        // Adds it (once). False if the file could not be written.
        bool add (const juce::String& commandLine);
        bool remove (const juce::String& commandLine);
        const juce::File& getFile() const noexcept { return file; }

    private:
        bool write (const juce::StringArray& lines);
        juce::File file;
    };
} // namespace pauseguard
