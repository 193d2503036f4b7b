#include "LatencyTimeline.h"

#include <cmath>
#include <iterator>

namespace pauseguard
{
    namespace
    {
        constexpr float leftMargin = 46.0f, bottomMargin = 18.0f, listWidth = 300.0f;
        constexpr LatencyChange::Reason reasons[] = { LatencyChange::Reason::prepare, LatencyChange::Reason::parameter,
                                                      LatencyChange::Reason::strategySwitch, LatencyChange::Reason::adaptiveGrowth,
                                                      LatencyChange::Reason::adaptiveShrink, LatencyChange::Reason::profile,
                                                      LatencyChange::Reason::blockSize, LatencyChange::Reason::measured };
        static_assert (std::size (reasons) == LatencyChange::numReasons, "every reason has a colour and a legend entry");

        // 1, 2 or 5 times a power of ten, so that `span` holds at most `maxTicks` steps.
        double niceStep (double span, int maxTicks)
        {
            const double raw = span / maxTicks;
            const double p = std::pow (10.0, std::floor (std::log10 (raw)));
            for (double m : { 1.0, 2.0, 5.0, 10.0 })
                if (m * p >= raw)
                    return m * p;
            return 10.0 * p;
        }

        juce::String timeLabel (double seconds)
        {
            if (seconds >= 120.0 && std::fmod (seconds, 60.0) == 0.0)
                return juce::String (juce::roundToInt (seconds / 60.0)) + " min";
            return juce::String (juce::roundToInt (seconds)) + " s";
        }
    } // namespace

    LatencyTimeline::LatencyTimeline()
    {
        history.reserve (512);
        for (auto& d : dots)
            d.preallocateSpace (520 * 30);
        halos.preallocateSpace (520 * 30);
        setOpaque (true);
        setInterceptsMouseClicks (false, false);
    }

    juce::Colour LatencyTimeline::colourFor (LatencyChange::Reason reason)
    {
        switch (reason)
        {
            case LatencyChange::Reason::prepare:
                return juce::Colour (0xffb8c2cf);
            case LatencyChange::Reason::parameter:
                return theme::colours::accent;
            case LatencyChange::Reason::strategySwitch:
                return juce::Colour (0xffb39ddb);
            case LatencyChange::Reason::adaptiveGrowth:
                return theme::colours::p999;
            case LatencyChange::Reason::adaptiveShrink:
                return theme::colours::ok;
            case LatencyChange::Reason::profile:
                return juce::Colour (0xff80cbc4);
            case LatencyChange::Reason::blockSize:
                return juce::Colour (0xffffb74d);
            case LatencyChange::Reason::measured:
                return juce::Colour (0xfff48fb1);
        }
        return theme::colours::text;
    }

    void LatencyTimeline::setHistory (const std::vector<LatencyChange>& changes, double newNow, double sampleRate)
    {
        const bool sameHistory = changes.size() == history.size() && (changes.empty() || (changes.back().seconds == history.back().seconds && changes.front().seconds == history.front().seconds));
        if (sameHistory && std::abs (newNow - now) < 0.05 && sampleRate == rate)
            return;
        if (! sameHistory)
            history.assign (changes.begin(), changes.end());
        now = newNow;
        rate = sampleRate > 0.0 ? sampleRate : 48000.0;
        layout();
        repaint();
    }

    void LatencyTimeline::resized() { layout(); }

    float LatencyTimeline::xFor (double seconds) const noexcept
    {
        return plot.getX() + static_cast<float> ((seconds - start) / (end - start)) * plot.getWidth();
    }

    float LatencyTimeline::yFor (double ms) const noexcept
    {
        return plot.getBottom() - static_cast<float> (ms / topMs) * plot.getHeight();
    }

