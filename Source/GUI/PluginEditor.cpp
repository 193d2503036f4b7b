#include "PluginEditor.h"

#include "ProgramDialogs.h"

#include "Clock.h"
#include "Trace/ChromeTrace.h"

namespace pauseguard
{
    using namespace theme;

    namespace
    {
        constexpr int margin = 14, gap = 10, headerHeight = 44, readoutHeight = 178;
        constexpr int refreshHz = 30, historyEveryTicks = 6; // the history (it allocates a copy) at 5 Hz

        const char* captionFor (PauseGuardEditor::View v)
        {
            switch (v)
            {
                case PauseGuardEditor::View::pauses:
                    return "Every collector call the engine made. Red: past the budget (L minus a block), "
                           "where a pause may reach the output.";
                case PauseGuardEditor::View::processing:
                    return "The script's time per chunk (with Lua's own collector work in the deterministic strategy).";
                case PauseGuardEditor::View::lateness:
                    return "How late each chunk was delivered past its deadline. Late chunks are played dry.";
                case PauseGuardEditor::View::pool:
                    return "Every instance's chunks on the shared pool's threads (this one in blue). Export the trace for Perfetto.";
            }
            return "";
        }
    } // namespace

    PauseGuardEditor::PauseGuardEditor (PauseGuardProcessor& p)
        : AudioProcessorEditor (p)
        , pauseGuard (p)
        , controls (p.getState())
    {
        setLookAndFeel (&lookAndFeel);
        addAndMakeVisible (latency);
        addAndMakeVisible (counters);
        addAndMakeVisible (histogram);
        addChildComponent (poolView);
        addAndMakeVisible (timeline);

        script.onLoad = [this] { launchScriptChooser(); };
        script.onBuiltin = [this] {
            pauseGuard.useBuiltinScript();
            showStatus ("Back to the built-in effect");
            refreshScript (true);
        };
        script.onProgram = [this] {
            showProgramDialog (*this, pauseGuard, [this] (const juce::String& m) {
                showStatus (m);
                refreshScript (true);
            });
        };
        script.onRetry = [this] {
            if (pauseGuard.getEngine().retryProgram())
                showStatus ("Starting the program again");
            refreshScript (true);
        };
        script.onClear = [this] {
            pauseGuard.clearConsole();
            refreshScript (true);
        };
        addAndMakeVisible (script);

        controlsView.setViewedComponent (&controls, false);
        controlsView.setScrollBarsShown (true, false);
        controlsView.setScrollBarThickness (8);
        addAndMakeVisible (controlsView);

        int tab = 0;
        for (auto* b : { &pausesTab, &processingTab, &latenessTab, &poolTab })
        {
            b->setClickingTogglesState (true);
            b->setRadioGroupId (1);
            b->setConnectedEdges ((tab > 0 ? juce::Button::ConnectedOnLeft : 0) | (tab < 3 ? juce::Button::ConnectedOnRight : 0));
            const auto v = static_cast<View> (tab++);
            b->onClick = [this, v] { selectView (v); };
            addAndMakeVisible (*b);
        }
        pausesTab.setToggleState (true, juce::dontSendNotification);

        exportCsv.setTooltip ("Save the statistics as CSV: the figures, then one row per histogram bin");
        exportJson.setTooltip ("Save the statistics as JSON");
        resetButton.setTooltip ("Clear the histograms and counters (the latency history is kept)");
        exportCsv.onClick = [this] { launchExport (ExportFormat::csv); };
        exportJson.onClick = [this] { launchExport (ExportFormat::json); };
        exportTrace.setTooltip ("Save the engine's trace of the last seconds (every chunk, nap and dropout with its cause) "
                                "as Chrome trace-event JSON, for ui.perfetto.dev or chrome://tracing");
        exportTrace.onClick = [this] { launchTraceExport(); };
        resetButton.onClick = [this] {
            pauseGuard.getEngine().resetStatistics();
            showStatus ("Statistics reset");
        };
        for (auto* b : { &exportCsv, &exportJson, &exportTrace, &resetButton })
            addAndMakeVisible (*b);

        setResizable (true, true);
        setResizeLimits (1200, 720, 2560, 1600);
        // Everything at once on the screen it opens on, if that screen is large enough.
        int width = 1320, height = 900;
        if (const auto* display = juce::Desktop::getInstance().getDisplays().getPrimaryDisplay())
        {
            width = juce::jlimit (1200, 1320, display->userArea.getWidth() - 40);
            height = juce::jlimit (720, 900, display->userArea.getHeight() - 80);
        }
        setSize (width, height);
        refresh();
        refreshScript (true);
        startTimerHz (refreshHz);
    }

