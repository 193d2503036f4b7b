#include "PipeDrain.h"

#include <utility>

#if defined(__linux__)
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#endif

namespace pg
{
#if defined(__linux__)
    void PipeDrain::start (int fd)
    {
        stop();
        readFd = fd;
        wakeFd = eventfd (0, EFD_CLOEXEC);
        thread = std::thread ([this] { run(); });
    }

    void PipeDrain::stop()
    {
        if (thread.joinable())
        {
            const uint64_t one = 1;
            [[maybe_unused]] const auto written = write (wakeFd, &one, sizeof (one));
            thread.join();
        }
        if (readFd >= 0)
        {
            readAvailable(); // (non-blocking: the thread's last poll said so, or the pipe is empty)
            close (readFd);
        }
        if (wakeFd >= 0)
            close (wakeFd);
        readFd = wakeFd = -1;
    }

    void PipeDrain::run()
    {
        for (;;)
        {
            pollfd fds[2] = { { readFd, POLLIN, 0 }, { wakeFd, POLLIN, 0 } };
            if (poll (fds, 2, -1) < 0)
                continue; // EINTR
            if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && ! readAvailable())
                return; // the writer closed it
            if ((fds[1].revents & POLLIN) != 0)
                return;
        }
    }

    bool PipeDrain::readAvailable()
    {
        char buffer[4096];
        for (;;)
        {
            pollfd ready { readFd, POLLIN, 0 };
            if (poll (&ready, 1, 0) <= 0 || (ready.revents & POLLIN) == 0)
                return (ready.revents & (POLLHUP | POLLERR)) == 0;
            const ssize_t got = read (readFd, buffer, sizeof (buffer));
            if (got <= 0)
                return false;
            std::lock_guard<std::mutex> l (lock);
            text.append (buffer, static_cast<size_t> (got));
            if (text.size() > kept)
                text.erase (0, text.size() - kept);
        }
    }
#else
    void PipeDrain::start (int)
    {
    }
    void PipeDrain::stop() {}
    void PipeDrain::run() {}
    bool PipeDrain::readAvailable() { return false; }
#endif

    std::string PipeDrain::take()
    {
        std::lock_guard<std::mutex> l (lock);
        return std::exchange (text, {});
    }
} // namespace pg
