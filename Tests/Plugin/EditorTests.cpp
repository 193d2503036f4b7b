#include "EngineTesting.h"
#include "Formatting.h"
#include "PluginEditor.h"
#include "PluginHarness.h"
#include "StatsExport.h"

#include <catch2/catch.hpp>

#include <random>
#include <set>

using pauseguard::PauseGuardEditor;
using pauseguard::PauseGuardProcessor;

namespace
{
    // Statistics with known shapes: collector steps around 0.3 ms with a dozen full collections of
    // ~45 ms (longer than a 35 ms latency's budget), chunks around 1 ms, and a few late chunks.
    pg::StatsReport knownStatistics (int latencySamples)
    {
        pg::StatsReport r;
        r.sampleRate = 48000.0;
        r.blockSize = 256;
        r.latencySamples = latencySamples;
        std::mt19937 rng (3);
        pg::DurationHistogram pauses, processing, lateness, response;
        std::lognormal_distribution<double> steps (std::log (0.3e-3), 0.45), fulls (std::log (45.0e-3), 0.08),
            chunks (std::log (1.0e-3), 0.3), late (std::log (3.0e-3), 0.5);
        double collector = 0.0;
        for (int i = 0; i < 5000; ++i)
        {
            const double d = steps (rng);
            pauses.add (d);
            collector += d;
        }
        for (int i = 0; i < 12; ++i)
        {
            const double d = fulls (rng);
            pauses.add (d);
            collector += d;
        }
        for (int i = 0; i < 8000; ++i)
        {
            processing.add (chunks (rng));
            lateness.add (i % 1000 == 0 ? late (rng) : 0.0);
            response.add (chunks (rng) + 0.005);
        }
        r.histograms[pg::StatsReport::pauses] = pauses.snapshot();
        r.histograms[pg::StatsReport::processing] = processing.snapshot();
        r.histograms[pg::StatsReport::lateness] = lateness.snapshot();
        r.histograms[pg::StatsReport::response] = response.snapshot();
        auto& c = r.counters;
        c.fullCollections = 12;
        c.forcedCollections = 2;
        c.incrementalSteps = 5000;
        c.collectorSeconds = collector;
        c.chunksProcessed = 8000;
        c.framesProcessed = 8000 * 256;
        c.dropoutEvents = 3;
        c.dropoutFrames = 700;
        c.heapBytes = uint64_t (67) << 20;
        c.workerLoadPercent = 23.5;
        c.latencySamples = latencySamples;
        return r;
    }

    juce::Image snapshot (PauseGuardEditor& editor, const char* fileName)
    {
        const auto image = editor.createComponentSnapshot (editor.getLocalBounds(), true, 1.0f);
        const auto file = juce::File (PAUSEGUARD_TEST_OUTPUT_DIR).getChildFile (fileName);
        file.deleteFile();
        juce::FileOutputStream stream (file);
        REQUIRE (juce::PNGImageFormat().writeImageToStream (image, stream));
        return image;
    }

    // Bars are drawn translucent over the dark plot: judged by hue, not by exact colour.
    bool isBlue (juce::Colour c) { return c.getBlue() > 140 && c.getBlue() > c.getRed() + 70; }
    bool isRed (juce::Colour c) { return c.getRed() > 140 && c.getRed() > c.getGreen() + 70 && c.getRed() > c.getBlue() + 70; }
    bool isGreen (juce::Colour c) { return c.getGreen() > 140 && c.getGreen() > c.getRed() + 50 && c.getGreen() > c.getBlue() + 20; }
    bool isDark (juce::Colour c) { return c.getBrightness() < 0.2f; }

    int countPixels (const juce::Image& image, juce::Rectangle<int> area, bool (*test) (juce::Colour))
    {
        int n = 0;
        for (int y = area.getY(); y < area.getBottom(); ++y)
            for (int x = area.getX(); x < area.getRight(); ++x)
                n += test (image.getPixelAt (x, y)) ? 1 : 0;
        return n;
    }

    size_t distinctColours (const juce::Image& image, juce::Rectangle<int> area)
    {
        std::set<juce::uint32> colours;
        for (int y = area.getY(); y < area.getBottom(); y += 2)
            for (int x = area.getX(); x < area.getRight(); x += 2)
                colours.insert (image.getPixelAt (x, y).getARGB());
        return colours.size();
    }