    PauseGuardEditor::~PauseGuardEditor()
    {
        stopTimer();
        setLookAndFeel (nullptr);
    }

    void PauseGuardEditor::refresh()
    {
        auto report = pg::captureStatistics (pauseGuard.getEngine());
        report.latencySamples = pauseGuard.getLatencySamples();
        showStatistics (report);
        if (view == View::pool && ticks % 3 == 0) // (10 Hz: a second of trace is a few thousand events)
            refreshPool();

        if (report.latencySamples != historyLatency || ++ticks >= historyEveryTicks)
        {
            ticks = 0;
            historyLatency = report.latencySamples;
            timeline.setHistory (pauseGuard.getLatencyHistory(), pauseGuard.getSecondsSinceCreation(), report.sampleRate);
        }

        if (const bool noDevice = pauseGuard.isDrivenWithoutDevice(); noDevice != showingNoDevice)
        {
            showingNoDevice = noDevice;
            layoutTexts();
            repaint();
        }

        const auto error = report.counters.scriptFailed ? juce::String (pauseGuard.getEngine().getScriptError()) : juce::String();
        const bool errorChanged = error != scriptError;
        scriptError = error;
        refreshScript (errorChanged);
        if (errorChanged)
        {
            resized();
            repaint();
        }
        // A restored session names a program the user has not allowed: ask, once per program and
        // session (a session loaded again asks again).
        const auto named = pauseGuard.getPendingDspProgram();
        if (named.isNotEmpty() && pauseGuard.getPendingDspProgramSerial() != askedSessionProgram && ! pauseGuard.isPendingDspProgramDismissed())
        {
            askedSessionProgram = pauseGuard.getPendingDspProgramSerial();
            showSessionProgramQuestion (*this, pauseGuard, [this] (const juce::String& m) {
                showStatus (m);
                refreshScript (true);
            });
        }
        if (statusUntil > 0.0 && juce::Time::getMillisecondCounterHiRes() > statusUntil)
        {
            statusUntil = 0.0;
            status.set ({}, font (13.0f), {});
            repaint (header.toNearestInt());
        }
    }

    void PauseGuardEditor::refreshScript (bool force)
    {
        const bool consoleChanged = script.setConsole (pauseGuard.getConsole());
        // The name and macros are copied under the engine's lock: a few times a second, or at once
        // when the console reports something (a script loaded or failed).
        if (! force && ! consoleChanged && ++scriptTicks < historyEveryTicks)
            return;
        scriptTicks = 0;
        auto& engine = pauseGuard.getEngine();
        auto name = juce::String (engine.getScriptName());
        if (name.isEmpty()) // not prepared yet: the script that prepare will load
            name = pauseGuard.getScriptName();
        const auto macros = engine.getScriptMacros();
        const auto watched = pauseGuard.getWatchedScriptFile();
        script.setScript ({ name, static_cast<int> (macros.size()),
                            watched == juce::File() ? juce::String() : watched.getFullPathName(), scriptError.isNotEmpty(),
                            pauseGuard.getDspProgram(), engine.isProgramChoicePending(), engine.areProgramRestartsStopped() });
        if (controls.setScriptMacros (macros, name))
            resized(); // the controls' height may have changed
    }

    bool PauseGuardEditor::isInterestedInFileDrag (const juce::StringArray& files)
    {
        for (const auto& f : files)
            if (f.endsWithIgnoreCase (".lua"))
                return true;
        return false;
    }

    void PauseGuardEditor::filesDropped (const juce::StringArray& files, int, int)
    {
        script.setDropHighlight (false);
        for (const auto& f : files)
            if (f.endsWithIgnoreCase (".lua"))
            {
                loadScript (juce::File (f));
                return;
            }
    }

