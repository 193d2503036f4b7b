#pragma once

// Whether the host is rendering rather than playing, from the pace of its calls: a host that
// renders calls again as soon as a block returns; one that plays waits for its device. No JUCE.
//
// Over the last blocks (up to `window`, covering at least the block the host announced: a host
// that splits its period into several calls waits between periods), the host is rendering while
// the time it spends outside processBlock is under a quarter of the audio's own duration (it
// calls at least four times faster than real time), and playing again once that time reaches
// half of it and still does without its longest single wait (over at least minWaitsToPlay
// waits): a host that
// plays waits for every period, and one wait is a stall of a rendering host's thread (Audacity's
// took 89 ms between two 8192-frame blocks beside two compilers). A block longer than
// maxRealtimeBlock is a render by itself, and so is a host that announced such blocks, until its
// pace says it plays: no real-time host sends them.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace pg
{
    class RenderPace
    {
    public:
        static constexpr int window = 16;
        static constexpr int minWaitsToPlay = 3;
        static_assert ((window & (window - 1)) == 0);

        // Control thread (prepare): forgets every block.
        void reset (double sampleRate, int maxRealtimeBlockIn, int announcedBlock) noexcept
        {
            nanosPerFrame = 1.0e9 / (sampleRate > 0.0 ? sampleRate : 48000.0);
            maxRealtimeBlock = maxRealtimeBlockIn;
            rendering = announcedBlock > maxRealtimeBlock;
            framesToDecide = std::clamp (announcedBlock, 1, maxRealtimeBlock);
            count = next = 0;
            outside = framesSeen = 0;
            lastExit = -1;
            decided = rendering;
        }

        // Audio thread, wait-free: a call for `frames` began at `entryNanos`. Returns whether the
        // host is rendering.
        bool onBlockStart (int64_t entryNanos, int frames) noexcept
        {
            if (frames > maxRealtimeBlock)
            {
                decided = true;
                return rendering = true;
            }
            if (lastExit < 0)
                return rendering; // the first call: no pace yet
            // The window's sums, kept as blocks come and go (whole nanoseconds: no drift).
            auto& slot = blocks[static_cast<std::size_t> (next)];
            if (count == window)
            {
                outside -= slot.outsideNanos;
                framesSeen -= slot.frames;
            }
            else
                ++count;
            slot = { entryNanos - lastExit, frames };
            outside += slot.outsideNanos;
            framesSeen += slot.frames;
            next = (next + 1) & (window - 1); // (window is a power of two)
            if (framesSeen >= framesToDecide)
            {
                const double audio = static_cast<double> (framesSeen) * nanosPerFrame;
                const auto away = static_cast<double> (outside);
                rendering = rendering ? ! (away >= 0.5 * audio && playsWithoutLongestWait (away, audio)) : away < 0.25 * audio;
                decided = true;
            }
            return rendering;
        }

        // Audio thread, wait-free: the call returned at `exitNanos`.
        void onBlockEnd (int64_t exitNanos) noexcept { lastExit = exitNanos; }

        bool isRendering() const noexcept { return rendering; }
        // Whether the verdict comes from the pace (or the blocks' size), not only from prepare.
        bool hasDecided() const noexcept { return decided; }

    private:
        // Leaving a render, once the whole window's waits reach half the audio's duration: they
        // still do without the longest wait and its block, over at least minWaitsToPlay waits.
        bool playsWithoutLongestWait (double away, double audio) const noexcept
        {
            if (count < minWaitsToPlay)
                return false;
            const Block* longest = &blocks[0];
            for (int i = 1; i < count; ++i)
                if (blocks[static_cast<std::size_t> (i)].outsideNanos > longest->outsideNanos)
                    longest = &blocks[static_cast<std::size_t> (i)];
            return away - static_cast<double> (longest->outsideNanos) >= 0.5 * (audio - static_cast<double> (longest->frames) * nanosPerFrame);
        }

        struct Block
        {
            int64_t outsideNanos = 0; // from the previous call's return to this call
            int frames = 0;
        };
        std::array<Block, window> blocks {};
        int64_t outside = 0, framesSeen = 0; // over the window's blocks
        double nanosPerFrame = 1.0e9 / 48000.0;
        int maxRealtimeBlock = 8192, framesToDecide = 1;
        int count = 0, next = 0;
        int64_t lastExit = -1;
        bool rendering = false, decided = false;
    };
} // namespace pg
