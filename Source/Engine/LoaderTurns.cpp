#include "LoaderTurns.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace pg
{
    LoaderTurns& LoaderTurns::shared()
    {
        static LoaderTurns turns (std::max (1, static_cast<int> (std::thread::hardware_concurrency()) - 1));
        return turns;
    }

    LoaderTurns::LoaderTurns (int turns)
        : free (std::max (1, turns))
    {
    }

    bool LoaderTurns::begin (const std::atomic<bool>& cancel)
    {
        std::unique_lock<std::mutex> l (lock);
        // Whoever cancels does not know this wait: it is polled.
        while (free == 0)
        {
            if (cancel.load (std::memory_order_acquire))
                return false;
            freed.wait_for (l, std::chrono::milliseconds (2));
        }
        --free;
        return true;
    }

    void LoaderTurns::end()
    {
        {
            std::lock_guard<std::mutex> l (lock);
            ++free;
        }
        freed.notify_one();
    }
} // namespace pg
