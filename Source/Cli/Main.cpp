// pauseguard: drives the real PauseGuardProcessor headless. See usage() (Options.cpp) for the commands.

#include "Commands.h"
#include "WorkerPool.h"

#include <juce_events/juce_events.h>

int main (int argc, char* argv[])
{
    using namespace pauseguard::cli;
    juce::ScopedJuceInitialiser_GUI juce;
    Options o;
    if (const auto error = parse (argc, argv, o); error.isNotEmpty())
        return usage (error.toRawUTF8());
    if (o.workers > 0)
        pg::WorkerPool::setDefaultThreadCount (o.workers); // before the first engine makes the pool
    if (o.command == "demo")
        return demo (o);
    if (o.command == "soak")
        return soak (o);
    if (o.command == "profile")
        return profile (o);
    if (o.command == "render")
        return render (o);
    if (o.command == "bench")
        return bench (o);
    if (o.command == "cost")
        return cost (o);
    if (o.command == "check-script")
        return checkScript (o);
    if (o.command == "--help" || o.command == "help" || o.command == "-h")
    {
        printHelp();
        return 0;
    }
    return usage (("unknown command '" + o.command + "'").toRawUTF8());
}
