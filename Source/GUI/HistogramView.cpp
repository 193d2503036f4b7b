#include "HistogramView.h"

#include "Formatting.h"

#include <cmath>
#include <cstring>

namespace pauseguard
{
    namespace
    {
        using H = pg::DurationHistogram;
        constexpr float legendHeight = 20.0f, tagHeight = 16.0f;
        constexpr float leftMargin = 44.0f, bottomMargin = 36.0f, rightMargin = 8.0f, topGap = 8.0f;

        const juce::Colour markerColours[] = { theme::colours::p50, theme::colours::p99, theme::colours::p999,
                                               theme::colours::max };
        const char* const markerNames[] = { "p50", "p99", "p99.9", "max" };
    } // namespace

    HistogramView::HistogramView()
    {
        setOpaque (true); // repainting it does not repaint the editor behind
        setInterceptsMouseClicks (false, false);
    }

    float HistogramView::xForColumnEdge (double column) const noexcept
    {
        return plot.getX() + static_cast<float> (column / numColumns) * plot.getWidth();
    }

    float HistogramView::xForSeconds (double seconds) const noexcept
    {
        if (! (seconds >= H::minSeconds))
            return xForColumnEdge (0.5);
        if (seconds >= H::maxSeconds)
            return xForColumnEdge (numColumns - 0.5);
        return xForColumnEdge (1.0 + std::log10 (seconds / H::minSeconds) * H::binsPerDecade);
    }

    float HistogramView::yForCount (double count) const noexcept
    {
        const double f = std::log10 (1.0 + count) / std::log10 (1.0 + countTop);
        return plot.getBottom() - static_cast<float> (juce::jlimit (0.0, 1.0, f)) * plot.getHeight();
    }

    void HistogramView::setData (const pg::DurationHistogram::Snapshot& snapshot, Kind newKind, double budgetSeconds,
                                 const juce::String& emptyMessage)
    {
        const bool same = kind == newKind && budget == budgetSeconds && snap.count == snapshot.count && snap.maxSeconds == snapshot.maxSeconds && snap.bins == snapshot.bins && empty == emptyMessage;
        if (same)
            return;
        snap = snapshot;
        kind = newKind;
        budget = budgetSeconds;
        empty = emptyMessage;
        markers = { snap.percentile (0.5), snap.percentile (0.99), snap.percentile (0.999), snap.maxSeconds };
        uint64_t highest = 0;
        for (auto b : snap.bins)
            highest = std::max (highest, b);
        countTop = 10.0;
        while (countTop < static_cast<double> (highest) * 1.5)
            countTop *= 10.0;
        layoutTexts();
        repaint();
    }

    void HistogramView::resized()
    {
        auto r = getLocalBounds().toFloat();
        r.removeFromTop (legendHeight + topGap);
        r.removeFromLeft (leftMargin);
        r.removeFromRight (rightMargin);
        r.removeFromBottom (bottomMargin);
        plot = r;
        layoutTexts();
    }

