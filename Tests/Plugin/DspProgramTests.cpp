// The plugin with a DSP program (DspPrograms.h, PluginProcessor's program calls): the allow-list,
// a session that names a program, the program through the processor, and the editor's banner.

#include "PluginEditor.h"
#include "ProgramDialogs.h"
#include "EngineTesting.h"
#include "PluginHarness.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <thread>
#include <unistd.h>

using pauseguard::PauseGuardProcessor;

namespace
{
    // Points the per-user allow-list at a fresh file for the test's life.
    struct TemporaryAllowList
    {
        TemporaryAllowList()
        {
            file.deleteFile();
            pauseguard::AllowedPrograms::useFileInstead (file);
        }
        ~TemporaryAllowList()
        {
            pauseguard::AllowedPrograms::useFileInstead ({});
            file.deleteFile();
        }
        // One per process: ctest -j runs other cases of this suite at the same time, each in a process.
        juce::File file = juce::File::getSpecialLocation (juce::File::tempDirectory)
                              .getChildFile ("pauseguard-allowed-test-" + juce::String (static_cast<int> (getpid())) + ".json");
    };

    bool allow (const juce::String& commandLine) { return pauseguard::AllowedPrograms().add (pauseguard::resolveProgram (commandLine).command); }

    const juce::String goExample = juce::String (PAUSEGUARD_GO_EXAMPLE) + " -live-heap-mb 1";

    void prepareStereo (PauseGuardProcessor& p, int block = 512)
    {
        juce::AudioProcessor::BusesLayout layout;
        layout.inputBuses.add (juce::AudioChannelSet::stereo());
        layout.outputBuses.add (juce::AudioChannelSet::stereo());
        p.setBusesLayout (layout);
        p.setNonRealtime (true);
        p.setRateAndBufferSizeDetails (48000.0, block);
        p.prepareToPlay (48000.0, block);
    }

    juce::MemoryBlock sessionNaming (const juce::String& commandLine)
    {
        PauseGuardProcessor p;
        p.setDspProgram (commandLine, false);
        juce::MemoryBlock blob;
        p.getStateInformation (blob);
        return blob;
    }

    // p restores a session that names the program `commandLine`.
    void restoreSessionNaming (PauseGuardProcessor& p, const juce::String& commandLine)
    {
        const auto blob = sessionNaming (commandLine);
        p.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
    }
} // namespace

TEST_CASE ("Command lines split into words; \"quotes\" keep spaces", "[plugin][program]")
{
    using V = std::vector<std::string>;
    CHECK (pauseguard::splitCommandLine ("  /usr/bin/dsp  -a 1 ") == V { "/usr/bin/dsp", "-a", "1" });
    CHECK (pauseguard::splitCommandLine ("\"/opt/my dsp/run\" -x") == V { "/opt/my dsp/run", "-x" });
    CHECK (pauseguard::splitCommandLine ("").empty());
}

TEST_CASE ("The allow-list: programs the user allowed, each once, with their files' hashes", "[plugin][program]")
{
    TemporaryAllowList temporary;
    pauseguard::AllowedPrograms allowed;
    CHECK (allowed.getFile() == temporary.file);
    const pg::ProgramCommand a ({ "/usr/bin/dsp", "-a" }, { { "/usr/bin/dsp", std::string (64, 'a') } });
    auto changed = a;
    changed.files[0].sha256 = std::string (64, 'b');
    const pg::ProgramCommand other ({ "/opt/other" }, { { "/opt/other", std::string (64, 'c') } });
    CHECK_FALSE (allowed.allows (a));
    REQUIRE (allowed.add (a));
    REQUIRE (allowed.add (a)); // the same, once
    REQUIRE (allowed.add (other));
    CHECK (allowed.list() == std::vector<pg::ProgramCommand> { a, other });
    CHECK (pauseguard::AllowedPrograms().allows (a)); // read back from the file
    CHECK_FALSE (allowed.allows (changed)); // another hash: not allowed
    REQUIRE (allowed.add (changed)); // allowed again: in place of the old one
    CHECK (allowed.list() == std::vector<pg::ProgramCommand> { other, changed });
    REQUIRE (allowed.remove (changed.argv));
    CHECK (allowed.list() == std::vector<pg::ProgramCommand> { other });
    CHECK_FALSE (pauseguard::AllowedPrograms (juce::File ("/proc/pauseguard/none.json")).add (a)); // cannot be written: false
}

