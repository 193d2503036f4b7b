#include "EngineTesting.h"
#include "PluginEditor.h"
#include "PluginHarness.h"

#include <catch2/catch.hpp>

using pauseguard::PauseGuardEditor;
using pauseguard::PauseGuardProcessor;

namespace
{
    const juce::File outputDir { PAUSEGUARD_TEST_OUTPUT_DIR };

    juce::File writeScript (const char* name, const char* source)
    {
        const auto file = outputDir.getChildFile (name);
        REQUIRE (file.replaceWithText (source));
        return file;
    }

    juce::Image snapshot (PauseGuardEditor& editor, const char* fileName)
    {
        const auto image = editor.createComponentSnapshot (editor.getLocalBounds(), true, 1.0f);
        const auto file = outputDir.getChildFile (fileName);
        file.deleteFile();
        juce::FileOutputStream stream (file);
        REQUIRE (juce::PNGImageFormat().writeImageToStream (image, stream));
        return image;
    }

    // Audio through the processor (the worker in time after each block), then what the processor's
    // and the editor's timers would do.
    void play (PauseGuardProcessor& p, PauseGuardEditor& editor, double seconds)
    {
        const auto in = pgtest::noise (2, static_cast<size_t> (seconds * 48000.0), 11);
        pgtest::runProcessor (p, in, [] { return 256; });
        p.messageThreadTick();
        editor.refresh();
    }

    bool isRed (juce::Colour c)
    {
        return c.getRed() > 140 && c.getRed() > c.getGreen() + 70 && c.getRed() > c.getBlue() + 70;
    }

    int countPixels (const juce::Image& image, juce::Rectangle<int> area, bool (*test) (juce::Colour))
    {
        int n = 0;
        for (int y = area.getY(); y < area.getBottom(); ++y)
            for (int x = area.getX(); x < area.getRight(); ++x)
                n += test (image.getPixelAt (x, y)) ? 1 : 0;
        return n;
    }

    constexpr const char* macroScript = R"(-- two macros, and a line on the console
macros = { { name = "feedback", min = 0.0, max = 0.85 }, { name = "cutoff_hz", min = 20, max = 20000 } }
local said = false
function process(ch, n, p)
    if not said then
        print("hello from the test script, feedback " .. string.format("%.3f", p.feedback))
        said = true
    end
end
)";

    // Runs well past its crossfade (so that it replaces the running script), then fails on line 7.
    constexpr const char* failingScript = R"(-- fails after a while
macros = { { name = "gain", min = 0, max = 2 } }
local calls = 0
function process(ch, n, p)
    calls = calls + 1
    if calls > 60 then
        error("too many calls")
    end
end
)";
} // namespace

