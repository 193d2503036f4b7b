#include "LatencyCrossfade.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

namespace
{
    constexpr double twoPi = 6.283185307179586;

    struct FadeRun
    {
        float worstStep = 0.0f; // the output's largest step from the fade's start on
        float signalStep = 0.0f; // the largest step either side makes (the signal's own)
        int fadeLength = 0; // frames until the fade ended
        size_t exactAfterFade = 0; // frames after the fade that equal the new side exactly
        size_t framesAfterFade = 0;
    };

    // Plays `from` until `changeAt`, then fades to `to`, in blocks of `block` frames, on
    // `channels` channels (channel c is side * (1 + c)).
    FadeRun runFade (const std::vector<float>& from, const std::vector<float>& to, size_t changeAt, int block,
                     int channels = 1)
    {
        pg::LatencyCrossfade fade;
        fade.prepare (48000.0, 0.005, 0.050);
        std::vector<std::vector<float>> a (static_cast<size_t> (channels),
                                           std::vector<float> (static_cast<size_t> (block)));
        auto b = a;
        std::vector<float> out;
        FadeRun r;
        bool ended = false;
        for (size_t pos = 0; pos + static_cast<size_t> (block) <= from.size(); pos += static_cast<size_t> (block))
        {
            if (pos == changeAt)
                fade.start();
            const auto& side = pos >= changeAt ? to : from;
            const float* fromPtrs[pg::LatencyCrossfade::maxChannels] {};
            float* toPtrs[pg::LatencyCrossfade::maxChannels] {};
            for (int c = 0; c < channels; ++c)
            {
                const auto uc = static_cast<size_t> (c);
                for (int i = 0; i < block; ++i)
                {
                    a[uc][static_cast<size_t> (i)] =
                        from[pos + static_cast<size_t> (i)] * static_cast<float> (1 + c);
                    b[uc][static_cast<size_t> (i)] =
                        side[pos + static_cast<size_t> (i)] * static_cast<float> (1 + c);
                }
                fromPtrs[c] = a[uc].data();
                toPtrs[c] = b[uc].data();
            }
            const bool wasActive = fade.isActive();
            fade.process (fromPtrs, toPtrs, channels, block);
            for (int i = 0; i < block; ++i)
                out.push_back (b[0][static_cast<size_t> (i)]);
            if (pos >= changeAt && wasActive && ! fade.isActive() && ! ended)
            {
                ended = true;
                r.fadeLength = static_cast<int> (pos + static_cast<size_t> (block) - changeAt); // block-rounded
            }
            if (channels > 1)
                for (int i = 0; i < block; ++i)
                    REQUIRE (b[1][static_cast<size_t> (i)] ==
                             Approx (2.0f * b[0][static_cast<size_t> (i)]).margin (1.0e-5));
        }
        for (size_t n = 1; n < from.size(); ++n)
            r.signalStep =
                std::max ({ r.signalStep, std::abs (from[n] - from[n - 1]), std::abs (to[n] - to[n - 1]) });
        for (size_t n = changeAt; n < out.size(); ++n)
            r.worstStep = std::max (r.worstStep, std::abs (out[n] - out[n - 1]));
        for (size_t n = changeAt + static_cast<size_t> (r.fadeLength); ended && n < out.size(); ++n)
        {
            ++r.framesAfterFade;
            r.exactAfterFade += out[n] == to[n] ? 1u : 0u;
        }
        return r;
    }

    std::vector<float> sine (double hz, double amplitude, int delay, size_t frames)
    {
        std::vector<float> s (frames);
        for (size_t n = 0; n < frames; ++n)
            s[n] = static_cast<float> (amplitude *
                                       std::sin (twoPi * hz * (static_cast<double> (n) - delay) / 48000.0));
        return s;
    }

    // The step a plain linear fade of `length` frames makes at the same change, for contrast.
    float linearFadeWorstStep (const std::vector<float>& from, const std::vector<float>& to, size_t changeAt,
                               int length)
    {
        float worst = 0.0f, prev = from[changeAt - 1];
        for (size_t n = changeAt; n < from.size(); ++n)
        {
            const float g = std::min (1.0f, static_cast<float> (n - changeAt + 1) / static_cast<float> (length));
            const float y = (1.0f - g) * from[n] + g * to[n];
            worst = std::max (worst, std::abs (y - prev));
            prev = y;
        }
        return worst;
    }
} // namespace

TEST_CASE ("A latency crossfade between two delays of a sine never steps further than the sine",
           "[engine][crossfade]")
{
    // The change comes 1 s in: the sine's start (a step from silence) is long forgotten by then.
    const size_t frames = 96000, changeAt = 48000;
    int linearWouldClick = 0, cases = 0, longestFade = 0;
    float worstLinearRatio = 0.0f;
    for (const double hz : { 20.0, 55.0, 220.0, 1000.0, 4000.0 })
        for (const int newDelay : { 1, 37, 350, 608, 2400, 4000 })
            for (const int block : { 1, 64, 128 })
            {
                const auto from = sine (hz, 0.9, 960, frames), to = sine (hz, 0.9, newDelay, frames);
                const auto r = runFade (from, to, changeAt, block);
                INFO (hz << " Hz, delay 960 -> " << newDelay << ", block " << block << ": worst step "
                         << r.worstStep << ", the sine's own " << r.signalStep << ", fade " << r.fadeLength
                         << " frames");
                CHECK (r.worstStep <= r.signalStep * 1.0001f);
                CHECK (r.fadeLength > 0);
                CHECK (r.fadeLength <= 2400 + block); // the maximum (50 ms), rounded up to a block
                CHECK (r.exactAfterFade == r.framesAfterFade);
                ++cases;
                const float linearRatio = linearFadeWorstStep (from, to, changeAt, 240) / r.signalStep;
                linearWouldClick += linearRatio > 1.0001f ? 1 : 0;
                worstLinearRatio = std::max (worstLinearRatio, linearRatio);
                longestFade = std::max (longestFade, r.fadeLength);
            }
    // The bound is not free: a plain 5 ms linear fade breaks it in many of these cases.
    WARN (linearWouldClick << " of " << cases
                           << " cases step further than the sine under a plain 5 ms linear fade (at worst "
                           << worstLinearRatio << "x); the longest fade here took " << longestFade
                           << " frames");
    CHECK (linearWouldClick > cases / 4);
}

