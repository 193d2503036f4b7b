#pragma once

#include "LatencyEngine.h"
#include "Theme.h"

#include <array>

namespace pauseguard
{
    // The latency reported to the host, large, in samples and ms, with the pause budget it leaves.
    class LatencyReadout final : public juce::Component
    {
    public:
        struct Figures
        {
            int samples = 0;
            double sampleRate = 48000.0;
            int blockSize = 0;
            bool dynamic = false, autoLatency = false;
            int wantedDynamic = 0;
            juce::String note; // the processor's latency note (a raised latency, a change waiting for a stop)
            bool operator== (const Figures&) const = default;
        };

        LatencyReadout();
        // Message thread. Lays out and repaints only if a figure changed.
        void setFigures (const Figures& f);
        juce::String getLatencyText() const { return number.getText() + " samples"; }

        void paint (juce::Graphics&) override;
        void resized() override;

    private:
        void layout();

        Figures figures;
        theme::PanelShape panel;
        theme::TextBlock title, number, unit, ms, budget, mode, note;
    };

    // Counters as tiles: collections, collector time, dropouts (highlighted when not zero), heap,
    // worker load.
    class CounterTiles final : public juce::Component
    {
    public:
        CounterTiles();
        // Message thread. Lays out and repaints only if a shown figure changed.
        void setCounters (const pg::EngineCounters& counters, double sampleRate, bool dynamic);
        bool isDropoutHighlighted() const noexcept { return dropouts > 0; }
        juce::String getDropoutNote() const { return subs[dropoutTile]; }

        void paint (juce::Graphics&) override;
        void resized() override;

    private:
        static constexpr size_t numTiles = 6;
        enum Tile
        {
            fullTile,
            stepsTile,
            collectorTile,
            dropoutTile,
            heapTile,
            loadTile
        };
        struct TileText
        {
            theme::TextBlock title, value, sub;
            juce::Rectangle<float> box;
            theme::PanelShape shape, alarmShape; // the alarm's outline is thicker
        };

        void layout();

        struct Shown // what the tiles show: formatted again only when it changes
        {
            uint64_t full = 0, forced = 0, steps = 0, frames = 0, dropoutEvents = 0, dropoutFrames = 0, heap = 0;
            double collector = 0.0, load = 0.0, rate = 0.0;
            bool dynamic = false, valid = false;
            bool runtime = false; // a DSP program's runtime reports its own figures
            uint64_t runtimeCycles = 0;
            double runtimePauseMax = 0.0;
            uint64_t warmUpDry = 0; // frames passed on dry while the script warmed up
            bool operator== (const Shown&) const = default;
        };

        std::array<juce::String, numTiles> values, subs;
        std::array<TileText, numTiles> tiles;
        Shown shown;
        uint64_t dropouts = 0;
        double load = 0.0;
    };
} // namespace pauseguard
