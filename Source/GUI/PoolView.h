#pragma once

#include "Theme.h"
#include "Trace/DropoutCauses.h"

#include <map>
#include <vector>

namespace pauseguard
{
    // The shared pool's last second, from the engine's trace: a lane per pool thread, each chunk a
    // bar coloured by its instance (this one's stands out), each nap a thin line, and each dropout
    // of any instance a red mark named by its cause.
    class PoolView final : public juce::Component
    {
    public:
        PoolView();

        // Message thread: the trace's last `seconds` up to `now` (the engine's clock), with this
        // editor's own instance.
        void setTrace (const pg::trace::Snapshot& trace, const std::vector<pg::trace::DropoutCause>& dropouts, int ownInstance,
                       int64_t now, double seconds);

        void paint (juce::Graphics&) override;
        void resized() override;

        static juce::Colour colourFor (int instance, bool own);
        int getNumLanes() const noexcept { return static_cast<int> (lanes.size()); }
        int getNumChunksShown() const noexcept { return chunksShown; }

    private:
        struct Lane
        {
            int index;
            juce::String name;
        };
        float xFor (int64_t t) const noexcept;

        std::vector<Lane> lanes; // a row each
        std::map<int, int> rowOfLane; // the trace's lane -> its row
        std::vector<pg::trace::Event> events;
        std::vector<pg::trace::DropoutCause> marks;
        int own = -1, chunksShown = 0;
        int64_t from = 0, to = 1;
        juce::Rectangle<float> plot;
        theme::TextBlock emptyText, axisStart, axisEnd;
    };
} // namespace pauseguard