TEST_CASE ("A session never starts a program by itself: one not allowed waits for the user, and is kept in the state",
           "[plugin][program][state]")
{
    TemporaryAllowList temporary;

    PauseGuardProcessor p;
    restoreSessionNaming (p, goExample);
    CHECK (p.getDspProgram().isEmpty());
    CHECK (p.getPendingDspProgram() == goExample);
    prepareStereo (p);
    CHECK (p.getEngine().getDspProcessId() == 0); // the script plays
    CHECK (p.getEngine().getScriptName() == "BuiltinEffect.lua");

    // Saved again, the session still names it.
    juce::MemoryBlock again;
    p.getStateInformation (again);
    PauseGuardProcessor q;
    q.setStateInformation (again.getData(), static_cast<int> (again.getSize()));
    CHECK (q.getPendingDspProgram() == goExample);
    // "Keep the script", then the same session loaded again: the editor asks again.
    const int asked = q.getPendingDspProgramSerial();
    q.dismissPendingDspProgram();
    CHECK (q.isPendingDspProgramDismissed());
    q.setStateInformation (again.getData(), static_cast<int> (again.getSize()));
    CHECK_FALSE (q.isPendingDspProgramDismissed());
    CHECK (q.getPendingDspProgramSerial() != asked);

    // The user allows it (the editor's "Always allow"): it starts, and goes on the list.
    p.setDspProgram (p.getPendingDspProgram(), true);
    CHECK (p.getPendingDspProgram().isEmpty());
    CHECK (pauseguard::AllowedPrograms().allows (pauseguard::resolveProgram (goExample).command));
    for (int tries = 0; tries < 400 && p.getEngine().getDspProcessId() == 0; ++tries)
    {
        pgtest::runProcessor (p, pgtest::noise (2, 512, 1), pgtest::fixedBlocks (512));
        std::this_thread::sleep_for (std::chrono::milliseconds (5));
    }
    CHECK (p.getEngine().getDspProcessId() > 0);
    p.releaseResources();
}

TEST_CASE ("A session that names an allowed program starts it at prepare, exactly aligned; release stops it", "[plugin][program][state]")
{
    TemporaryAllowList temporary;
    REQUIRE (allow (goExample));

    PauseGuardProcessor p;
    restoreSessionNaming (p, goExample);
    CHECK (p.getDspProgram() == goExample);
    CHECK (p.getPendingDspProgram().isEmpty());
    pgtest::setParam (p, pauseguard::ParamIDs::mix, 100.0f);
    prepareStereo (p, 1024);
    const int pid = p.getEngine().getDspProcessId();
    REQUIRE (pid > 0);
    CHECK (p.getEngine().getScriptName() == "pauseguard-example-go");
    const int latency = p.getLatencySamples();
    const auto in = pgtest::noise (2, 48000, 2);
    int k = 0;
    const auto out = pgtest::runProcessor (p, in, [&] { return ++k % 2 == 0 ? 333 : 1024; });
    CHECK (pgtest::countMisaligned (in, pgtest::simpleWet (in), out, latency, 1.0f) == 0);
    CHECK (p.getEngine().getCounters().runtime.reported);
    p.releaseResources();
    CHECK (kill (pid, 0) != 0); // stopped and reaped
}

