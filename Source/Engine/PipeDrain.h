#pragma once

// Reads a pipe on a thread of its own for as long as it is open, so that the process writing it
// never blocks on a full pipe, and keeps the last bytes read. No JUCE here.

#include <cstddef>
#include <mutex>
#include <string>
#include <thread>

namespace pg
{
    class PipeDrain
    {
    public:
        explicit PipeDrain (size_t keptBytes = 65536)
            : kept (keptBytes)
        {
        }
        ~PipeDrain() { stop(); }
        PipeDrain (const PipeDrain&) = delete;
        PipeDrain& operator= (const PipeDrain&) = delete;

        // Takes ownership of fd (the read end) and reads it until it ends or stop() is called.
        void start (int fd);
        // Reads what is left without waiting, ends the thread and closes the descriptor.
        void stop();
        // Any thread: what was read since the last call (its last keptBytes bytes).
        std::string take();

    private:
        void run();
        bool readAvailable(); // false once the pipe ended

        // ([[maybe_unused]]: off Linux the drain does nothing.)
        [[maybe_unused]] const size_t kept;
        [[maybe_unused]] int readFd = -1;
        [[maybe_unused]] int wakeFd = -1; // an eventfd that ends the thread's wait
        std::thread thread;
        std::mutex lock;
        std::string text; // lock
    };
} // namespace pg
