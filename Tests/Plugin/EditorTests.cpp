#include "PluginEditor.h"
#include "PluginHarness.h"

#include <catch2/catch.hpp>

using pauseguard::PauseGuardProcessor;

TEST_CASE ("The editor builds and paints headless, and shows the processor's latency", "[gui]")
{
    PauseGuardProcessor p;
    p.prepareToPlay (48000.0, 256);
    pgtest::setParam (p, pauseguard::ParamIDs::latencyMs, 35.0f);
    p.applyPendingLatencyChange();
    REQUIRE (p.getLatencySamples() == 1680);

    std::unique_ptr<juce::AudioProcessorEditor> editor (p.createEditorIfNeeded());
    REQUIRE (editor != nullptr);
    auto* ours = dynamic_cast<pauseguard::PauseGuardEditor*> (editor.get());
    REQUIRE (ours != nullptr);
    ours->refresh();
    CHECK (ours->getLatencyText() == "1680 samples");

    const auto image = editor->createComponentSnapshot (editor->getLocalBounds());
    CHECK (image.getWidth() >= 640);
    const auto file = juce::File (PAUSEGUARD_TEST_OUTPUT_DIR).getChildFile ("editor.png");
    file.deleteFile();
    juce::FileOutputStream stream (file);
    REQUIRE (juce::PNGImageFormat().writeImageToStream (image, stream));

    // Not blank: the header and the knobs put many distinct colours on the dark background.
    std::set<juce::uint32> colours;
    for (int y = 0; y < image.getHeight(); y += 4)
        for (int x = 0; x < image.getWidth(); x += 4)
            colours.insert (image.getPixelAt (x, y).getARGB());
    CHECK (colours.size() > 20);
    p.editorBeingDeleted (editor.get());
}