TEST_CASE ("Editor: a program that fails shows its message in the banner", "[plugin][program][editor]")
{
    TemporaryAllowList temporary;
    PauseGuardProcessor p;
    p.setDspProgram (goExample);
    prepareStereo (p);
    p.setNonRealtime (false); // playing: a render would start the program again at once, unseen
    pgtest::runProcessor (p, pgtest::noise (2, 4096, 3), pgtest::fixedBlocks (512));
    std::unique_ptr<juce::AudioProcessorEditor> base (p.createEditor());
    auto* editor = dynamic_cast<pauseguard::PauseGuardEditor*> (base.get());
    REQUIRE (editor != nullptr);
    editor->setSize (1100, 720);
    editor->refresh();
    CHECK (editor->getScriptErrorText().isEmpty());
    CHECK (editor->getScriptPanel().getWatchText().startsWith ("running "));

    const int pid = p.getEngine().getDspProcessId();
    REQUIRE (pid > 0); // (kill with 0 would signal this whole process group)
    REQUIRE (kill (pid, SIGKILL) == 0);
    pgtest::runProcessor (p, pgtest::noise (2, 1024, 4), pgtest::fixedBlocks (512));
    editor->refresh();
    CHECK_THAT (editor->getScriptErrorText().toStdString(), Catch::Contains ("DSP program stopped") && Catch::Contains ("signal 9"));
    base.reset();
    p.releaseResources();
}

TEST_CASE ("The session's question shows the resolved file and its hash's prefix, and Return keeps the script; Program... is not pre-filled from a session",
           "[plugin][program][gui]")
{
    TemporaryAllowList temporary;
    PauseGuardProcessor p;
    restoreSessionNaming (p, goExample);
    REQUIRE (p.getPendingDspProgram() == goExample);
    prepareStereo (p);

    const auto resolved = pauseguard::resolveProgram (goExample);
    REQUIRE (resolved.ok());
    const auto text = pauseguard::sessionQuestionText (resolved);
    const auto& binary = resolved.command.files.front();
    CHECK (text.contains (juce::String (binary.path)));
    CHECK (juce::File::isAbsolutePath (juce::String (binary.path)));
    CHECK (text.contains (juce::String (binary.sha256).substring (0, 16)));
    CHECK (pauseguard::sessionQuestionText (pauseguard::resolveProgram ("no-such-program-here")).startsWith ("It names a program that cannot run here"));

    const auto buttons = pauseguard::sessionQuestionButtons (resolved);
    REQUIRE (buttons.size() == 3);
    CHECK (buttons[0].text == "Keep the script");
    CHECK (buttons[0].onReturnAndEscape);
    CHECK (buttons[0].answer == 0); // (the answer that starts nothing)
    CHECK_FALSE (buttons[1].onReturnAndEscape);
    CHECK_FALSE (buttons[2].onReturnAndEscape);
    CHECK (pauseguard::sessionQuestionButtons (pauseguard::resolveProgram ("no-such-program-here")).size() == 1);

    CHECK (pauseguard::programDialogCommand (p).isEmpty()); // not the session's program
    CHECK (p.getEngine().getDspProcessId() == 0); // nothing started: the script plays
    p.releaseResources();
}

TEST_CASE ("PAUSEGUARD_DSP_PROGRAM gives new instances a program, only if it is allowed", "[plugin][program]")
{
    TemporaryAllowList temporary;
    setenv ("PAUSEGUARD_DSP_PROGRAM", goExample.toRawUTF8(), 1);
    {
        PauseGuardProcessor notAllowed;
        CHECK (notAllowed.getDspProgram().isEmpty());
        CHECK (notAllowed.getPendingDspProgram() == goExample);
    }
    REQUIRE (allow (goExample));
    {
        PauseGuardProcessor allowed;
        CHECK (allowed.getDspProgram() == goExample);
        prepareStereo (allowed);
        CHECK (allowed.getEngine().getDspProcessId() > 0);
        allowed.releaseResources();
    }
    unsetenv ("PAUSEGUARD_DSP_PROGRAM");
}