    void HistogramView::layoutTexts()
    {
        using namespace theme;
        const bool hasData = snap.count > 0;

        // The legend: the count, the percentiles and the maximum, then the budget (or, for
        // lateness, the share of chunks on time).
        const char* what = kind == Kind::pauses ? " collector calls" : " chunks";
        juce::String items[6];
        items[0] = format::count (snap.count) + what;
        for (int m = 0; m < numMarkers; ++m)
            items[m + 1] = juce::String (markerNames[m]) + "  " + (hasData ? format::duration (markers[static_cast<size_t> (m)]) : "-");
        legendColours = { colours::text, colours::p50, colours::p99, colours::p999, colours::max, colours::warn };
        if (kind == Kind::lateness)
        {
            const double onTime = hasData ? 100.0 * static_cast<double> (snap.bins[0]) / static_cast<double> (snap.count) : 100.0;
            items[5] = "on time  " + juce::String (onTime, onTime > 99.0 && onTime < 100.0 ? 2 : 1) + " %";
            legendColours[5] = colours::ok;
        }
        else
        {
            items[5] = budget > 0.0 ? "budget  " + format::duration (budget) : juce::String();
        }

        const auto legendFont = font (13.0f);
        float x = 2.0f;
        for (size_t i = 0; i < legend.size(); ++i)
        {
            const float swatch = i == 0 ? 0.0f : 13.0f;
            const float w = legendFont.getStringWidthFloat (items[i]) + 2.0f;
            legendSwatches[i] = { x, legendHeight * 0.5f - 1.5f, swatch > 0.0f ? 10.0f : 0.0f, 3.0f };
            legend[i].set (items[i], legendFont, { x + swatch, 0.0f, w, legendHeight });
            x += swatch + w + 14.0f;
        }

        // Axis labels: decades of time in ms, powers of ten of counts.
        const auto labelFont = font (11.5f);
        const char* const decades[] = { "0.01", "0.1", "1", "10", "100", "1000 ms" };
        for (int d = 0; d < 6; ++d)
        {
            const float cx = xForColumnEdge (1.0 + d * H::binsPerDecade);
            const float w = d == 5 ? 56.0f : 40.0f;
            const float left = d == 5 ? cx - 24.0f : cx - w * 0.5f;
            xLabels[static_cast<size_t> (d)].set (decades[d], labelFont, { left, plot.getBottom() + 4.0f, w, 14.0f },
                                                  d == 5 ? juce::Justification::centredLeft : juce::Justification::centred);
        }
        const float under = plot.getBottom() + 18.0f;
        xLabels[6].set (juce::String (juce::CharPointer_UTF8 ("<10 \xc2\xb5s")), labelFont, { xForColumnEdge (0.0) - 2.0f, under, 50.0f, 14.0f });
        xLabels[7].set (juce::String (juce::CharPointer_UTF8 ("\xe2\x89\xa5 1 s")), labelFont,
                        { xForColumnEdge (numColumns) - 48.0f, under, 48.0f, 14.0f }, juce::Justification::centredRight);
        xTitle.set (kind == Kind::lateness ? "lateness past the deadline (log)" : "duration (log)", labelFont,
                    { plot.getCentreX() - 120.0f, plot.getBottom() + 18.0f, 240.0f, 14.0f }, juce::Justification::centred);

        numYLabels = 0;
        for (double c = 1.0; c <= countTop && numYLabels < static_cast<int> (yLabels.size()); c *= 10.0)
        {
            const float y = yForCount (c);
            yLabels[static_cast<size_t> (numYLabels++)].set (format::shortCount (c), labelFont,
                                                             { 0.0f, y - 7.0f, leftMargin - 8.0f, 14.0f },
                                                             juce::Justification::centredRight);
        }
        for (int i = numYLabels; i < static_cast<int> (yLabels.size()); ++i)
            yLabels[static_cast<size_t> (i)].set ({}, labelFont, {});

        // Tags at the top of the plot: each marker's name next to its line, in rows so that none overlap.
        const auto tagFont = font (11.5f, true);
        std::array<float, 4> rowEnd {};
        rowEnd.fill (-1.0e9f);
        const auto place = [&] (size_t tag, const juce::String& text, double seconds) {
            if (! hasData && tag < static_cast<size_t> (numMarkers))
            {
                tags[tag].set ({}, tagFont, {});
                return;
            }
            const float lineX = xForSeconds (seconds);
            const float w = tagFont.getStringWidthFloat (text) + 8.0f;
            float left = lineX + 3.0f;
            if (left + w > plot.getRight())
                left = lineX - 3.0f - w;
            size_t row = 0;
            while (row + 1 < rowEnd.size() && left < rowEnd[row] + 4.0f)
                ++row;
            rowEnd[row] = left + w;
            tags[tag].set (text, tagFont, { left, plot.getY() + 4.0f + static_cast<float> (row) * (tagHeight + 2.0f), w, tagHeight },
                           juce::Justification::centred);
        };
        if (budget > 0.0 && kind != Kind::lateness)
            place (numMarkers, "budget", budget);
        else
            tags[numMarkers].set ({}, tagFont, {});
        for (int m = numMarkers - 1; m >= 0; --m)
            place (static_cast<size_t> (m), markerNames[m], markers[static_cast<size_t> (m)]);

        emptyText.set (hasData ? juce::String() : empty, font (14.0f), plot.reduced (40.0f, 20.0f), juce::Justification::centred, 3);
    }