    // The colour of a bar at a duration, a few pixels above the plot's floor.
    juce::Colour barColourAt (const juce::Image& image, const PauseGuardEditor& editor, double seconds)
    {
        const auto plot = editor.getHistogramPlotBounds();
        const auto& view = editor.getHistogramView();
        const auto x = plot.getX() + juce::roundToInt (view.xForSeconds (seconds) - view.getPlotArea().getX());
        return image.getPixelAt (x, plot.getBottom() - 6);
    }
} // namespace

TEST_CASE ("The editor builds and paints headless, shows known statistics and the processor's latency", "[gui]")
{
    PauseGuardProcessor p;
    p.prepareToPlay (48000.0, 256);
    pgtest::setParam (p, pauseguard::ParamIDs::latencyMs, 35.0f);
    p.applyPendingLatencyChange();
    REQUIRE (p.getLatencySamples() == 1680);

    std::unique_ptr<juce::AudioProcessorEditor> editor (p.createEditorIfNeeded());
    REQUIRE (editor != nullptr);
    auto* ours = dynamic_cast<PauseGuardEditor*> (editor.get());
    REQUIRE (ours != nullptr);
    CHECK (ours->getNumParameterControls() == static_cast<int> (p.getParameters().size()));
    ours->refresh();
    CHECK (ours->getLatencyText() == juce::String (p.getLatencySamples()) + " samples");

    const auto known = knownStatistics (p.getLatencySamples());
    ours->showStatistics (known);
    const auto& pauses = known.histograms[pg::StatsReport::pauses];
    const auto image = snapshot (*ours, "editor.png");
    CHECK (image.getWidth() >= 1200);
    CHECK (ours->getLatencyText() == "1680 samples");

    SECTION ("the collector pauses: bars inside the budget in blue, past it in red, figures from the bins")
    {
        const auto plot = ours->getHistogramPlotBounds();
        REQUIRE (! plot.isEmpty());
        CHECK (distinctColours (image, plot) > 20);
        CHECK (countPixels (image, plot, isBlue) > 2000);
        CHECK (countPixels (image, plot, isRed) > 300);
        CHECK (isBlue (barColourAt (image, *ours, 0.3e-3)));
        CHECK (isRed (barColourAt (image, *ours, 45.0e-3)));
        CHECK (isDark (barColourAt (image, *ours, 0.5))); // no pause of 0.5 s

        const auto& view = ours->getHistogramView();
        CHECK (view.getLegendText (0) == "5,012 collector calls");
        CHECK (view.getLegendText (1) == "p50  " + pauseguard::format::duration (pauses.percentile (0.5)));
        CHECK (view.getLegendText (2) == "p99  " + pauseguard::format::duration (pauses.percentile (0.99)));
        CHECK (view.getLegendText (3) == "p99.9  " + pauseguard::format::duration (pauses.percentile (0.999)));
        CHECK (view.getLegendText (4) == "max  " + pauseguard::format::duration (pauses.maxSeconds));
        CHECK (view.getLegendText (5) == "budget  " + pauseguard::format::duration ((1680.0 - 256.0) / 48000.0));
        CHECK (ours->isDropoutHighlighted());
        CHECK (ours->getDropoutNote() == "700 samples played dry");
    }
    SECTION ("the warm-up's blocks passed on dry are not dropouts, and the tile says how long they were")
    {
        auto warm = known;
        warm.counters.dropoutEvents = warm.counters.dropoutFrames = 0;
        warm.counters.warmUpDryFrames = 2400;
        ours->showStatistics (warm);
        CHECK_FALSE (ours->isDropoutHighlighted());
        CHECK (ours->getDropoutNote() == "warm-up: " + pauseguard::format::duration (0.05) + " dry; none late");
        warm.counters.warmUpDryFrames = 0;
        ours->showStatistics (warm);
        CHECK (ours->getDropoutNote() == "no late output");
    }
    SECTION ("processing time and lateness")
    {
        ours->selectView (PauseGuardEditor::View::processing);
        const auto processing = snapshot (*ours, "editor-processing.png");
        CHECK (isBlue (barColourAt (processing, *ours, 1.0e-3)));
        CHECK (ours->getHistogramView().getLegendText (0) == "8,000 chunks");

        ours->selectView (PauseGuardEditor::View::lateness);
        const auto lateness = snapshot (*ours, "editor-lateness.png");
        CHECK (isGreen (barColourAt (lateness, *ours, 1.0e-6))); // on time
        CHECK (isRed (barColourAt (lateness, *ours, 3.0e-3)));
        CHECK (ours->getHistogramView().getLegendText (5) == "on time  99.90 %");
    }
    SECTION ("a latency change reaches the readout at the next refresh")
    {
        pgtest::setParam (p, pauseguard::ParamIDs::latencyMs, 50.0f);
        REQUIRE (p.applyPendingLatencyChange());
        ours->refresh();
        CHECK (ours->getLatencyText() == juce::String (p.getLatencySamples()) + " samples");
        CHECK (ours->getLatencyText() == "2400 samples");
    }
    SECTION ("at the smallest size, everything is still laid out")
    {
        editor->setSize (1200, 720);
        const auto small = snapshot (*ours, "editor-small.png");
        CHECK (small.getWidth() == 1200);
        CHECK (! ours->getHistogramPlotBounds().isEmpty());
        CHECK (distinctColours (small, ours->getHistogramPlotBounds()) > 20);
    }
    p.editorBeingDeleted (editor.get());
}