TEST_CASE ("A program chosen while another plays that does not start: the one playing stays the choice, and the session saves it",
           "[plugin][program][state]")
{
    TemporaryAllowList temporary;
    PauseGuardProcessor p;
    p.setDspProgram (goExample);
    prepareStereo (p);
    pgtest::runProcessor (p, pgtest::noise (2, 4096, 5), pgtest::fixedBlocks (512));
    const int pid = p.getEngine().getDspProcessId();
    REQUIRE (pid > 0);

    // A file that is not there: refused at once, the choice unchanged.
    CHECK_FALSE (p.setDspProgram ("/nonexistent/pauseguard-dsp-program"));
    CHECK (p.getDspProgram() == goExample);
    CHECK_THAT (p.getConsole().back().text, Catch::Contains ("/nonexistent/pauseguard-dsp-program is not a file"));
    // One that fails to start (exits at once): the choice until its start is known.
    REQUIRE (p.setDspProgram ("/bin/false"));
    CHECK (p.getDspProgram() == "/usr/bin/false"); // (the file /bin/false names)
    for (int tries = 0; tries < 400 && p.getDspProgram() != goExample; ++tries)
    {
        pgtest::runProcessor (p, pgtest::noise (2, 512, 6), pgtest::fixedBlocks (512));
        p.messageThreadTick();
        std::this_thread::sleep_for (std::chrono::milliseconds (5));
    }
    CHECK (p.getDspProgram() == goExample);
    CHECK (p.getEngine().getDspProcessId() == pid);
    juce::String console;
    for (const auto& line : p.getConsole())
        console << line.text << "\n";
    CHECK_THAT (console.toStdString(), Catch::Contains ("exited with code 1") && Catch::Contains ("not started"));

    juce::MemoryBlock saved;
    p.getStateInformation (saved);
    PauseGuardProcessor q;
    q.setStateInformation (saved.getData(), static_cast<int> (saved.getSize()));
    CHECK (q.getDspProgram() == goExample);
    p.releaseResources();
}

namespace
{
    // A folder of the test's own, a program in it that leaves a mark when it runs, and a copy of
    // the Go example: what a session may name, and what may be put in its place.
    struct TrustFolder
    {
        TrustFolder()
        {
            folder.deleteRecursively();
            folder.createDirectory();
            mark.deleteFile();
        }
        ~TrustFolder() { folder.deleteRecursively(); }

        juce::File markingProgram (const juce::String& name) const
        {
            auto f = folder.getChildFile (name);
            f.replaceWithText ("#!/bin/sh\ntouch '" + mark.getFullPathName() + "'\n", false, false, "\n");
            f.setExecutePermission (true);
            return f;
        }
        juce::File goCopy (const juce::String& name) const
        {
            auto f = folder.getChildFile (name);
            juce::File (PAUSEGUARD_GO_EXAMPLE).copyFileTo (f);
            f.setExecutePermission (true);
            return f;
        }

        // A session naming it starts nothing, leaves no mark, and asks about it.
        void checkSessionStartsNothing (const juce::String& named) const;

        juce::File folder = juce::File::getSpecialLocation (juce::File::tempDirectory).getChildFile ("pauseguard-trust-" + juce::String (getpid()));
        juce::File mark = juce::File::getSpecialLocation (juce::File::tempDirectory).getChildFile ("pauseguard-ran-" + juce::String (getpid()));
    };

    // A processor restoring a session that names commandLine, prepared and played a while: the
    // process id of the program it runs (0: none).
    int playSessionNaming (const juce::String& commandLine, juce::String* pending = nullptr)
    {
        juce::MemoryBlock blob;
        {
            PauseGuardProcessor writer;
            writer.getStateInformation (blob);
            auto xml = juce::AudioProcessor::getXmlFromBinary (blob.getData(), static_cast<int> (blob.getSize()));
            xml->deleteAllChildElementsWithTagName ("DSPPROGRAM");
            xml->createNewChildElement ("DSPPROGRAM")->setAttribute ("command", commandLine);
            blob.reset();
            juce::AudioProcessor::copyXmlToBinary (*xml, blob);
        }
        PauseGuardProcessor p;
        p.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
        prepareStereo (p);
        for (int i = 0; i < 20; ++i)
        {
            pgtest::runProcessor (p, pgtest::noise (2, 512, 7), pgtest::fixedBlocks (512));
            p.messageThreadTick();
            std::this_thread::sleep_for (std::chrono::milliseconds (5));
        }
        const int pid = p.getEngine().getDspProcessId();
        if (pending != nullptr)
            *pending = p.getPendingDspProgram();
        p.releaseResources();
        return pid;
    }