    void PauseGuardEditor::loadScript (const juce::File& file)
    {
        if (pauseGuard.loadScriptFile (file))
            showStatus ("Loading " + file.getFileName() + " (watched: saving it again reloads it)");
        else
            showStatus ("Could not read " + file.getFullPathName(), true);
        refreshScript (true);
    }

    void PauseGuardEditor::launchScriptChooser()
    {
        const auto watched = pauseGuard.getWatchedScriptFile();
        const auto start = watched != juce::File() ? watched.getParentDirectory()
                                                   : juce::File::getSpecialLocation (juce::File::userDocumentsDirectory);
        scriptChooser = std::make_unique<juce::FileChooser> ("Load a Lua script", start, "*.lua");
        juce::Component::SafePointer<PauseGuardEditor> safe (this);
        scriptChooser->launchAsync (juce::FileBrowserComponent::openMode | juce::FileBrowserComponent::canSelectFiles,
                                    [safe] (const juce::FileChooser& fc) {
                                        const auto file = fc.getResult();
                                        if (safe != nullptr && file != juce::File())
                                            safe->loadScript (file);
                                    });
    }

    void PauseGuardEditor::showStatistics (const pg::StatsReport& report)
    {
        shown = report;
        const auto& params = pauseGuard.getParams();
        const bool dynamic = params.strategy.getIndex() == 1;
        const bool autoLatency = params.autoLatency.get();

        latency.setFigures ({ report.latencySamples, report.sampleRate, report.blockSize, dynamic, autoLatency,
                              report.counters.wantedDynamicLatency, pauseGuard.getLatencyNote() });
        counters.setCounters (report.counters, report.sampleRate, dynamic);
        controls.setStrategy (dynamic, autoLatency);

        juce::String empty = "No audio processed yet.";
        auto kind = HistogramView::Kind::pauses;
        auto index = pg::StatsReport::pauses;
        if (view == View::pauses)
            empty = dynamic ? "No collector calls yet."
                            : "Deterministic strategy: Lua's own collector runs inside the script, so its pauses are part of "
                              "the processing time. Choose the Dynamic strategy to let the engine schedule and time each collector call.";
        else if (view == View::processing)
        {
            kind = HistogramView::Kind::processing;
            index = pg::StatsReport::processing;
        }
        else
        {
            kind = HistogramView::Kind::lateness;
            index = pg::StatsReport::lateness;
        }
        histogram.setData (report.histograms[static_cast<size_t> (index)], kind, report.slackSeconds(), empty);
    }

