#pragma once

// The figures of a paced run beyond one processor's summary: the dropouts' causes, the machine's
// figures from the trace, and many instances at once.

#include "PacedRun.h"

namespace pauseguard::cli
{
    // The dropouts by cause (DropoutCauses.h); those the trace lost are "untraced", so that the
    // counts sum to `dropouts`.
    juce::var causesJson (const pg::trace::CauseCounts& counts, uint64_t dropouts);
    // The machine's figures from the trace (PoolFigures), into o.
    void setMachineFigures (juce::DynamicObject& o, const PoolFigures& pool);
    void printMachineFigures (const PoolFigures& pool);
    void printCauses (const pg::trace::CauseCounts& counts, uint64_t dropouts);
    // Many instances on one simulated audio callback: totals, then a line per instance.
    void printInstances (const std::vector<Summary>& all, const PoolFigures& pool, bool json);
} // namespace pauseguard::cli