    void TrustFolder::checkSessionStartsNothing (const juce::String& named) const
    {
        juce::String pending;
        CHECK (playSessionNaming (named, &pending) == 0);
        CHECK (pending == named);
        CHECK_FALSE (mark.exists());
    }
} // namespace

TEST_CASE ("Trust is bound to a file: a binary swapped after it was allowed starts nothing, and is asked about", "[plugin][program][trust]")
{
    TemporaryAllowList temporary;
    TrustFolder t;
    const auto dsp = t.goCopy ("dsp").getFullPathName();
    REQUIRE (allow (dsp));
    CHECK (playSessionNaming (dsp) > 0); // as allowed: it plays

    t.markingProgram ("other").moveFileTo (juce::File (dsp));
    t.checkSessionStartsNothing (dsp);
}

TEST_CASE ("Trust is bound to a file: a symbolic link pointed at another file starts nothing", "[plugin][program][trust]")
{
    TemporaryAllowList temporary;
    TrustFolder t;
    const auto allowed = t.goCopy ("allowed");
    const auto other = t.markingProgram ("other");
    const auto link = t.folder.getChildFile ("link");
    REQUIRE (allowed.createSymbolicLink (link, true));
    REQUIRE (allow (link.getFullPathName()));
    CHECK (pauseguard::AllowedPrograms().list().front().argv.front() == allowed.getFullPathName().toStdString()); // the file, not the link
    CHECK (playSessionNaming (link.getFullPathName()) > 0);

    REQUIRE (other.createSymbolicLink (link, true));
    t.checkSessionStartsNothing (link.getFullPathName());
}

TEST_CASE ("Trust is bound to a file: a relative path, a bare name and the PATH (an empty entry too) start nothing", "[plugin][program][trust]")
{
    TemporaryAllowList temporary;
    TrustFolder t;
    t.markingProgram ("dsp");
    t.folder.getChildFile ("bin").createDirectory();
    t.markingProgram ("bin/dsp");
    // An old allow-list of command lines as text grants nothing.
    temporary.file.replaceWithText ("dsp\nbin/dsp\n./dsp\n");
    const auto previousFolder = juce::File::getCurrentWorkingDirectory();
    const auto previousPath = juce::SystemStats::getEnvironmentVariable ("PATH", {});
    t.folder.setAsCurrentWorkingDirectory();
    setenv ("PATH", (":" + t.folder.getChildFile ("bin").getFullPathName() + ":" + previousPath).toRawUTF8(), 1);
    for (const juce::String named : { "dsp", "bin/dsp", "./dsp" })
    {
        INFO (named);
        t.checkSessionStartsNothing (named);
        PauseGuardProcessor chosen;
        CHECK_FALSE (chosen.setDspProgram (named)); // even chosen in the editor
        CHECK (chosen.getDspProgram().isEmpty());
        CHECK_THAT (chosen.getConsole().back().text, Catch::Contains ("is not an absolute path"));
    }
    setenv ("PATH", previousPath.toRawUTF8(), 1);
    previousFolder.setAsCurrentWorkingDirectory();
    CHECK_FALSE (t.mark.exists());
    CHECK (pauseguard::AllowedPrograms().list().empty());
}

TEST_CASE ("Trust is bound to a file: the script an allowed interpreter runs, changed, starts nothing", "[plugin][program][trust]")
{
    TemporaryAllowList temporary;
    TrustFolder t;
    const auto script = t.markingProgram ("dsp.sh");
    const auto command = "/bin/sh " + script.getFullPathName();
    REQUIRE (allow (command));
    CHECK (pauseguard::AllowedPrograms().list().front().files.size() == 2); // the interpreter and its script
    playSessionNaming (command);
    CHECK (t.mark.existsAsFile()); // as allowed, it runs (and, being no DSP, exits)
    t.mark.deleteFile();

    script.appendText ("# changed\n", false, false, "\n");
    t.checkSessionStartsNothing (command);
}