    void PauseGuardEditor::refreshPool()
    {
        const int64_t now = pg::nowNanos();
        const auto trace = pg::trace::Recorder::global().snapshot (now - 2'000'000'000, now); // (a second of context)
        poolView.setTrace (trace, pg::trace::attributeDropouts (trace), pauseGuard.getEngine().getTraceInstance(), now, 1.0);
    }

    bool PauseGuardEditor::writeTrace (const juce::File& file)
    {
        const auto trace = pg::trace::Recorder::global().snapshot();
        return pg::trace::writeChromeJson (file.getFullPathName().toStdString(), trace, pg::trace::attributeDropouts (trace));
    }

    void PauseGuardEditor::launchTraceExport()
    {
        const auto name = "pauseguard-trace-" + juce::Time::getCurrentTime().formatted ("%Y%m%d-%H%M%S") + ".json";
        const auto documents = juce::File::getSpecialLocation (juce::File::userDocumentsDirectory);
        chooser = std::make_unique<juce::FileChooser> ("Export the trace", documents.getChildFile (name), "*.json");
        juce::Component::SafePointer<PauseGuardEditor> safe (this);
        const int mode = juce::FileBrowserComponent::saveMode | juce::FileBrowserComponent::canSelectFiles | juce::FileBrowserComponent::warnAboutOverwriting;
        chooser->launchAsync (mode, [safe] (const juce::FileChooser& fc) {
            const auto file = fc.getResult();
            if (file == juce::File())
                return;
            const bool ok = writeTrace (file);
            if (safe != nullptr)
                safe->showStatus (ok ? "Saved " + file.getFileName() + ": open it in ui.perfetto.dev" : "Could not write " + file.getFullPathName(), ! ok);
        });
    }

    void PauseGuardEditor::selectView (View v)
    {
        view = v;
        auto* tab = v == View::pauses ? &pausesTab : (v == View::processing ? &processingTab : (v == View::lateness ? &latenessTab : &poolTab));
        for (auto* b : { &pausesTab, &processingTab, &latenessTab, &poolTab })
            b->setToggleState (b == tab, juce::dontSendNotification);
        histogram.setVisible (v != View::pool);
        poolView.setVisible (v == View::pool);
        if (v == View::pool)
            refreshPool();
        layoutTexts();
        showStatistics (shown);
        repaint (histogramPanel.toNearestInt());
    }

    juce::Rectangle<int> PauseGuardEditor::getHistogramPlotBounds() const
    {
        const auto origin = histogram.getPosition().toFloat();
        return histogram.getPlotArea().translated (origin.x, origin.y).toNearestInt();
    }

    bool PauseGuardEditor::writeStatistics (const pg::StatsReport& report, const juce::File& file, ExportFormat format)
    {
        const auto text = format == ExportFormat::csv ? pg::statisticsToCsv (report) : pg::statisticsToJson (report);
        return file.replaceWithData (text.data(), text.size());
    }

    void PauseGuardEditor::launchExport (ExportFormat format)
    {
        // The figures at the moment of the click, whatever happens while the chooser is open.
        auto report = pg::captureStatistics (pauseGuard.getEngine());
        report.latencySamples = pauseGuard.getLatencySamples();
        const juce::String extension = format == ExportFormat::csv ? "csv" : "json";
        const auto name = "pauseguard-statistics-" + juce::Time::getCurrentTime().formatted ("%Y%m%d-%H%M%S") + "." + extension;
        const auto documents = juce::File::getSpecialLocation (juce::File::userDocumentsDirectory);
        chooser = std::make_unique<juce::FileChooser> ("Export statistics", documents.getChildFile (name), "*." + extension);
        juce::Component::SafePointer<PauseGuardEditor> safe (this);
        const int chooserFlags = juce::FileBrowserComponent::saveMode | juce::FileBrowserComponent::canSelectFiles | juce::FileBrowserComponent::warnAboutOverwriting;
        chooser->launchAsync (chooserFlags, [safe, report, format] (const juce::FileChooser& fc) {
            const auto file = fc.getResult();
            if (file == juce::File())
                return;
            const bool ok = writeStatistics (report, file, format);
            if (safe != nullptr)
                safe->showStatus (ok ? "Saved " + file.getFileName() : "Could not write " + file.getFullPathName(), ! ok);
        });
    }

    void PauseGuardEditor::showStatus (const juce::String& message, bool isError)
    {
        statusIsError = isError;
        statusUntil = juce::Time::getMillisecondCounterHiRes() + 4000.0;
        status.set (message, font (13.0f), header.withTrimmedLeft (150.0f).withTrimmedRight (608.0f), juce::Justification::centredLeft);
        repaint (header.toNearestInt());
    }

    void PauseGuardEditor::resized()
    {
        auto r = getLocalBounds().reduced (margin);
        auto head = r.removeFromTop (headerHeight);
        header = head.toFloat();
        auto buttons = head.removeFromRight (598).withSizeKeepingCentre (598, 30);
        resetButton.setBounds (buttons.removeFromRight (150));
        buttons.removeFromRight (8);
        exportTrace.setBounds (buttons.removeFromRight (120));
        buttons.removeFromRight (8);
        exportJson.setBounds (buttons.removeFromRight (120));
        buttons.removeFromRight (8);
        exportCsv.setBounds (buttons.removeFromRight (120));
        r.removeFromTop (gap);

        auto side = r.removeFromRight (getWidth() < 1300 ? 340 : 372);
        controlsPanel = side.toFloat();
        r.removeFromRight (gap);
        controlsView.setBounds (side.reduced (1, 6));
        const bool scrolls = controls.getIdealHeight() > controlsView.getHeight();
        const int controlsWidthInside = controlsView.getWidth() - (scrolls ? controlsView.getScrollBarThickness() : 0);
        controls.setSize (controlsWidthInside, controls.getIdealHeight());

        errorBox = {};
        if (scriptError.isNotEmpty())
        {
            errorBox = r.removeFromTop (48).toFloat();
            r.removeFromTop (gap);
        }

        auto top = r.removeFromTop (readoutHeight);
        latency.setBounds (top.removeFromLeft (juce::jlimit (310, 420, top.getWidth() * 2 / 5)));
        top.removeFromLeft (gap);
        counters.setBounds (top);
        r.removeFromTop (gap);

        // The latency history and, at its right, the script with its console.
        auto bottom = r.removeFromBottom (juce::jlimit (170, 240, r.getHeight() * 2 / 5));
        script.setBounds (bottom.removeFromRight (juce::jlimit (330, 420, bottom.getWidth() * 2 / 5)));
        bottom.removeFromRight (gap);
        timeline.setBounds (bottom);
        r.removeFromBottom (gap);

        histogramPanel = r.toFloat();
        auto inner = r.reduced (static_cast<int> (panelPadding));
        auto tabs = inner.removeFromTop (26);
        for (auto* b : { &pausesTab, &processingTab, &latenessTab, &poolTab })
            b->setBounds (tabs.removeFromLeft (b == &poolTab ? 70 : 132));
        inner.removeFromTop (8);
        histogram.setBounds (inner);
        poolView.setBounds (inner);
        layoutTexts();
    }

    void PauseGuardEditor::layoutTexts()
    {
        auto head = header;
        title.set ("PauseGuard", font (24.0f, true), head.removeFromLeft (150.0f), juce::Justification::centredLeft);
        // With no audio device open (the Standalone app), a note in place of the tagline.
        const juce::String tagline = showingNoDevice ? "No audio device is open: a timer plays the demo through the engine, unheard"
                                                     : "garbage-collector pauses, hidden behind the latency the host is told";
        const auto taglineBox = head.withTrimmedRight (608.0f);
        const bool fits = font (14.0f).getStringWidthFloat (tagline) < taglineBox.getWidth();
        subtitle.set (fits ? tagline : juce::String(), font (14.0f), taglineBox, juce::Justification::centredLeft);

        const auto tabsRight = static_cast<float> (poolTab.getRight()) + 14.0f;
        caption.set (captionFor (view), font (12.5f),
                     { tabsRight, histogramPanel.getY() + panelPadding, histogramPanel.getRight() - panelPadding - tabsRight, 26.0f },
                     juce::Justification::centredRight, 2);
        auto banner = errorBox.reduced (14.0f, 6.0f);
        const bool program = pauseGuard.getDspProgram().isNotEmpty();
        errorText.set (scriptError.isEmpty() ? juce::String() : (program ? "DSP program stopped:  " : "Script stopped:  ") + scriptError,
                       font (14.0f, true), banner.removeFromTop (banner.getHeight() * 0.55f), juce::Justification::centredLeft);
        const auto hint = program ? "Meanwhile the output is the delayed dry signal. PauseGuard starts the program again, waiting "
                                    "longer after each failure; its stderr is in the console."
                                  : "Meanwhile the output is the delayed dry signal. Load a script, go back to the built-in one, "
                                    "or save the watched file again.";
        errorHint.set (scriptError.isEmpty() ? juce::String() : juce::String (hint), font (12.5f), banner, juce::Justification::centredLeft);
    }

    void PauseGuardEditor::paint (juce::Graphics& g)
    {
        g.fillAll (colours::background);
        title.draw (g, colours::text);
        if (status.getText().isNotEmpty()) // in place of the tagline, for a few seconds
            status.draw (g, statusIsError ? colours::warn : colours::ok);
        else
            subtitle.draw (g, showingNoDevice ? colours::warn : colours::dim);

        drawPanel (g, histogramPanel);
        caption.draw (g, colours::dim);
        drawPanel (g, controlsPanel);

        if (! errorBox.isEmpty())
        {
            g.setColour (colours::warn.withAlpha (0.18f));
            g.fillRoundedRectangle (errorBox, panelCorner);
            g.setColour (colours::warn);
            g.drawRoundedRectangle (errorBox.reduced (0.5f), panelCorner, 1.5f);
            errorText.draw (g, colours::text);
            errorHint.draw (g, colours::text.withAlpha (0.75f));
        }
    }
} // namespace pauseguard