    void LatencyTimeline::layout()
    {
        using namespace theme;
        const auto bounds = getLocalBounds().toFloat();
        auto titleRow = panelTitleBox (bounds);
        auto r = panelContent (bounds);
        list = r.removeFromRight (std::min (listWidth, r.getWidth() * 0.4f));
        r.removeFromRight (16.0f);
        r.removeFromLeft (leftMargin);
        r.removeFromBottom (bottomMargin);
        plot = r;

        // The title, and the legend of reasons at the right of the title row.
        panel.set (bounds);
        title.set ("LATENCY HISTORY", titleFont(), titleRow);
        const auto small = font (11.5f);
        float lx = titleRow.getRight();
        for (int i = numReasons - 1; i >= 0; --i)
        {
            const juce::String name = LatencyChange::describe (reasons[i]);
            const float w = small.getStringWidthFloat (name) + 2.0f;
            lx -= w;
            legend[static_cast<size_t> (i)].set (name, small, { lx, titleRow.getY(), w, titleRow.getHeight() });
            lx -= 12.0f;
            legendDots[static_cast<size_t> (i)] = { lx, titleRow.getCentreY() - 4.0f, 8.0f, 8.0f };
            lx -= 16.0f;
        }
        // Too narrow for the legend beside the title: the list below names each change's reason in its colour.
        if (lx < titleRow.getX() + titleFont().getStringWidthFloat ("LATENCY HISTORY") + 12.0f)
            for (int i = 0; i < numReasons; ++i)
            {
                legend[static_cast<size_t> (i)].set ({}, small, {});
                legendDots[static_cast<size_t> (i)] = {};
            }

        // Ranges: the whole session on the time axis, 0 to a little above the highest latency.
        start = 0.0;
        end = std::max ({ now, history.empty() ? 0.0 : history.back().seconds, 5.0 });
        double highest = 0.0;
        for (const auto& c : history)
            highest = std::max (highest, 1000.0 * c.samples / rate);
        const double yStep = niceStep (std::max (highest * 1.15, 5.0), 4);
        topMs = yStep * std::ceil (std::max (highest * 1.15, 5.0) / yStep);

        numYLabels = 0;
        for (double v = 0.0; v <= topMs + 1e-9 && numYLabels < static_cast<int> (yLabels.size()); v += yStep)
        {
            const auto i = static_cast<size_t> (numYLabels++);
            yTicks[i] = yFor (v);
            yLabels[i].set (juce::String (juce::roundToInt (v)) + " ms", small,
                            { plot.getX() - leftMargin, yTicks[i] - 7.0f, leftMargin - 6.0f, 14.0f },
                            juce::Justification::centredRight);
        }
        const double xStep = niceStep (end - start, 7);
        numXLabels = 0;
        for (double t = 0.0; t <= end + 1e-9 && numXLabels < static_cast<int> (xLabels.size()); t += xStep)
            xLabels[static_cast<size_t> (numXLabels++)].set (timeLabel (t), small,
                                                             { xFor (t) - 30.0f, plot.getBottom() + 3.0f, 60.0f, 14.0f },
                                                             juce::Justification::centred);

        // Dots: at each change, in the legend and in the list.
        for (auto& d : dots)
            d.clear();
        halos.clear();
        for (const auto& c : history)
        {
            const float x = xFor (c.seconds), y = yFor (1000.0 * c.samples / rate);
            halos.addEllipse (x - 5.5f, y - 5.5f, 11.0f, 11.0f);
            dots[static_cast<size_t> (c.reason)].addEllipse (x - 4.0f, y - 4.0f, 8.0f, 8.0f);
        }
        for (int i = 0; i < numReasons; ++i)
            if (! legendDots[static_cast<size_t> (i)].isEmpty())
                dots[static_cast<size_t> (reasons[i])].addEllipse (legendDots[static_cast<size_t> (i)]);

        // The latest changes, newest first.
        const auto rowFont = font (13.0f);
        auto l = list;
        listTitle.set ("latest changes, newest first", small, l.removeFromTop (16.0f));
        l.removeFromTop (2.0f);
        const float rowHeight = std::min (20.0f, l.getHeight() / static_cast<float> (listRows));
        for (size_t k = 0; k < listRows; ++k)
        {
            auto row = l.removeFromTop (rowHeight);
            if (k < history.size())
            {
                const auto& c = history[history.size() - 1 - k];
                dots[static_cast<size_t> (c.reason)].addEllipse (row.getX() + 1.0f, row.getCentreY() - 4.0f, 8.0f, 8.0f);
                // A narrow list leaves out the samples (the plot's axis is in ms too).
                const bool wide = list.getWidth() >= 260.0f;
                rows[k].set (juce::String (c.seconds, 1) + (wide ? " s    " + juce::String (c.samples) + " smp  " : juce::String (" s   ")) + juce::String (1000.0 * c.samples / rate, 1) + (wide ? " ms    " : " ms   ") + LatencyChange::describe (c.reason),
                             rowFont, row.withTrimmedLeft (14.0f));
            }
            else
            {
                rows[k].set ({}, rowFont, {});
            }
        }
        emptyText.set (history.empty() ? "No latency reported yet: the host has not prepared the plug-in." : "", font (13.0f), plot,
                       juce::Justification::centred, 2);
    }

    void LatencyTimeline::paint (juce::Graphics& g)
    {
        using namespace theme;
        g.fillAll (colours::background);
        panel.draw (g, colours::panel, colours::outline);
        title.draw (g, colours::dim);
        if (plot.isEmpty())
            return;

        g.setColour (colours::background.withAlpha (0.55f));
        g.fillRect (plot);
        g.setColour (colours::grid.brighter (0.15f));
        for (int i = 0; i < numYLabels; ++i)
            g.drawHorizontalLine (juce::roundToInt (yTicks[static_cast<size_t> (i)]), plot.getX(), plot.getRight());
        for (int i = 0; i < numYLabels; ++i)
            yLabels[static_cast<size_t> (i)].draw (g, colours::dim);
        for (int i = 0; i < numXLabels; ++i)
            xLabels[static_cast<size_t> (i)].draw (g, colours::dim);

        // The step line: each latency holds until the next change, the last one until now.
        g.setColour (colours::text.withAlpha (0.85f));
        for (size_t i = 0; i < history.size(); ++i)
        {
            const float x0 = xFor (history[i].seconds), y0 = yFor (1000.0 * history[i].samples / rate);
            const bool last = i + 1 == history.size();
            const float x1 = last ? xFor (end) : xFor (history[i + 1].seconds);
            g.fillRect (x0, y0 - 1.0f, std::max (0.0f, x1 - x0), 2.0f);
            if (! last)
            {
                const float y1 = yFor (1000.0 * history[i + 1].samples / rate);
                g.fillRect (x1 - 1.0f, std::min (y0, y1) - 1.0f, 2.0f, std::abs (y1 - y0) + 2.0f);
            }
        }
        g.setColour (colours::panel);
        g.fillPath (halos);
        for (int i = 0; i < numReasons; ++i)
        {
            g.setColour (colourFor (reasons[i]));
            g.fillPath (dots[static_cast<size_t> (reasons[i])]);
            legend[static_cast<size_t> (i)].draw (g, colours::dim);
        }

        listTitle.draw (g, colours::dim);
        for (size_t k = 0; k < listRows; ++k)
            rows[k].draw (g, k == 0 ? colours::text : colours::text.withAlpha (0.75f));
        emptyText.draw (g, colours::dim);
    }
} // namespace pauseguard