TEST_CASE ("The editor's script panel: a dropped script, its console, its named macros and its error", "[gui][script]")
{
    PauseGuardProcessor p;
    p.prepareToPlay (48000.0, 256);
    std::unique_ptr<juce::AudioProcessorEditor> editor (p.createEditorIfNeeded());
    auto* ours = dynamic_cast<PauseGuardEditor*> (editor.get());
    REQUIRE (ours != nullptr);
    play (p, *ours, 0.2);

    const auto& panel = ours->getScriptPanel();
    const auto& controls = ours->getControlPanel();
    CHECK (panel.getNameText() == "BuiltinEffect.lua");
    // The built-in effect declares no macros: all eight show, dimmed, as the host names them.
    for (int i = 0; i < 8; ++i)
    {
        CHECK (controls.isMacroShown (i));
        CHECK (controls.getMacroLabel (i) == "Macro " + juce::String (i + 1));
    }

    const auto file = writeScript ("EditorMacros.lua", macroScript);
    CHECK (ours->isInterestedInFileDrag ({ file.getFullPathName() }));
    CHECK_FALSE (ours->isInterestedInFileDrag ({ outputDir.getChildFile ("take.wav").getFullPathName() }));

    ours->filesDropped ({ file.getFullPathName() }, 100, 100);
    while (pg::EngineTesting::isLoading (p.getEngine())) // compiled and warmed on the loader thread
        juce::Thread::sleep (1);
    play (p, *ours, 0.5);
    pg::EngineTesting::waitForWorker (p.getEngine(), 10.0);
    play (p, *ours, 0.1);

    CHECK (p.getScriptName() == "EditorMacros.lua");
    CHECK (p.getEngine().getScriptName() == "EditorMacros.lua");
    CHECK (p.getWatchedScriptFile() == file);
    CHECK (panel.getNameText() == "EditorMacros.lua");
    CHECK (panel.getWatchText().contains ("EditorMacros.lua"));
    CHECK (panel.getWatchText().startsWith ("watching "));

    SECTION ("the macro knobs take the script's names, and show their values in its ranges")
    {
        CHECK (controls.getMacroLabel (0) == "feedback");
        CHECK (controls.getMacroLabel (1) == "cutoff_hz");
        CHECK (controls.getMacroValueText (0) == "0.425"); // the knob at 0.5: 0 + 0.85 x 0.5
        CHECK (controls.getMacroValueText (1) == "10010"); // 20 + 19980 x 0.5
        for (int i = 2; i < 8; ++i)
            CHECK_FALSE (controls.isMacroShown (i));
        CHECK (ours->getNumParameterControls() == static_cast<int> (p.getParameters().size()));

        // The console: the script's print, and the load, the newest at the bottom.
        const auto console = panel.getConsoleText();
        CHECK (console.contains ("hello from the test script, feedback 0.425"));
        CHECK (console.contains ("EditorMacros.lua loaded"));
        CHECK (console.indexOf ("EditorMacros.lua loaded") > console.indexOf ("hello from the test script"));
        CHECK (ours->getScriptErrorText().isEmpty());
        snapshot (*ours, "editor-script.png");

        editor->setSize (1200, 720);
        snapshot (*ours, "editor-script-small.png");
        CHECK (! ours->getHistogramPlotBounds().isEmpty());

        // Clear empties the console; going back to the built-in effect brings the eight knobs back.
        p.clearConsole();
        ours->refresh();
        CHECK (panel.getConsoleText().isEmpty());
        p.useBuiltinScript();
        while (pg::EngineTesting::isLoading (p.getEngine())) // compiled and warmed on the loader thread
            juce::Thread::sleep (1);
        play (p, *ours, 0.2);
        CHECK (panel.getNameText() == "BuiltinEffect.lua");
        CHECK (panel.getWatchText().startsWith ("watching ") == false);
        CHECK (controls.getMacroLabel (0) == "Macro 1");
        CHECK (controls.isMacroShown (7));
    }
    SECTION ("a script that stops with an error: the banner shows the message with its line")
    {
        const auto failing = writeScript ("EditorFails.lua", failingScript);
        ours->filesDropped ({ failing.getFullPathName() }, 10, 10);
        while (pg::EngineTesting::isLoading (p.getEngine())) // compiled and warmed on the loader thread
            juce::Thread::sleep (1);
        play (p, *ours, 0.1);
        pg::EngineTesting::waitForWorker (p.getEngine(), 10.0); // the worker has crossfaded to it
        REQUIRE (p.getEngine().getScriptName() == "EditorFails.lua");
        play (p, *ours, 0.4); // 60 chunks and more
        pg::EngineTesting::waitForWorker (p.getEngine(), 10.0);
        play (p, *ours, 0.05);

        const auto error = juce::String (p.getEngine().getScriptError());
        INFO (error);
        REQUIRE (error.contains ("EditorFails.lua:7:"));
        CHECK (ours->getScriptErrorText().contains ("EditorFails.lua:7: too many calls"));
        CHECK (ours->getScriptErrorText().startsWith ("Script stopped"));

        const auto image = snapshot (*ours, "editor-script-error.png");
        const auto banner = ours->getErrorBannerBounds();
        REQUIRE (! banner.isEmpty());
        CHECK (countPixels (image, banner, isRed) > 1000); // its outline and the red wash behind the text

        // Saving the watched file with a fix reloads it, and the banner goes.
        juce::Thread::sleep (1100); // a modification time the file system tells apart
        writeScript ("EditorFails.lua", macroScript);
        p.messageThreadTick();
        play (p, *ours, 0.3);
        pg::EngineTesting::waitForWorker (p.getEngine(), 10.0);
        play (p, *ours, 0.1);
        CHECK (ours->getScriptErrorText().isEmpty());
        CHECK (ours->getErrorBannerBounds().isEmpty());
        CHECK (controls.getMacroLabel (0) == "feedback");
    }
    p.editorBeingDeleted (editor.get());
}