TEST_CASE ("Statistics exported from the editor read back to the same figures", "[gui][export]")
{
    PauseGuardProcessor p;
    pgtest::setParam (p, pauseguard::ParamIDs::strategy, 1.0f); // dynamic: the engine times each collector call
    p.prepareToPlay (48000.0, 256);
    pg::EngineTesting::requestFullCollection (p.getEngine());
    const auto in = pgtest::noise (2, 256 * 200, 4);
    pgtest::runProcessor (p, in, [] { return 256; });

    auto report = pg::captureStatistics (p.getEngine());
    report.latencySamples = p.getLatencySamples();
    REQUIRE (report.counters.framesProcessed > 0);
    REQUIRE (report.histograms[pg::StatsReport::pauses].count > 0);

    const auto dir = juce::File (PAUSEGUARD_TEST_OUTPUT_DIR);
    const auto csvFile = dir.getChildFile ("statistics.csv"), jsonFile = dir.getChildFile ("statistics.json");
    REQUIRE (PauseGuardEditor::writeStatistics (report, csvFile, PauseGuardEditor::ExportFormat::csv));
    REQUIRE (PauseGuardEditor::writeStatistics (report, jsonFile, PauseGuardEditor::ExportFormat::json));

    SECTION ("CSV, read by the engine's reader: every figure exact")
    {
        pg::StatsReport back;
        REQUIRE (pg::statisticsFromCsv (csvFile.loadFileAsString().toStdString(), back));
        CHECK (back.latencySamples == p.getLatencySamples());
        CHECK (back.counters.framesProcessed == report.counters.framesProcessed);
        CHECK (back.counters.fullCollections == report.counters.fullCollections);
        CHECK (back.counters.heapBytes == report.counters.heapBytes);
        CHECK (back.counters.workerLoadPercent == report.counters.workerLoadPercent);
        for (size_t h = 0; h < report.histograms.size(); ++h)
        {
            CHECK (back.histograms[h].bins == report.histograms[h].bins);
            CHECK (back.histograms[h].maxSeconds == report.histograms[h].maxSeconds);
            CHECK (back.histograms[h].sumSeconds == report.histograms[h].sumSeconds);
        }
    }
    SECTION ("JSON, read by JUCE's own parser: the same figures")
    {
        const auto json = juce::JSON::parse (jsonFile);
        REQUIRE (json.isObject());
        CHECK (json["format"].toString() == "pauseguard-statistics");
        CHECK (static_cast<int> (json["latency_samples"]) == p.getLatencySamples());
        CHECK (static_cast<double> (json["sample_rate_hz"]) == 48000.0);
        CHECK (static_cast<int> (json["block_size"]) == 256);
        const auto counters = json["counters"];
        CHECK (static_cast<juce::int64> (counters["frames_processed"]) == static_cast<juce::int64> (report.counters.framesProcessed));
        CHECK (static_cast<juce::int64> (counters["full_collections"]) == static_cast<juce::int64> (report.counters.fullCollections));
        CHECK (static_cast<juce::int64> (counters["dropout_events"]) == static_cast<juce::int64> (report.counters.dropoutEvents));
        CHECK (static_cast<juce::int64> (counters["heap_bytes"]) == static_cast<juce::int64> (report.counters.heapBytes));
        CHECK (static_cast<double> (counters["collector_seconds"]) == Approx (report.counters.collectorSeconds).epsilon (1e-12));
        for (int h = 0; h < pg::StatsReport::numHistograms; ++h)
        {
            const auto& snap = report.histograms[static_cast<size_t> (h)];
            const auto hv = json["histograms"][pg::StatsReport::histogramName (h)];
            INFO (pg::StatsReport::histogramName (h));
            CHECK (static_cast<juce::int64> (hv["count"]) == static_cast<juce::int64> (snap.count));
            CHECK (static_cast<double> (hv["max_s"]) == Approx (snap.maxSeconds).epsilon (1e-12));
            CHECK (static_cast<double> (hv["p50_s"]) == Approx (snap.percentile (0.5)).epsilon (1e-12));
            CHECK (static_cast<double> (hv["p99_s"]) == Approx (snap.percentile (0.99)).epsilon (1e-12));
            CHECK (static_cast<double> (hv["p999_s"]) == Approx (snap.percentile (0.999)).epsilon (1e-12));
            const auto* bins = hv["bins"].getArray();
            REQUIRE (bins != nullptr);
            REQUIRE (bins->size() == pg::DurationHistogram::numBins);
            for (int b = 0; b < pg::DurationHistogram::numBins; ++b)
                CHECK (static_cast<juce::int64> ((*bins)[b]) == static_cast<juce::int64> (snap.bins[static_cast<size_t> (b)]));
        }
    }
}

