#pragma once

// DSP programs (a DSP in a process of its own, such as bin/pauseguard-example-go): their command
// lines, the files they run, and the per-user list of programs the user has allowed.
//
// A program is trusted as a file, not as text (DESIGN.md, item 15). A command line is resolved to
// the files it runs: the program (an absolute path, symbolic links followed; PATH is never
// searched) and each argument that is an absolute path to a file (the script an interpreter
// runs), each with the SHA-256 of its content. The allow-list holds those files and hashes: a
// program whose file changed, or that resolves to another file, is not on it, and is asked about
// again. A session file never starts a program by itself: the processor starts one the user
// chose in the editor, or one on this list; a session that names another program asks first.

#include "EngineTypes.h"

#include <juce_core/juce_core.h>

#include <string>
#include <vector>

namespace pauseguard
{
    // A command line split into words: spaces separate them, "double quotes" keep spaces inside one.
    std::vector<std::string> splitCommandLine (const juce::String& commandLine);
    // The words joined back into a command line (a word with a space is quoted).
    juce::String joinCommandLine (const std::vector<std::string>& words);

    // A command line resolved to the files it runs, as they are now. Message thread (it reads the
    // files: a few milliseconds for a program of a few MB).
    struct ResolvedProgram
    {
        pg::ProgramCommand command; // argv with its paths resolved, and each file with its hash
        juce::String error; // not empty: nothing can run (no such file, a relative path, ...)

        bool ok() const noexcept { return error.isEmpty() && ! command.empty(); }
        juce::String commandLine() const { return joinCommandLine (command.argv); }
        // For a prompt: each file on a line, with the start of its hash ("/usr/bin/x (sha256 1a2b...)").
        juce::String describeFiles() const;
    };
    ResolvedProgram resolveProgram (const juce::String& commandLine);

    // The per-user allow-list: one allowed program a line (its argv and its files' hashes, as
    // JSON), in allowed-programs.json in the user's application data folder (Linux:
    // ~/.config/PauseGuard). The environment cannot move it. Message thread.
    class AllowedPrograms
    {
    public:
        static juce::File defaultFile();
        // For tests: the file every AllowedPrograms() uses from now on (an empty File: the default).
        static void useFileInstead (const juce::File& file);

        explicit AllowedPrograms (juce::File listFile = defaultFile())
            : file (std::move (listFile))
        {
        }

        std::vector<pg::ProgramCommand> list() const;
        // The same argv, and every file with the same hash.
        bool allows (const pg::ProgramCommand& program) const;
        // Adds it, in place of an entry with the same argv (a changed file allowed again). False if
        // the file could not be written.
        bool add (const pg::ProgramCommand& program);
        bool remove (const std::vector<std::string>& argv);
        const juce::File& getFile() const noexcept { return file; }

    private:
        bool write (const std::vector<pg::ProgramCommand>& programs);
        juce::File file;
    };
} // namespace pauseguard