TEST_CASE ("A command line that names a huge file (a session could name /proc/kcore) is refused without reading it",
           "[plugin][program][trust]")
{
    TrustFolder t;
    const auto huge = t.folder.getChildFile ("huge");
    REQUIRE (huge.create().wasOk());
    REQUIRE (truncate (huge.getFullPathName().toRawUTF8(), off_t (1) << 40) == 0); // 1 TB, sparse
    const auto t0 = juce::Time::getMillisecondCounterHiRes();
    const auto resolved = pauseguard::resolveProgram ("/bin/sh " + huge.getFullPathName());
    CHECK_FALSE (resolved.ok());
    CHECK_THAT (resolved.error.toStdString(), Catch::Contains ("too large to be checked"));
    CHECK (juce::Time::getMillisecondCounterHiRes() - t0 < 5000.0);
}

TEST_CASE ("The environment alone never starts a program, whatever list PAUSEGUARD_ALLOWED_PROGRAMS names", "[plugin][program][trust]")
{
    TemporaryAllowList temporary;
    TrustFolder t;
    const auto dsp = t.markingProgram ("dsp").getFullPathName();
    // A list that would allow it, in both forms, where the variable points.
    const auto planted = t.folder.getChildFile ("planted.json");
    pauseguard::AllowedPrograms (planted).add (pauseguard::resolveProgram (dsp).command);
    planted.appendText (dsp + "\n");
    setenv ("PAUSEGUARD_ALLOWED_PROGRAMS", planted.getFullPathName().toRawUTF8(), 1);
    setenv ("PAUSEGUARD_DSP_PROGRAM", dsp.toRawUTF8(), 1);
    {
        PauseGuardProcessor p;
        CHECK (p.getDspProgram().isEmpty());
        CHECK (p.getPendingDspProgram() == dsp);
        prepareStereo (p);
        pgtest::runProcessor (p, pgtest::noise (2, 4096, 8), pgtest::fixedBlocks (512));
        CHECK (p.getEngine().getDspProcessId() == 0);
        p.releaseResources();
    }
    unsetenv ("PAUSEGUARD_ALLOWED_PROGRAMS");
    unsetenv ("PAUSEGUARD_DSP_PROGRAM");
    CHECK_FALSE (t.mark.exists());
}

TEST_CASE ("Editor: a program whose restarts stopped shows Try again, which starts it again", "[plugin][program][editor]")
{
    TemporaryAllowList temporary;
    PauseGuardProcessor p;
    REQUIRE (p.setDspProgram ("/bin/false")); // exits at once, every time
    pg::EngineTesting::setFirstRestartBackoff (p.getEngine(), 0.01); // what the editor shows, not the backoff's pace
    prepareStereo (p);
    std::unique_ptr<juce::AudioProcessorEditor> base (p.createEditor());
    auto* editor = dynamic_cast<pauseguard::PauseGuardEditor*> (base.get());
    REQUIRE (editor != nullptr);
    editor->setSize (1100, 720);
    auto* retry = dynamic_cast<juce::Button*> (editor->getScriptPanel().findChildWithID ("retry"));
    REQUIRE (retry != nullptr);
    editor->refresh();
    CHECK_FALSE (retry->isVisible());

    // 10 + 20 + 40 + 80 + 160 ms of backoff, then no more restarts.
    for (int tries = 0; tries < 1500 && ! p.getEngine().areProgramRestartsStopped(); ++tries)
        std::this_thread::sleep_for (std::chrono::milliseconds (20));
    REQUIRE (p.getEngine().areProgramRestartsStopped());
    p.messageThreadTick();
    editor->refresh();
    CHECK (retry->isVisible());
    const auto restarts = p.getEngine().getCounters().dspRestarts;
    retry->onClick();
    CHECK_FALSE (p.getEngine().areProgramRestartsStopped());
    for (int tries = 0; tries < 250 && p.getEngine().getCounters().dspRestarts == restarts; ++tries)
        std::this_thread::sleep_for (std::chrono::milliseconds (20));
    CHECK (p.getEngine().getCounters().dspRestarts == restarts + 1);
    base.reset();
    p.releaseResources();
}