TEST_CASE ("A latency crossfade keeps its nominal length on busy signals and shares one gain across channels",
           "[engine][crossfade]")
{
    std::mt19937 rng (7);
    std::uniform_real_distribution<float> u (-0.5f, 0.5f);
    std::vector<float> noise (48000 + 4000);
    for (auto& x : noise)
        x = u (rng);
    const std::vector<float> from (noise.begin() + 4000, noise.end()),
        to (noise.begin() + 1000, noise.end() - 3000);
    const auto r = runFade (from, to, 48000 - 16 * 100, 16, 2);
    CHECK (r.worstStep <= r.signalStep * 1.0001f);
    CHECK (r.fadeLength <= 240 + 16 + 64); // white noise leaves the gain almost always free
    CHECK (r.exactAfterFade == r.framesAfterFade);
}

TEST_CASE ("A latency crossfade into or out of silence ends within its maximum", "[engine][crossfade]")
{
    const size_t frames = 72000, changeAt = 48000;
    const std::vector<float> silence (frames, 0.0f);
    const auto tone = sine (30.0, 1.0, 0, frames);
    for (const bool intoTone : { true, false })
    {
        const auto r = runFade (intoTone ? silence : tone, intoTone ? tone : silence, changeAt, 32);
        INFO ((intoTone ? "silence -> tone" : "tone -> silence") << ": fade " << r.fadeLength);
        CHECK (r.fadeLength > 0);
        CHECK (r.fadeLength <= 2400 + 32);
        CHECK (r.exactAfterFade == r.framesAfterFade);
    }
}

TEST_CASE ("Copying a block while following its steps is process() on it: the next fade comes out the same", "[engine][crossfade]")
{
    // Two fades see the same blocks of two channels: noise (large steps), then a sine from 20 ms
    // before the change. One fade sees them through process(), the other copied with
    // copyFollowingSteps, in two pieces where a ring's end would split them. Then both fade to a
    // delayed sine, at a pace the noise's recent steps allow: their outputs must be identical,
    // frame for frame.
    const size_t frames = 24000, changeAt = 19200, sineFrom = changeAt - 960;
    const int block = 96;
    std::mt19937 rng (5);
    std::uniform_real_distribution<float> u (-0.5f, 0.5f);
    for (const double hz : { 30.0, 440.0, 5000.0 })
    {
        auto from = sine (hz, 0.8, 0, frames);
        const auto to = sine (hz, 0.8, 300, frames);
        for (size_t i = 0; i < sineFrom; ++i)
            from[i] = u (rng);
        pg::LatencyCrossfade viaProcess, viaCopy;
        viaProcess.prepare (48000.0, 0.005, 0.050);
        viaCopy.prepare (48000.0, 0.005, 0.050);
        std::vector<float> a0 (block), a1 (block), b0 (block), b1 (block), c0 (block), c1 (block);
        size_t differing = 0;
        for (size_t pos = 0; pos + block <= frames; pos += block)
        {
            const bool fading = pos >= changeAt;
            if (pos == changeAt)
            {
                viaProcess.start();
                viaCopy.start();
            }
            for (size_t i = 0; i < block; ++i)
            {
                a0[i] = from[pos + i];
                a1[i] = -0.5f * from[pos + i];
                b0[i] = c0[i] = (fading ? to : from)[pos + i];
                b1[i] = c1[i] = -0.5f * (fading ? to : from)[pos + i];
            }
            const float* fromPtrs[] { a0.data(), a1.data() };
            float* processed[] { b0.data(), b1.data() };
            viaProcess.process (fromPtrs, processed, 2, block);
            if (fading)
            {
                float* copied[] { c0.data(), c1.data() };
                viaCopy.process (fromPtrs, copied, 2, block);
            }
            else
            {
                // The source is the block itself; the copy lands in the output the fade follows.
                const std::vector<float> s0 (c0), s1 (c1);
                const int split = static_cast<int> ((pos / block) % 7) * 13 + 1; // 1..79
                viaCopy.copyFollowingSteps (0, s0.data(), c0.data(), split);
                viaCopy.copyFollowingSteps (0, s0.data() + split, c0.data() + split, block - split);
                viaCopy.copyFollowingSteps (1, s1.data(), c1.data(), split);
                viaCopy.copyFollowingSteps (1, s1.data() + split, c1.data() + split, block - split);
            }
            for (size_t i = 0; i < block; ++i)
                differing += (b0[i] != c0[i] || b1[i] != c1[i]) ? 1u : 0u;
        }
        INFO (hz << " Hz");
        CHECK (differing == 0);
    }
}
