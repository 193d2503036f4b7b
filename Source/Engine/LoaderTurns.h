#pragma once

// The loaders of every engine in a process take turns at their jobs. A session that loads 32
// instances starts 32 warm-ups, each tens of milliseconds of CPU; run all at once, they share the
// cores with the host's thread, which then waits for the CPU in every prepareToPlay (a median of
// 15 ms of wall time for 1.7 ms of its own CPU on two cores). Taking turns, at most one job per
// core but one runs at a time, the host's thread keeps a core, and the warm-ups end in the same
// total time, the earlier ones sooner. No JUCE here.

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace pg
{
    class LoaderTurns
    {
    public:
        // The process's: one turn per core but one, and at least one.
        static LoaderTurns& shared();

        explicit LoaderTurns (int turns);
        LoaderTurns (const LoaderTurns&) = delete;
        LoaderTurns& operator= (const LoaderTurns&) = delete;

        // Waits for a turn. Returns false, without one, as soon as `cancel` is set (within a few
        // milliseconds); true: the caller has a turn and gives it back with end().
        bool begin (const std::atomic<bool>& cancel);
        void end();

    private:
        std::mutex lock;
        std::condition_variable freed;
        int free; // turns not taken
    };

    // A turn held for a scope (none if the wait was cancelled).
    class LoaderTurn
    {
    public:
        LoaderTurn (LoaderTurns& turns, const std::atomic<bool>& cancel)
            : owner (turns)
            , held (turns.begin (cancel))
        {
        }
        ~LoaderTurn()
        {
            if (held)
                owner.end();
        }
        LoaderTurn (const LoaderTurn&) = delete;
        LoaderTurn& operator= (const LoaderTurn&) = delete;

    private:
        LoaderTurns& owner;
        const bool held;
    };
} // namespace pg
