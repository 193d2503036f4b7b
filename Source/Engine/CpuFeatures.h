#pragma once

// What the processor offers the engine's vector paths (StepPeak, InputPass). Each path picks its
// function once, in a static initialiser, before any audio runs.

namespace pg
{
#if defined(__x86_64__)
    inline bool cpuHasAvx2() noexcept
    {
        __builtin_cpu_init(); // (a static initialiser may run before the runtime's own)
        return __builtin_cpu_supports ("avx2");
    }
#endif
} // namespace pg
