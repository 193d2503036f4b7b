// A DSP program for the external DSP's tests, in C++: the protocol (ExternalProtocol.h) on one page.
//   pauseguard_test_child wrong-version   answers hello with protocol version 99
//   pauseguard_test_child gain            halves its input; writes one line on stderr at prepare
//   pauseguard_test_child late FILE       as gain, but answers its 100th process call 1 s late if FILE
//                                         does not exist (and creates it: a restart is on time)

#include "ExternalProtocol.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <linux/futex.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace pg::external;

int main (int argc, char** argv)
{
    const std::string mode = argc > 1 ? argv[1] : "gain";
    struct stat st {};
    if (std::getenv ("PAUSEGUARD_FD") == nullptr || fstat (fd, &st) != 0)
        return 2;
    void* mem = mmap (nullptr, static_cast<size_t> (st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mem == MAP_FAILED)
        return 2;
    auto* b = static_cast<ExternalBlock*> (mem);
    auto* audio = reinterpret_cast<float*> (static_cast<char*> (mem) + b->audioOffset);
    const std::string marker = argc > 2 ? argv[2] : "";
    uint32_t seen = 0, processCalls = 0;
    for (;;)
    {
        const uint32_t seq = std::atomic_ref<uint32_t> (b->requestSeq).load (std::memory_order_acquire);
        if (seq == seen)
        {
            timespec ts { 0, 100'000'000 };
            syscall (SYS_futex, &b->requestSeq, FUTEX_WAIT, seen, &ts, nullptr, 0);
            continue;
        }
        seen = seq;
        b->status = ok;
        const uint32_t command = b->command;
        if (command == hello)
        {
            b->childVersion = mode == "wrong-version" ? 99u : version;
            b->status = mode == "wrong-version" ? wrongVersion : ok;
            std::snprintf (b->message, sizeof (b->message), "test child (%s)", mode.c_str());
        }
        else if (command == prepare)
            std::fprintf (stderr, "prepared: %u channels, %u frames\n", b->channels, b->frames);
        else if (command == process)
        {
            float gain = 0.5f; // or the host's parameter "gain"
            for (uint32_t i = 0; i < std::min<uint32_t> (b->parameterCount, maxParameters); ++i)
                if (std::strcmp (b->parameters[i].name, "gain") == 0)
                    gain = b->parameters[i].value;
            for (uint32_t c = 0; c < b->channels; ++c)
                for (uint32_t i = 0; i < b->frames; ++i)
                    audio[c * b->maxFrames + i] *= gain;
            if (mode == "late" && ++processCalls == 100 && ! std::ifstream (marker).good())
            {
                std::ofstream (marker) << "late once\n";
                std::this_thread::sleep_for (std::chrono::seconds (1));
            }
        }
        b->stats.heapBytes = 65536; // a runtime's figures: a heap that never changes
        std::atomic_ref<uint32_t> (b->responseSeq).store (seq, std::memory_order_release);
        syscall (SYS_futex, &b->responseSeq, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
        if (command == quit)
            return 0;
    }
}
