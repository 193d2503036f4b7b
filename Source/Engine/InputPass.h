#pragma once

// The audio thread's input pass: n samples of x copied to the dry line and, where the block goes
// to the worker, to its input, with non-finite and subnormal samples as silence (+0), in one pass.
// x itself is left. Real-time safe. No JUCE here.

#include <cstddef>

namespace pg
{
    // input may be nullptr (the block goes to the dry line only). No two of x, dry and input overlap.
    using InputPassFunction = void (*) (const float* x, float* dry, float* input, size_t n) noexcept;

    // The fastest variant this CPU runs (AVX2 where it has it), chosen when the library's statics
    // are made (an ifunc would be resolved before a sanitizer's runtime starts).
    extern const InputPassFunction sanitiseInto;

    namespace detail
    {
        void sanitiseBaseline (const float* x, float* dry, float* input, size_t n) noexcept;
        // nullptr where the CPU or the build has no AVX2.
        extern const InputPassFunction sanitiseAvx2;
    } // namespace detail
} // namespace pg
