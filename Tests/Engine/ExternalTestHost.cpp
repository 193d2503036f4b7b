// A host that dies: starts a DSP program (ExternalDsp) on a thread and exits, without a word to the
// program, a given number of microseconds after it began (during the start, or after it).
//   pauseguard_test_host MICROSECONDS PROGRAM [ARGUMENTS...]
// The external DSP's tests run it to check that the program then exits by itself.

#include "ExternalDsp.h"

#include <chrono>
#include <cstdlib>
#include <thread>
#include <unistd.h>

int main (int argc, char** argv)
{
    if (argc < 3)
        return 2;
    const auto dieAfter = std::chrono::microseconds (std::atoll (argv[1]));
    pg::ExternalDsp::Options options;
    options.program.argv.assign (argv + 2, argv + argc);
    std::thread ([options] {
        pg::ExternalDsp dsp;
        if (dsp.start (options))
            dsp.prepare (48000.0, 256, 2);
        std::this_thread::sleep_for (std::chrono::hours (1));
    }).detach();
    std::this_thread::sleep_for (dieAfter);
    _exit (0);
}
