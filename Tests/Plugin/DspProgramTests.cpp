// The plugin with a DSP program (DspPrograms.h, PluginProcessor's program calls): the allow-list,
// a session that names a program, the program through the processor, and the editor's banner.

#include "PluginEditor.h"
#include "PluginHarness.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <thread>

using pauseguard::PauseGuardProcessor;

namespace
{
    // Points the per-user allow-list at a fresh file for the test's life.
    struct TemporaryAllowList
    {
        TemporaryAllowList()
        {
            file.deleteFile();
            setenv ("PAUSEGUARD_ALLOWED_PROGRAMS", file.getFullPathName().toRawUTF8(), 1);
        }
        ~TemporaryAllowList()
        {
            unsetenv ("PAUSEGUARD_ALLOWED_PROGRAMS");
            file.deleteFile();
        }
        juce::File file = juce::File::getSpecialLocation (juce::File::tempDirectory).getChildFile ("pauseguard-allowed-test.txt");
    };

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
} // namespace

TEST_CASE ("Command lines split into words; \"quotes\" keep spaces", "[plugin][program]")
{
    using V = std::vector<std::string>;
    CHECK (pauseguard::splitCommandLine ("  /usr/bin/dsp  -a 1 ") == V { "/usr/bin/dsp", "-a", "1" });
    CHECK (pauseguard::splitCommandLine ("\"/opt/my dsp/run\" -x") == V { "/opt/my dsp/run", "-x" });
    CHECK (pauseguard::splitCommandLine ("").empty());
}

TEST_CASE ("The allow-list: a file of command lines the user allowed, each once", "[plugin][program]")
{
    TemporaryAllowList temporary;
    pauseguard::AllowedPrograms allowed;
    CHECK (allowed.getFile() == temporary.file);
    CHECK_FALSE (allowed.contains ("dsp -a"));
    REQUIRE (allowed.add ("dsp -a"));
    REQUIRE (allowed.add (" dsp -a ")); // the same, once
    REQUIRE (allowed.add ("other"));
    CHECK (allowed.list() == juce::StringArray { "dsp -a", "other" });
    CHECK (pauseguard::AllowedPrograms().contains ("dsp -a")); // read back from the file
    REQUIRE (allowed.remove ("dsp -a"));
    CHECK (allowed.list() == juce::StringArray { "other" });
    CHECK_FALSE (pauseguard::AllowedPrograms (juce::File ("/proc/pauseguard/none.txt")).add ("x")); // cannot be written: false
}

TEST_CASE ("A session never starts a program by itself: one not allowed waits for the user, and is kept in the state",
           "[plugin][program][state]")
{
    TemporaryAllowList temporary;
    const auto blob = sessionNaming (goExample);

    PauseGuardProcessor p;
    p.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
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
    CHECK (pauseguard::AllowedPrograms().contains (goExample));
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
    REQUIRE (pauseguard::AllowedPrograms().add (goExample));
    const auto blob = sessionNaming (goExample);

    PauseGuardProcessor p;
    p.setStateInformation (blob.getData(), static_cast<int> (blob.getSize()));
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

TEST_CASE ("PAUSEGUARD_DSP_PROGRAM gives new instances a program, only if it is allowed", "[plugin][program]")
{
    TemporaryAllowList temporary;
    setenv ("PAUSEGUARD_DSP_PROGRAM", goExample.toRawUTF8(), 1);
    {
        PauseGuardProcessor notAllowed;
        CHECK (notAllowed.getDspProgram().isEmpty());
        CHECK (notAllowed.getPendingDspProgram() == goExample);
    }
    REQUIRE (pauseguard::AllowedPrograms().add (goExample));
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

    p.setDspProgram ("/nonexistent/pauseguard-dsp-program");
    CHECK (p.getDspProgram() == "/nonexistent/pauseguard-dsp-program"); // until its start is known
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
    CHECK_THAT (console.toStdString(), Catch::Contains ("/nonexistent/pauseguard-dsp-program") && Catch::Contains ("not started"));

    juce::MemoryBlock saved;
    p.getStateInformation (saved);
    PauseGuardProcessor q;
    q.setStateInformation (saved.getData(), static_cast<int> (saved.getSize()));
    CHECK (q.getDspProgram() == goExample);
    p.releaseResources();
}