    void HistogramView::paint (juce::Graphics& g)
    {
        using namespace theme;
        g.fillAll (colours::panel);
        if (plot.isEmpty())
            return;
        const bool hasData = snap.count > 0;

        // Legend.
        for (size_t i = 0; i < legend.size(); ++i)
        {
            if (! legendSwatches[i].isEmpty() && legend[i].getText().isNotEmpty())
            {
                g.setColour (legendColours[i]);
                g.fillRect (legendSwatches[i]);
            }
            legend[i].draw (g, i == 0 ? colours::text : colours::text.withAlpha (0.92f));
        }

        // Plot background, the under- and overflow columns, and the zone past the budget.
        g.setColour (colours::background.withAlpha (0.55f));
        g.fillRect (plot);
        g.setColour (colours::raised.withAlpha (0.6f));
        g.fillRect (juce::Rectangle<float>::leftTopRightBottom (xForColumnEdge (0), plot.getY(), xForColumnEdge (1), plot.getBottom()));
        g.fillRect (juce::Rectangle<float>::leftTopRightBottom (xForColumnEdge (numColumns - 1), plot.getY(), xForColumnEdge (numColumns),
                                                                plot.getBottom()));
        const bool showBudget = budget > 0.0 && kind != Kind::lateness;
        if (showBudget)
        {
            g.setColour (colours::warn.withAlpha (0.07f));
            g.fillRect (plot.withLeft (juce::jlimit (plot.getX(), plot.getRight(), xForSeconds (budget))));
        }

        // Grid: decades and their 2..9 multiples in time, powers of ten in count.
        for (int d = 0; d <= H::decades; ++d)
        {
            const float x = xForColumnEdge (1.0 + d * H::binsPerDecade);
            g.setColour (colours::grid.brighter (0.25f));
            g.drawVerticalLine (juce::roundToInt (x), plot.getY(), plot.getBottom());
            if (d == H::decades)
                break;
            g.setColour (colours::grid);
            for (int k = 2; k <= 9; ++k)
                g.drawVerticalLine (juce::roundToInt (xForColumnEdge (1.0 + (d + std::log10 (k)) * H::binsPerDecade)), plot.getY(),
                                    plot.getBottom());
        }
        for (double c = 1.0; c <= countTop; c *= 10.0)
        {
            g.setColour (colours::grid.brighter (0.15f));
            g.drawHorizontalLine (juce::roundToInt (yForCount (c)), plot.getX(), plot.getRight());
        }

        // Bars.
        const float columnWidth = plot.getWidth() / numColumns;
        const float gap = columnWidth > 6.0f ? 1.5f : 0.5f;
        for (int b = 0; b < numColumns; ++b)
        {
            const auto n = snap.bins[static_cast<size_t> (b)];
            if (n == 0)
                continue;
            const float top = yForCount (static_cast<double> (n));
            const auto bar = juce::Rectangle<float>::leftTopRightBottom (xForColumnEdge (b) + gap * 0.5f, top,
                                                                         xForColumnEdge (b + 1) - gap * 0.5f, plot.getBottom());
            juce::Colour c = colours::accent;
            if (kind == Kind::lateness)
                c = b == 0 ? colours::ok : colours::warn;
            else if (showBudget && H::binUpperEdge (b) > budget)
                c = colours::warn;
            g.setColour (c.withAlpha (0.78f));
            g.fillRect (bar);
            g.setColour (c);
            g.fillRect (bar.withHeight (2.0f));
        }

        // Percentile markers and the budget line.
        if (hasData)
        {
            for (int m = 0; m < numMarkers; ++m)
            {
                g.setColour (markerColours[m].withAlpha (0.9f));
                g.drawVerticalLine (juce::roundToInt (xForSeconds (markers[static_cast<size_t> (m)])), plot.getY(), plot.getBottom());
            }
        }
        if (showBudget)
        {
            const float x = xForSeconds (budget);
            g.setColour (colours::warn);
            for (float y = plot.getY(); y < plot.getBottom(); y += 10.0f)
                g.fillRect (x - 1.0f, y, 2.0f, std::min (6.0f, plot.getBottom() - y));
        }
        for (size_t t = 0; t < tags.size(); ++t)
        {
            if (tags[t].getText().isEmpty())
                continue;
            const auto colour = t < static_cast<size_t> (numMarkers) ? markerColours[t] : colours::warn;
            const auto box = tags[t].getGlyphs().getBoundingBox (0, -1, true).expanded (4.0f, 2.0f);
            g.setColour (colours::panel.withAlpha (0.9f));
            g.fillRect (box);
            tags[t].draw (g, colour);
        }

        // Axes.
        g.setColour (colours::faint);
        g.drawHorizontalLine (juce::roundToInt (plot.getBottom()), plot.getX(), plot.getRight());
        for (auto& label : xLabels)
            label.draw (g, colours::dim);
        for (int i = 0; i < numYLabels; ++i)
            yLabels[static_cast<size_t> (i)].draw (g, colours::dim);
        xTitle.draw (g, colours::faint.brighter (0.3f));
        emptyText.draw (g, colours::dim);
    }
} // namespace pauseguard