TEST_CASE ("A program's own parameters are the plugin's macro knobs: named by it, and automated through them", "[plugin][program][parameters]")
{
    TemporaryAllowList temporary;
    PauseGuardProcessor p;
    REQUIRE (p.setDspProgram (PAUSEGUARD_GO_CHORUS));
    pgtest::setParam (p, pauseguard::ParamIDs::mix, 100.0f);
    pgtest::setParam (p, pauseguard::ParamIDs::macros[2], 0.0f); // the chorus's own mix: 0 %, the dry signal
    prepareStereo (p);
    REQUIRE (p.getEngine().getDspProcessId() > 0);
    const auto macros = p.getEngine().getScriptMacros();
    REQUIRE (macros.size() == 3);
    CHECK (macros[0].name == "rate");
    CHECK (macros[1].name == "depth");
    CHECK (macros[2].name == "mix");
    CHECK (macros[2].max == Approx (100.0));

    const int latency = p.getLatencySamples();
    const auto in = pgtest::noise (2, 24000, 9);
    auto out = pgtest::runProcessor (p, in, pgtest::fixedBlocks (512));
    CHECK (pgtest::countMisaligned (in, in, out, latency, 1.0f) == 0); // mix 0: the input, delayed by L

    pgtest::setParam (p, pauseguard::ParamIDs::macros[2], 1.0f); // 100 %: the chorus
    out = pgtest::runProcessor (p, in, pgtest::fixedBlocks (512));
    CHECK (pgtest::countMisaligned (in, in, out, latency, 1.0f) > 1000);
    p.releaseResources();
}

TEST_CASE ("A program's declared defaults set its knobs when it is chosen, but not a knob moved since, nor a session's; the knobs show its units",
           "[plugin][program][parameters]")
{
    TemporaryAllowList temporary;
    juce::MemoryBlock session;
    {
        PauseGuardProcessor p;
        REQUIRE (p.setDspProgram (PAUSEGUARD_GO_CHORUS));
        pgtest::setParam (p, pauseguard::ParamIDs::macros[2], 0.0f); // moved after the choice: kept
        prepareStereo (p);
        REQUIRE (p.getEngine().getDspProcessId() > 0);
        p.messageThreadTick();
        const auto macros = p.getEngine().getScriptMacros();
        REQUIRE (macros.size() == 3);
        CHECK (macros[0].unit == "Hz");
        CHECK (macros[0].defaultValue == Approx (0.8));
        CHECK (macros[2].unit == "%");
        CHECK (p.getParams().macros[0]->get() == Approx ((0.8 - 0.1) / 4.9).margin (0.001)); // rate 0.8 Hz of 0.1-5 (knobs step by 0.001)
        CHECK (p.getParams().macros[1]->get() == Approx (0.3).margin (0.001)); // depth 3 ms of 10
        CHECK (p.getParams().macros[2]->get() == 0.0f); // mix: the user's

        std::unique_ptr<juce::AudioProcessorEditor> base (p.createEditor());
        auto* editor = dynamic_cast<pauseguard::PauseGuardEditor*> (base.get());
        REQUIRE (editor != nullptr);
        editor->setSize (1100, 720);
        editor->refresh();
        CHECK (editor->getControlPanel().getMacroLabel (0) == "rate");
        CHECK (editor->getControlPanel().getMacroValueText (0) == "0.80 Hz");
        CHECK (editor->getControlPanel().getMacroValueText (2) == "0 %");
        base.reset();

        pgtest::setParam (p, pauseguard::ParamIDs::macros[0], 0.9f);
        p.getStateInformation (session);
        p.releaseResources();
    }
    PauseGuardProcessor q; // the session opened again: its knobs, not the defaults
    q.setStateInformation (session.getData(), static_cast<int> (session.getSize()));
    prepareStereo (q);
    REQUIRE (q.getEngine().getDspProcessId() > 0);
    pgtest::setParam (q, pauseguard::ParamIDs::macros[1], 0.6f);
    q.messageThreadTick();
    CHECK (q.getParams().macros[0]->get() == Approx (0.9));
    CHECK (q.getParams().macros[1]->get() == Approx (0.6));
    q.releaseResources();
}