TEST_CASE ("The latency history draws a dot of its colour for every reason a latency changes", "[plugin][editor]")
{
    // One change of each reason, a second apart. Each reason's colour must be painted (its dots
    // are paths indexed by the reason: a list shorter than the reasons drew some of them nowhere).
    std::vector<pauseguard::LatencyChange> changes;
    for (int r = 0; r < pauseguard::LatencyChange::numReasons; ++r)
        changes.push_back ({ 1.0 + r, 480 + 96 * r, static_cast<pauseguard::LatencyChange::Reason> (r) });
    pauseguard::LatencyTimeline timeline;
    timeline.setSize (1100, 320);
    timeline.setHistory (changes, 10.0, 48000.0);
    const auto image = timeline.createComponentSnapshot (timeline.getLocalBounds(), true, 1.0f);
    for (const auto& c : changes)
    {
        const auto want = pauseguard::LatencyTimeline::colourFor (c.reason);
        int found = 0;
        for (int y = 0; y < image.getHeight(); ++y)
            for (int x = 0; x < image.getWidth(); ++x)
            {
                const auto p = image.getPixelAt (x, y);
                found += std::abs (p.getRed() - want.getRed()) <= 2 && std::abs (p.getGreen() - want.getGreen()) <= 2 && std::abs (p.getBlue() - want.getBlue()) <= 2
                             ? 1
                             : 0;
            }
        INFO (pauseguard::LatencyChange::describe (c.reason));
        CHECK (found >= 20); // at least the centre of one 8-pixel dot
    }
}

TEST_CASE ("The Pool view shows the pool's threads and this instance's chunks; Export trace writes Perfetto's JSON", "[gui][trace]")
{
    PauseGuardProcessor p;
    p.prepareToPlay (48000.0, 256);
    REQUIRE (p.getEngine().waitUntilWarm (30.0));
    juce::AudioBuffer<float> buffer (2, 256);
    juce::MidiBuffer midi;
    for (int b = 0; b < 200; ++b) // audio, paced a little so that the pool's threads run the chunks
    {
        buffer.clear();
        p.processBlock (buffer, midi);
        std::this_thread::sleep_for (std::chrono::microseconds (500));
    }
    REQUIRE (pg::EngineTesting::waitForWorker (p.getEngine(), 5.0));

    std::unique_ptr<juce::AudioProcessorEditor> editor (p.createEditorIfNeeded());
    auto* ours = dynamic_cast<PauseGuardEditor*> (editor.get());
    REQUIRE (ours != nullptr);
    ours->selectView (PauseGuardEditor::View::pool);
    const auto& pool = ours->getPoolView();
    CHECK (pool.isVisible());
    CHECK_FALSE (ours->getHistogramView().isVisible());
    CHECK (pool.getNumLanes() >= 1);
    CHECK (pool.getNumChunksShown() > 0);
    const auto image = snapshot (*ours, "editor-pool.png");
    const auto area = pool.getBoundsInParent();
    CHECK (countPixels (image, area, isBlue) > 50); // this instance's chunks, in the accent colour

    const auto file = juce::File (PAUSEGUARD_TEST_OUTPUT_DIR).getChildFile ("editor-trace.json");
    REQUIRE (PauseGuardEditor::writeTrace (file));
    const auto json = juce::JSON::parse (file);
    REQUIRE (json.isObject());
    int chunks = 0;
    for (const auto& e : *json["traceEvents"].getArray())
        chunks += e["cat"].toString() == "chunk" && e["ph"].toString() == "X" ? 1 : 0;
    CHECK (chunks > 0);
}
