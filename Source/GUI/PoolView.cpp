#include "PoolView.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace pauseguard
{
    using namespace theme;

    PoolView::PoolView() { setOpaque (false); }

    juce::Colour PoolView::colourFor (int instance, bool isOwn)
    {
        if (isOwn)
            return colours::accent;
        const double hue = std::fmod (0.12 + 0.618034 * instance, 1.0); // the golden ratio spreads any number
        return juce::Colour::fromHSV (static_cast<float> (hue), 0.45f, 0.72f, 1.0f);
    }

    void PoolView::setTrace (const pg::trace::Snapshot& trace, const std::vector<pg::trace::DropoutCause>& dropouts, int ownInstance,
                             int64_t now, double seconds)
    {
        own = ownInstance;
        to = now;
        from = now - static_cast<int64_t> (seconds * 1.0e9);
        std::map<int, juce::String> pool; // the pool threads' lanes, by the trace's lane index
        events.clear();
        for (const auto& e : trace.events)
            if (e.kind == pg::trace::Kind::chunk || e.kind == pg::trace::Kind::nap)
            {
                events.push_back (e);
                pool[e.lane] = {};
            }
        for (const auto& lane : trace.lanes)
            if (pool.count (lane.index) != 0)
                pool[lane.index] = lane.name;
        // One row per thread name: a pool made again (after every instance was gone) takes the rows
        // of the one before.
        lanes.clear();
        rowOfLane.clear();
        for (const auto& [index, name] : pool)
        {
            auto it = std::find_if (lanes.begin(), lanes.end(), [&name = name] (const Lane& l) { return l.name == name; });
            if (it == lanes.end())
                it = lanes.insert (lanes.end(), { index, name });
        }
        std::sort (lanes.begin(), lanes.end(), [] (const Lane& a, const Lane& b) { return a.name < b.name; });
        for (const auto& [index, name] : pool)
            for (size_t row = 0; row < lanes.size(); ++row)
                if (lanes[row].name == name)
                    rowOfLane[index] = static_cast<int> (row);
        marks.clear();
        for (const auto& d : dropouts)
            if (d.dropout.start >= from)
                marks.push_back (d);
        chunksShown = static_cast<int> (std::count_if (events.begin(), events.end(), [] (const auto& e) { return e.kind == pg::trace::Kind::chunk; }));
        emptyText.set (lanes.empty() ? "No pool activity traced in the last second: nothing plays, or tracing is off." : "", font (13.0f),
                       plot, juce::Justification::centred);
        repaint();
    }

    float PoolView::xFor (int64_t t) const noexcept
    {
        const double f = static_cast<double> (t - from) / static_cast<double> (std::max<int64_t> (1, to - from));
        return plot.getX() + static_cast<float> (std::clamp (f, 0.0, 1.0)) * plot.getWidth();
    }

    void PoolView::resized()
    {
        plot = getLocalBounds().toFloat().withTrimmedLeft (96.0f).withTrimmedBottom (18.0f);
        const auto axis = plot.withY (plot.getBottom() + 2.0f).withHeight (16.0f);
        axisStart.set ("1 s ago", font (11.0f), axis, juce::Justification::centredLeft);
        axisEnd.set ("now", font (11.0f), axis, juce::Justification::centredRight);
    }

    void PoolView::paint (juce::Graphics& g)
    {
        if (lanes.empty())
        {
            emptyText.draw (g, colours::dim);
            return;
        }
        const float laneHeight = plot.getHeight() / static_cast<float> (lanes.size());
        for (size_t i = 0; i < lanes.size(); ++i)
        {
            const float y = plot.getY() + laneHeight * static_cast<float> (i);
            g.setColour (colours::raised);
            g.fillRect (plot.getX(), y + 3.0f, plot.getWidth(), laneHeight - 6.0f);
            g.setColour (colours::dim);
            g.setFont (font (12.0f));
            g.drawText (lanes[i].name, juce::Rectangle<float> (plot.getX() - 90.0f, y, 86.0f, laneHeight), juce::Justification::centredRight);
        }
        for (const auto& e : events)
        {
            const float y = plot.getY() + laneHeight * static_cast<float> (rowOfLane[e.lane]);
            const float x0 = xFor (e.start), x1 = std::max (x0 + 1.0f, xFor (e.end));
            if (e.kind == pg::trace::Kind::nap)
            {
                g.setColour (colours::faint);
                g.fillRect (x0, y + laneHeight * 0.5f - 0.5f, x1 - x0, 1.0f);
                continue;
            }
            g.setColour (colourFor (e.instance, e.instance == own).withAlpha (e.collectorNanos > 0 ? 1.0f : 0.8f));
            g.fillRect (x0, y + 6.0f, x1 - x0, laneHeight - 12.0f);
        }
        g.setFont (font (11.0f));
        for (const auto& d : marks)
        {
            const float x = xFor (d.dropout.start);
            g.setColour (colours::warn);
            g.fillRect (x - 1.0f, plot.getY(), 2.0f, plot.getHeight());
            const bool left = x + 124.0f > plot.getRight(); // (near "now": the name goes on the mark's left)
            g.drawText (juce::String (std::string (pg::trace::causeName (d.cause))),
                        juce::Rectangle<float> (left ? x - 123.0f : x + 3.0f, plot.getY(), 120.0f, 14.0f),
                        left ? juce::Justification::centredRight : juce::Justification::centredLeft);
        }
        axisStart.draw (g, colours::faint);
        axisEnd.draw (g, colours::faint);
    }
} // namespace pauseguard
