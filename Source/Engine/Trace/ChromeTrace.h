#pragma once

// A trace snapshot as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and
// chrome://tracing open: one track per lane (each pool thread, each instance's audio side, the
// host callback), a slice per chunk, nap and collection, an instant per dropout named after its
// cause, and a counter per instance's latency. Times are in µs from the snapshot's first event.

#include "DropoutCauses.h"

#include <string>

namespace pg::trace
{
    std::string toChromeJson (const Snapshot& trace, const std::vector<DropoutCause>& causes);
    // false (and nothing written) if the file cannot be written.
    bool writeChromeJson (const std::string& path, const Snapshot& trace, const std::vector<DropoutCause>& causes);
} // namespace pg::trace
