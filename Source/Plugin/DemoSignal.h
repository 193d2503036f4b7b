#pragma once

#include <cmath>

namespace pauseguard
{
    // A gentle plucked arpeggio (A minor, then F, C, G), for the Standalone app on a machine
    // whose input is silent. Audio thread: pure arithmetic, no allocation.
    class DemoSignal
    {
    public:
        void prepare (double rate) noexcept
        {
            sampleRate = rate;
            sampleInNote = 0;
            noteIndex = 0;
            phase = 0.0;
        }

        float next() noexcept
        {
            static constexpr double notes[] = { 57, 60, 64, 69, 53, 57, 60, 65, 48, 55, 60, 64, 55, 59, 62, 67 };
            const auto noteLength = static_cast<long> (0.22 * sampleRate);
            if (sampleInNote >= noteLength)
            {
                sampleInNote = 0;
                noteIndex = (noteIndex + 1) % 16;
            }
            const double freq = 440.0 * std::pow (2.0, (notes[noteIndex] - 69.0) / 12.0);
            const double t = static_cast<double> (sampleInNote) / sampleRate;
            const double env = std::exp (-t * 9.0) * std::min (1.0, t * 400.0);
            phase += 2.0 * 3.141592653589793 * freq / sampleRate;
            if (phase > 2.0 * 3.141592653589793)
                phase -= 2.0 * 3.141592653589793;
            ++sampleInNote;
            return static_cast<float> (0.35 * env * (std::sin (phase) + 0.3 * std::sin (2.0 * phase) + 0.1 * std::sin (3.0 * phase)));
        }

    private:
        double sampleRate = 48000.0, phase = 0.0;
        long sampleInNote = 0;
        int noteIndex = 0;
    };
} // namespace pauseguard
