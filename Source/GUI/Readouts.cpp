#include "Readouts.h"

#include "Formatting.h"

namespace pauseguard
{
    using namespace theme;

    // ---- LatencyReadout ----------------------------------------------------------------------------

    LatencyReadout::LatencyReadout()
    {
        setOpaque (true);
        setInterceptsMouseClicks (false, false);
    }

    void LatencyReadout::setFigures (const Figures& f)
    {
        if (f == figures && number.getText().isNotEmpty())
            return;
        figures = f;
        layout();
        repaint();
    }

    void LatencyReadout::resized() { layout(); }

    void LatencyReadout::layout()
    {
        const auto bounds = getLocalBounds().toFloat();
        panel.set (bounds);
        title.set ("LATENCY REPORTED TO THE HOST", titleFont(), panelTitleBox (bounds));
        auto r = panelContent (bounds);

        const auto& f = figures;
        const auto bigFont = font (50.0f, true);
        const juce::String samples (f.samples);
        const float numberWidth = bigFont.getStringWidthFloat (samples) + 4.0f;
        auto top = r.removeFromTop (54.0f);
        number.set (samples, bigFont, top.removeFromLeft (numberWidth), juce::Justification::bottomLeft);
        unit.set ("samples", font (17.0f), top.withTrimmedLeft (8.0f).withTrimmedBottom (7.0f), juce::Justification::bottomLeft);

        const double rate = f.sampleRate > 0.0 ? f.sampleRate : 48000.0;
        const double khz = rate / 1000.0;
        ms.set (juce::String (1000.0 * f.samples / rate, 2) + " ms  at " + juce::String (khz, khz == std::floor (khz) ? 0 : 1) + " kHz",
                font (20.0f), r.removeFromTop (28.0f));
        r.removeFromTop (6.0f);
        const double slack = static_cast<double> (f.samples - f.blockSize) / rate;
        budget.set ("pause budget " + format::duration (slack) + "  (L minus a block of " + juce::String (f.blockSize) + ")",
                    font (13.0f), r.removeFromTop (18.0f).withTrimmedLeft (16.0f));
        juce::String modeText;
        if (f.dynamic)
            modeText = "Dynamic: adapts to the lateness it measures (wants " + juce::String (f.wantedDynamic) + ")";
        else if (f.autoLatency)
            modeText = "Deterministic: fixed, profiled in the background";
        else
            modeText = "Deterministic: fixed by the Latency control";
        mode.set (modeText, font (13.0f), r.removeFromTop (18.0f));
        note.set (f.note, font (13.0f, true), r.removeFromTop (18.0f));
    }

    void LatencyReadout::paint (juce::Graphics& g)
    {
        g.fillAll (colours::background);
        panel.draw (g, colours::panel, colours::outline);
        title.draw (g, colours::dim);
        number.draw (g, colours::text);
        unit.draw (g, colours::dim);
        ms.draw (g, colours::accent);
        const auto budgetBox = budget.getGlyphs().getBoundingBox (0, -1, true);
        if (! budgetBox.isEmpty())
        {
            g.setColour (colours::warn);
            for (float x = budgetBox.getX() - 15.0f; x < budgetBox.getX() - 4.0f; x += 7.0f)
                g.fillRect (x, budgetBox.getCentreY() - 1.0f, 4.0f, 2.0f);
        }
        budget.draw (g, colours::text.withAlpha (0.85f));
        mode.draw (g, colours::dim);
        note.draw (g, colours::warn);
    }

    // ---- CounterTiles ------------------------------------------------------------------------------

    CounterTiles::CounterTiles()
    {
        setOpaque (true);
        setInterceptsMouseClicks (false, false);
    }

