#pragma once

#include "ControlPanel.h"
#include "HistogramView.h"
#include "LatencyTimeline.h"
#include "PoolView.h"
#include "PluginProcessor.h"
#include "Readouts.h"
#include "ScriptPanel.h"
#include "StatsExport.h"
#include "Theme.h"

#include <juce_gui_basics/juce_gui_basics.h>

namespace pauseguard
{
    // The lab: the collector's pauses against the latency budget, the latency reported to the host
    // and its history, the engine's counters, every parameter, the statistics' export, and the
    // script: which one runs, its console and its macros (a .lua file dropped on the editor loads it).
    // Everything runs on the message thread; the engine is only read through lock-free snapshots
    // (and, a few times a second, the running script's name and macros, under the engine's
    // control-thread lock).
    class PauseGuardEditor final : public juce::AudioProcessorEditor, public juce::FileDragAndDropTarget, private juce::Timer
    {
    public:
        enum class View
        {
            pauses,
            processing,
            lateness,
            pool // the shared pool's last second, from the trace
        };
        enum class ExportFormat
        {
            csv,
            json
        };

        explicit PauseGuardEditor (PauseGuardProcessor&);
        ~PauseGuardEditor() override;

        void paint (juce::Graphics&) override;
        void resized() override;

        // Message thread: reads the processor's statistics and latency history (the timer calls it
        // at 30 Hz) and shows them.
        void refresh();
        // Message thread: shows these statistics (refresh() passes the engine's; a test its own).
        void showStatistics (const pg::StatsReport& report);
        void selectView (View v);
        const pg::StatsReport& getShownStatistics() const noexcept { return shown; }

        // Any thread: writes a report to a file as CSV or JSON. Returns false if it could not.
        static bool writeStatistics (const pg::StatsReport& report, const juce::File& file, ExportFormat format);

        juce::String getLatencyText() const { return latency.getLatencyText(); }
        // The histogram's plot area, in the editor's coordinates.
        juce::Rectangle<int> getHistogramPlotBounds() const;
        const HistogramView& getHistogramView() const noexcept { return histogram; }
        const PoolView& getPoolView() const noexcept { return poolView; }
        // Message thread: the trace's last seconds as Chrome trace-event JSON (Perfetto). False if
        // it could not be written.
        static bool writeTrace (const juce::File& file);
        bool isDropoutHighlighted() const noexcept { return counters.isDropoutHighlighted(); }
        juce::String getDropoutNote() const { return counters.getDropoutNote(); }
        int getNumParameterControls() const noexcept { return controls.getNumControls(); }
        const ControlPanel& getControlPanel() const noexcept { return controls; }
        const ScriptPanel& getScriptPanel() const noexcept { return script; }
        // The note that no audio device is open (the Standalone app driven by its timer).
        bool isShowingNoDeviceNote() const noexcept { return showingNoDevice; }
        // The banner shown while the script is stopped by an error (empty when none), and its bounds.
        juce::String getScriptErrorText() const { return errorText.getText(); }
        juce::Rectangle<int> getErrorBannerBounds() const { return errorBox.toNearestInt(); }

        // A .lua file dropped on the editor is loaded (and watched), as "Load script…" does.
        bool isInterestedInFileDrag (const juce::StringArray& files) override;
        void filesDropped (const juce::StringArray& files, int x, int y) override;
        void fileDragEnter (const juce::StringArray&, int, int) override { script.setDropHighlight (true); }
        void fileDragExit (const juce::StringArray&) override { script.setDropHighlight (false); }

    private:
        void timerCallback() override { refresh(); }
        void launchExport (ExportFormat format);
        void launchTraceExport();
        void refreshPool();
        void launchScriptChooser();
        void loadScript (const juce::File& file);
        // The running script's name, macros and watched file, and the console.
        void refreshScript (bool force);
        void showStatus (const juce::String& message, bool isError = false);
        void layoutTexts();

        theme::LookAndFeel lookAndFeel; // first: it outlives every child
        PauseGuardProcessor& pauseGuard; // the AudioProcessorEditor base calls it processor, as a plain AudioProcessor

        LatencyReadout latency;
        CounterTiles counters;
        HistogramView histogram;
        PoolView poolView;
        LatencyTimeline timeline;
        ControlPanel controls;
        juce::Viewport controlsView;
        ScriptPanel script;
        juce::TextButton pausesTab { "Collector pauses" }, processingTab { "Processing time" }, latenessTab { "Lateness" }, poolTab { "Pool" };
        juce::TextButton exportCsv { "Export CSV" }, exportJson { "Export JSON" }, exportTrace { "Export trace" },
            resetButton { "Reset statistics" };
        juce::TooltipWindow tooltips { this, 500 };
        std::unique_ptr<juce::FileChooser> chooser, scriptChooser;

        pg::StatsReport shown;
        View view = View::pauses;
        juce::String scriptError;
        bool showingNoDevice = false; // the processor is driven by its timer: no audio device is open
        int askedSessionProgram = 0; // the restored session the user was asked about (its serial)
        double statusUntil = 0.0;
        bool statusIsError = false;
        int ticks = 0, historyLatency = -1, scriptTicks = 0;

        juce::Rectangle<float> header, histogramPanel, controlsPanel, errorBox;
        theme::TextBlock title, subtitle, status, caption, errorText, errorHint;

        JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR (PauseGuardEditor)
    };
} // namespace pauseguard
