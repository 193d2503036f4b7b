#pragma once

// A processor set up as the command line says: its DSP, parameters, layout, prepare, and the
// profile and warm-up it waits for.

#include "Options.h"
#include "PluginProcessor.h"

#include <memory>
#include <vector>

namespace pauseguard::cli
{
    // A plugin parameter set to a value as its knob shows it (a host's automation).
    void setParam (PauseGuardProcessor& p, const char* id, float plain);
    // Sets p up for o (channels: 1 or 2); returns an error message, or an empty string.
    juce::String setUp (PauseGuardProcessor& p, const Options& o, int channels = 2);

    // o.instances processors, each set up for o with the demo arpeggio as its input.
    struct Instances
    {
        std::vector<std::unique_ptr<PauseGuardProcessor>> owned;
        std::vector<PauseGuardProcessor*> all;
    };
    // Makes them into `made`; returns an error message, or an empty string.
    juce::String makeInstances (const Options& o, Instances& made);
} // namespace pauseguard::cli
