#pragma once

// One event of the engine's trace: what a pool thread, an audio callback or the engine did, and
// when (the engine's clock, Clock.h). Plain values: copied out of the trace's buffers for export
// and analysis. No JUCE here.

#include <cstdint>
#include <string_view>

namespace pg::trace
{
    enum class Kind : uint8_t
    {
        chunk, // a pool thread ran one of an instance's chunks: [start, end)
        skip, // a pool thread skipped input nobody would hear any more (frames)
        nap, // a pool thread waited for work from start; it meant to wake at `due`, woke at end
        block, // an instance's audio callback: its input arrived at start (ringPos, frames)
        dropout, // an instance's callback found `frames` missing from ringPos on, at start
        latency, // an instance's latency became `value` at start
        collection, // an instance's full collection, [start, end) (value: 1 if forced)
        dspStart, // an instance's DSP (a script or a program) started playing at start
        callback, // a host callback (all its instances): due at `due`, ran [start, end)
        stall, // an injected stall (a test or a simulation): [start, end)
    };

    // Why a dropout happened: the first that explains it, in this order (DropoutCauses.h).
    enum class Cause : uint8_t
    {
        hostLate, // the callback that brought the input came too late for L to cover
        ownChunk, // its own chunk started in time but ran past the slack
        collection, // a collection: in its own chunk, or in the chunks it waited behind
        queued, // it waited behind other instances' chunks on every pool thread
        overloaded, // it waited behind other instances' work, and the pool's threads had run work
                    // nearly all of the second before: more work than the machine's CPU gave them
        noThreadRunning, // the pool's threads were descheduled (the machine stalled)
        lateWakeup, // a pool thread napped past the moment the work arrived
        untraced, // not in the trace any more (its buffer wrapped)
        count
    };

    constexpr std::string_view causeName (Cause c) noexcept
    {
        switch (c)
        {
            case Cause::hostLate:
                return "host_late";
            case Cause::ownChunk:
                return "own_chunk";
            case Cause::collection:
                return "collection";
            case Cause::queued:
                return "queued";
            case Cause::overloaded:
                return "overloaded";
            case Cause::noThreadRunning:
                return "no_thread_running";
            case Cause::lateWakeup:
                return "late_wakeup";
            case Cause::untraced:
            case Cause::count:
                break;
        }
        return "untraced";
    }

    // A nap's `due` when its thread slept until woken, meaning to wake at no time of its own.
    inline constexpr int64_t untilWoken = INT64_MAX;

    struct Event
    {
        Kind kind = Kind::chunk;
        int32_t lane = 0; // the buffer's lane (a pool thread, an instance's audio side, ...)
        int32_t instance = -1; // the engine it concerns (-1: none)
        int64_t start = 0, end = 0;
        int64_t due = 0; // chunk: its deadline; nap: when it meant to wake (untilWoken: asleep); callback: its period's start
        int64_t arrival = 0; // chunk: when its oldest input arrived
        uint64_t ringPos = 0; // chunk, skip, block, dropout: the first frame concerned
        int32_t frames = 0;
        int32_t value = 0; // latency: samples; collection: forced; chunk: 1 if the DSP is a program
        int64_t collectorNanos = 0; // chunk: the collector's share of it
        int64_t cpuNanos = -1; // chunk: the thread's CPU time in it (-1: not measured)
    };
} // namespace pg::trace