namespace
{
    // The processor's state, saved while audio plays on another thread (the worker saves a
    // program's state between two chunks), and its DSPPROGRAM element's decoded state.
    std::string programStateSavedWhilePlaying (PauseGuardProcessor& p, juce::MemoryBlock& blob)
    {
        pgtest::runProcessor (p, pgtest::noise (2, 4096, 10), pgtest::fixedBlocks (512)); // (offline: the chunks are done)
        std::atomic<bool> playing { true };
        std::thread audio ([&] {
            while (playing)
                pgtest::runProcessor (p, pgtest::noise (2, 1024, 10), pgtest::fixedBlocks (512));
        });
        p.getStateInformation (blob);
        playing = false;
        audio.join();
        auto xml = juce::AudioProcessor::getXmlFromBinary (blob.getData(), static_cast<int> (blob.getSize()));
        const auto* program = xml != nullptr ? xml->getChildByName ("DSPPROGRAM") : nullptr;
        juce::MemoryOutputStream decoded;
        if (program == nullptr || ! juce::Base64::convertFromBase64 (decoded, program->getStringAttribute ("state")))
            return {};
        return decoded.toString().toStdString();
    }

    unsigned long countIn (const std::string& state) { return state.rfind ("count=", 0) == 0 ? std::stoul (state.substr (6)) : 0; }
} // namespace

TEST_CASE ("A program's state is saved with the session and restored with it; a session not allowed keeps it", "[plugin][program][state]")
{
    TemporaryAllowList temporary;
    const juce::String counter = juce::String (PAUSEGUARD_TEST_CHILD) + " counter";
    juce::MemoryBlock blob;
    unsigned long saved = 0;
    {
        PauseGuardProcessor p;
        REQUIRE (p.setDspProgram (counter)); // (allowed)
        prepareStereo (p);
        saved = countIn (programStateSavedWhilePlaying (p, blob));
        CHECK (saved > 0);
        p.releaseResources();
    }
    {
        PauseGuardProcessor q; // the session reopened: the program goes on from its state
        q.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
        prepareStereo (q);
        juce::MemoryBlock again;
        CHECK (countIn (programStateSavedWhilePlaying (q, again)) > saved);
        q.releaseResources();
    }
    pauseguard::AllowedPrograms().remove (pauseguard::resolveProgram (counter).command.argv);
    {
        PauseGuardProcessor r; // not allowed here: nothing runs, and the state is kept as it was
        r.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
        CHECK (r.getPendingDspProgram().isNotEmpty());
        juce::MemoryBlock kept;
        r.getStateInformation (kept);
        auto xml = juce::AudioProcessor::getXmlFromBinary (kept.getData(), static_cast<int> (kept.getSize()));
        REQUIRE (xml != nullptr);
        juce::MemoryOutputStream decoded;
        REQUIRE (juce::Base64::convertFromBase64 (decoded, xml->getChildByName ("DSPPROGRAM")->getStringAttribute ("state")));
        CHECK (countIn (decoded.toString().toStdString()) == saved);
    }
    // A session whose counter is at a million: the program it names goes on from it once allowed;
    // another program chosen instead gets none of it.
    auto xml = juce::AudioProcessor::getXmlFromBinary (blob.getData(), static_cast<int> (blob.getSize()));
    REQUIRE (xml != nullptr);
    const std::string million = "count=1000000";
    xml->getChildByName ("DSPPROGRAM")->setAttribute ("state", juce::Base64::toBase64 (million.data(), million.size()));
    juce::MemoryBlock millionBlob;
    juce::AudioProcessor::copyXmlToBinary (*xml, millionBlob);
    for (const bool same : { true, false })
    {
        INFO ((same ? "the session's program" : "another program"));
        PauseGuardProcessor other;
        other.setStateInformation (millionBlob.getData(), static_cast<int> (millionBlob.getSize()));
        other.runProgramAsShown (pauseguard::resolveProgram (same ? counter : counter + " other").command, false);
        prepareStereo (other);
        juce::MemoryBlock chosen;
        const auto count = countIn (programStateSavedWhilePlaying (other, chosen));
        CHECK ((same ? count > 1000000 : (count > 0 && count < 1000000)));
        other.releaseResources();
    }
}
