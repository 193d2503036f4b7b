#pragma once

// Names the cause of every dropout in a trace (Trace.h). Runs on a snapshot, off the audio
// thread. The rules, in order, for a dropout of instance i at time T, its missing input having
// arrived at A with its deadline D (the engine's, from the block's stamp):
//   1. hostLate         T − A < 3/4 of D − A: the host brought the input late, or called early.
//   2. its own chunk (the one holding the missing input) started before T:
//        collection       if the collector took at least half of it;
//        noThreadRunning  if its thread ran (CPU time) less than half of it, descheduled; or, for
//                         a DSP program's chunk (its work in another process), if the pool's
//                         other threads napped past their wake-up for at least half of it: the
//                         machine ran none of the process's threads then;
//        ownChunk         if it took at least half of T − A.
//   3. otherwise, what the pool's threads did between A and the moment the chunk started (or T;
//      or the moment the pool skipped the input as too late, which a latency grown since reads):
//      the largest share, summed over the threads, of what follows; while an earlier chunk of
//      the instance held it (no other thread could take its input), what that chunk did instead:
//      descheduled (noThreadRunning), the collector (collection) or its own work (ownChunk).
//        queued           other instances' chunks (their non-collector part),
//        collection       other instances' collector work,
//        noThreadRunning  time a thread was descheduled (neither running a chunk nor napping,
//                         inside a chunk without CPU time, napping past the time it meant to
//                         wake, or asleep while another's nap overslept: the pool relied on it),
//        lateWakeup       time a thread napped, as it meant to, while the work waited.
//      (Nothing at all: ownChunk.)
//   4. queued or collection becomes overloaded when, over the whole second before T, the pool's
//      threads ran chunks (CPU time) for at least 95 % of their time: the work outgrew what the
//      machine gave the pool (more instances than it carries, or a machine that slowed down),
//      and no order of the queue or latency hides that.

#include "Trace.h"

#include <array>
#include <climits>
#include <cstdint>
#include <vector>

namespace pg::trace
{
    struct DropoutCause
    {
        Event dropout;
        Cause cause = Cause::untraced;
    };

    struct CauseCounts
    {
        std::array<uint64_t, static_cast<size_t> (Cause::count)> counts {};
        uint64_t total() const noexcept;
        uint64_t& operator[] (Cause c) noexcept { return counts[static_cast<size_t> (c)]; }
        uint64_t operator[] (Cause c) const noexcept { return counts[static_cast<size_t> (c)]; }
    };

    std::vector<DropoutCause> attributeDropouts (const Snapshot& trace);
    CauseCounts countCauses (const std::vector<DropoutCause>& causes);

    // Attributes a run's dropouts as it goes, so that a trace that keeps only its last seconds
    // still names every dropout's cause: call advance() at least once per trace window.
    class DropoutTally
    {
    public:
        // Only these instances' dropouts (empty: every instance's).
        explicit DropoutTally (std::vector<int> instances = {})
            : only (std::move (instances))
        {
        }

        // The dropouts traced before upTo that are not attributed yet (the recorder's snapshot).
        void advance (int64_t upTo, const Recorder& recorder = Recorder::global());
        // The same from a snapshot that holds at least [windowFrom (upTo), upTo).
        void advance (const Snapshot& trace, int64_t upTo);
        // Where the snapshot for the next advance to upTo must start: a second before what is new.
        int64_t windowFrom() const noexcept { return done == INT64_MIN ? INT64_MIN : done - contextNanos; }
        int64_t attributedUpTo() const noexcept { return done; }
        const CauseCounts& counts() const noexcept { return tally; }

    private:
        static constexpr int64_t contextNanos = 1'000'000'000; // what a dropout's cause can reach back to
        std::vector<int> only;
        int64_t done = INT64_MIN;
        CauseCounts tally;
    };
} // namespace pg::trace
