#include "DspPrograms.h"

#include "Sha256.h"

#include <climits>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

namespace pauseguard
{
    namespace
    {
        // Files larger than this are not hashed (a session could name /proc/kcore): they cannot run.
        constexpr off_t largestFileHashed = off_t (256) << 20;

        // The regular file a path names, its symbolic links followed; empty if there is none.
        std::string realFile (const std::string& path, off_t& size)
        {
            char resolved[PATH_MAX];
            struct stat st
            {
            };
            if (realpath (path.c_str(), resolved) == nullptr || stat (resolved, &st) != 0 || ! S_ISREG (st.st_mode))
                return {};
            size = st.st_size;
            return resolved;
        }

        juce::var toJson (const pg::ProgramCommand& program)
        {
            juce::Array<juce::var> argv, files;
            for (const auto& word : program.argv)
                argv.add (juce::String (word));
            for (const auto& f : program.files)
            {
                auto* file = new juce::DynamicObject();
                file->setProperty ("path", juce::String (f.path));
                file->setProperty ("sha256", juce::String (f.sha256));
                files.add (juce::var (file));
            }
            auto* entry = new juce::DynamicObject();
            entry->setProperty ("argv", argv);
            entry->setProperty ("files", files);
            return juce::var (entry);
        }

        pg::ProgramCommand fromJson (const juce::var& entry)
        {
            pg::ProgramCommand program;
            if (const auto* argv = entry["argv"].getArray())
                for (const auto& word : *argv)
                    program.argv.push_back (word.toString().toStdString());
            if (const auto* files = entry["files"].getArray())
                for (const auto& f : *files)
                    program.files.push_back ({ f["path"].toString().toStdString(), f["sha256"].toString().toStdString() });
            return program;
        }

        juce::File& fileInstead()
        {
            static juce::File file;
            return file;
        }
    } // namespace

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

    juce::String joinCommandLine (const std::vector<std::string>& words)
    {
        juce::StringArray quoted;
        for (const auto& w : words)
            quoted.add (juce::String (w).containsAnyOf (" \t") ? juce::String (w).quoted() : juce::String (w));
        return quoted.joinIntoString (" ");
    }

    ResolvedProgram resolveProgram (const juce::String& commandLine)
    {
        ResolvedProgram r;
        auto argv = splitCommandLine (commandLine);
        if (argv.empty())
        {
            r.error = "no DSP program was given";
            return r;
        }
        if (argv[0].front() != '/')
        {
            r.error = juce::String (argv[0]) + " is not an absolute path: choose the program's file (PATH is never searched)";
            return r;
        }
        for (size_t i = 0; i < argv.size(); ++i)
        {
            if (argv[i].front() != '/')
                continue; // an argument that names no file (a relative one names nothing: the program runs in /)
            off_t size = 0;
            const auto file = realFile (argv[i], size);
            if (file.empty())
            {
                if (i == 0)
                {
                    r.error = juce::String (argv[0]) + " is not a file";
                    return r;
                }
                continue; // a path that is not a file (a folder, or one the program creates)
            }
            if (i == 0 && access (file.c_str(), X_OK) != 0)
            {
                r.error = juce::String (file) + " is not executable";
                return r;
            }
            if (size > largestFileHashed)
            {
                r.error = juce::String (file) + " is larger than 256 MB: too large to be checked";
                return r;
            }
            const auto hash = pg::fileSha256Hex (file);
            if (! hash)
            {
                r.error = "cannot read " + juce::String (file);
                return r;
            }
            argv[i] = file;
            r.command.files.push_back ({ file, *hash });
        }
        r.command.argv = std::move (argv);
        return r;
    }

    juce::String ResolvedProgram::describeFiles() const
    {
        juce::StringArray lines;
        for (const auto& f : command.files)
            lines.add (juce::String (f.path) + "  (sha256 " + juce::String (f.sha256).substring (0, 16) + juce::String::fromUTF8 ("\xe2\x80\xa6)"));
        return lines.joinIntoString ("\n");
    }

    juce::File AllowedPrograms::defaultFile()
    {
        if (fileInstead() != juce::File())
            return fileInstead();
        return juce::File::getSpecialLocation (juce::File::userApplicationDataDirectory)
            .getChildFile ("PauseGuard")
            .getChildFile ("allowed-programs.json");
    }

    void AllowedPrograms::useFileInstead (const juce::File& file) { fileInstead() = file; }

    std::vector<pg::ProgramCommand> AllowedPrograms::list() const
    {
        std::vector<pg::ProgramCommand> programs;
        if (! file.existsAsFile())
            return programs;
        juce::StringArray lines;
        lines.addLines (file.loadFileAsString());
        for (const auto& line : lines)
            if (auto program = fromJson (juce::JSON::parse (line)); ! program.empty())
                programs.push_back (std::move (program));
        return programs;
    }

    bool AllowedPrograms::allows (const pg::ProgramCommand& program) const
    {
        if (program.empty())
            return false;
        const auto programs = list();
        return std::find (programs.begin(), programs.end(), program) != programs.end();
    }

    bool AllowedPrograms::add (const pg::ProgramCommand& program)
    {
        if (program.empty())
            return true;
        auto programs = list();
        programs.erase (std::remove_if (programs.begin(), programs.end(), [&] (const auto& p) { return p.argv == program.argv; }),
                        programs.end());
        programs.push_back (program);
        return write (programs);
    }

    bool AllowedPrograms::remove (const std::vector<std::string>& argv)
    {
        auto programs = list();
        programs.erase (std::remove_if (programs.begin(), programs.end(), [&] (const auto& p) { return p.argv == argv; }), programs.end());
        return write (programs);
    }

    bool AllowedPrograms::write (const std::vector<pg::ProgramCommand>& programs)
    {
        juce::String text;
        for (const auto& p : programs)
            text << juce::JSON::toString (toJson (p), true) << "\n";
        return file.getParentDirectory().createDirectory().wasOk() && file.replaceWithText (text);
    }
} // namespace pauseguard