    void CounterTiles::setCounters (const pg::EngineCounters& c, double sampleRate, bool dynamic)
    {
        const Shown now { c.fullCollections, c.forcedCollections, c.incrementalSteps, c.framesProcessed, c.dropoutEvents,
                          c.dropoutFrames, c.heapBytes, c.collectorSeconds, c.workerLoadPercent, sampleRate,
                          dynamic, true, c.runtime.reported, c.runtime.collections, c.runtime.pauseMaxSeconds, c.warmUpDryFrames };
        if (now == shown)
            return;
        shown = now;
        auto& v = values;
        auto& s = subs;
        v[fullTile] = format::count (c.fullCollections);
        s[fullTile] = dynamic ? format::count (c.forcedCollections) + " forced by the heap threshold" : "Lua collects inside the script";
        if (c.runtime.reported)
        {
            // A DSP program's runtime has no small steps: its own pause figures instead.
            v[stepsTile] = format::duration (c.runtime.pauseMaxSeconds) + " max";
            s[stepsTile] = "p99 " + format::duration (c.runtime.pauseP99Seconds) + "; " + format::count (c.runtime.collections) + " cycles";
        }
        else
        {
            v[stepsTile] = format::count (c.incrementalSteps);
            s[stepsTile] = dynamic ? "basic steps, in the slack" : "none: deterministic strategy";
        }
        v[collectorTile] = format::duration (c.collectorSeconds);
        const double runSeconds = sampleRate > 0.0 ? static_cast<double> (c.framesProcessed) / sampleRate : 0.0;
        s[collectorTile] = runSeconds > 0.0 ? juce::String (100.0 * c.collectorSeconds / runSeconds, 1) + " % of audio time"
                                            : "of audio time";
        v[dropoutTile] = format::count (c.dropoutEvents);
        if (c.dropoutEvents > 0)
            s[dropoutTile] = format::count (c.dropoutFrames) + " samples played dry";
        else if (c.warmUpDryFrames > 0 && sampleRate > 0.0) // by design: the script was not warm yet
            s[dropoutTile] = "warm-up: " + format::duration (static_cast<double> (c.warmUpDryFrames) / sampleRate) + " dry; none late";
        else
            s[dropoutTile] = "no late output";
        v[heapTile] = format::megabytes (c.heapBytes);
        s[heapTile] = c.runtime.reported ? "the program's runtime heap" : "managed (Lua) heap";
        if (c.runtime.reported)
            s[fullTile] = dynamic ? format::count (c.forcedCollections) + " forced by the heap threshold" : "the runtime collects by itself";
        v[loadTile] = juce::String (c.workerLoadPercent, 1) + " %";
        s[loadTile] = "script + collector, of real time";
        dropouts = c.dropoutEvents;
        load = c.workerLoadPercent;
        layout();
        repaint();
    }

    void CounterTiles::resized() { layout(); }

    void CounterTiles::layout()
    {
        const char* const titles[numTiles] = { "FULL COLLECTIONS", shown.runtime ? "RUNTIME GC PAUSES" : "INCREMENTAL STEPS",
                                               "COLLECTOR TIME", "DROPOUTS", "HEAP", "WORKER LOAD" };
        auto r = getLocalBounds().toFloat();
        const int columns = 3;
        const int rowsCount = static_cast<int> ((numTiles + static_cast<size_t> (columns) - 1) / static_cast<size_t> (columns));
        const float gap = 8.0f;
        const float w = (r.getWidth() - gap * static_cast<float> (columns - 1)) / static_cast<float> (columns);
        const float h = (r.getHeight() - gap * static_cast<float> (rowsCount - 1)) / static_cast<float> (rowsCount);
        for (size_t i = 0; i < numTiles; ++i)
        {
            const auto col = static_cast<float> (static_cast<int> (i) % columns);
            const auto row = static_cast<float> (static_cast<int> (i) / columns);
            auto& t = tiles[i];
            t.box = { r.getX() + col * (w + gap), r.getY() + row * (h + gap), w, h };
            t.shape.set (t.box);
            t.alarmShape.set (t.box, panelCorner, 1.5f);
            auto inner = t.box.reduced (12.0f, 8.0f);
            t.title.set (titles[i], titleFont(), inner.removeFromTop (15.0f));
            t.sub.set (subs[i], font (12.0f), inner.removeFromBottom (15.0f));
            t.value.set (values[i], font (23.0f, true), inner, juce::Justification::centredLeft);
        }
    }

    void CounterTiles::paint (juce::Graphics& g)
    {
        g.fillAll (colours::background);
        for (size_t i = 0; i < numTiles; ++i)
        {
            const auto& t = tiles[i];
            const bool alarm = i == dropoutTile && dropouts > 0;
            if (alarm)
                t.alarmShape.draw (g, colours::panel.interpolatedWith (colours::warn, 0.16f), colours::warn);
            else
                t.shape.draw (g, colours::panel, colours::outline);

            if (i == loadTile) // a bar along the bottom edge
            {
                const auto bar = t.box.reduced (1.5f).removeFromBottom (3.0f);
                g.setColour (colours::grid);
                g.fillRect (bar);
                const auto share = static_cast<float> (juce::jlimit (0.0, 100.0, load) / 100.0);
                g.setColour (load > 80.0 ? colours::warn : (load > 50.0 ? colours::amber : colours::accent));
                g.fillRect (bar.withWidth (bar.getWidth() * share));
            }

            t.title.draw (g, alarm ? colours::warn : colours::dim);
            juce::Colour valueColour = colours::text;
            if (i == dropoutTile)
                valueColour = alarm ? colours::warn : colours::ok;
            t.value.draw (g, valueColour);
            t.sub.draw (g, colours::dim);
        }
    }
} // namespace pauseguard
