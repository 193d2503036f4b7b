#include "Setup.h"

#include "ShellProgram.h"

#include <cstdio>

namespace pauseguard::cli
{
    namespace ids = pauseguard::ParamIDs;

    void setParam (PauseGuardProcessor& p, const char* id, float plain)
    {
        auto* param = p.getState().getParameter (id);
        param->setValueNotifyingHost (param->convertTo0to1 (plain));
    }

    // Configures and prepares p as a host would. Returns an error message, or an empty string.
    juce::String setUp (PauseGuardProcessor& p, const Options& o, int channels)
    {
        if (o.script.isNotEmpty() && o.process.isNotEmpty())
            return "--script and --process each choose the DSP: give one";
        if (o.process.isNotEmpty())
        {
            // The user's own command line, found as their shell would: no allow-list needed.
            const auto resolved = pauseguard::resolveProgram (pauseguard::withProgramFoundAsShellWould (o.process));
            if (! resolved.ok())
                return "cannot run '" + o.process + "': " + resolved.error;
            p.runProgramAsShown (resolved.command, false);
        }
        if (o.script.isNotEmpty())
        {
            const juce::File f = juce::File::getCurrentWorkingDirectory().getChildFile (o.script);
            if (! f.existsAsFile())
                return "cannot read the script '" + o.script + "': no such file";
            p.setScript (f.loadFileAsString(), f.getFileName());
        }
        if (o.garbageKb >= 0.0)
            setParam (p, ids::garbageKb, static_cast<float> (o.garbageKb));
        if (o.liveHeapMb >= 0.0)
            setParam (p, ids::liveHeapMb, static_cast<float> (o.liveHeapMb));
        for (const auto& assignment : o.params)
        {
            const auto id = assignment.upToFirstOccurrenceOf ("=", false, false).trim();
            if (p.getState().getParameter (id) == nullptr)
                return "--param: the plugin has no parameter '" + id + "'";
            setParam (p, id.toRawUTF8(), assignment.fromFirstOccurrenceOf ("=", false, false).getFloatValue());
        }
        setParam (p, ids::strategy, o.strategy == "dynamic" ? 1.0f : 0.0f);
        setParam (p, ids::autoLatency, o.latency == "auto" ? 1.0f : 0.0f);
        if (o.latency != "auto")
            setParam (p, ids::latencyMs, static_cast<float> (o.latency.getDoubleValue()));

        const auto set = channels == 1 ? juce::AudioChannelSet::mono() : juce::AudioChannelSet::stereo();
        juce::AudioProcessor::BusesLayout layout;
        layout.inputBuses.add (set);
        layout.outputBuses.add (set);
        p.setBusesLayout (layout);
        const int announced = o.preparedBlock > 0 ? o.preparedBlock : o.block;
        p.setRateAndBufferSizeDetails (o.rate, announced);
        p.prepareToPlay (o.rate, announced);
        const auto error = p.getEngine().getScriptError();
        if (! error.empty())
            std::fprintf (stderr, "pauseguard: the %s stopped: %s (the output is the delayed dry signal)\n",
                          o.process.isNotEmpty() ? "DSP program" : "script", error.c_str());
        // Auto latency: the profile runs in the background; the command line starts once it is in.
        if ((o.latency == "auto" || o.strategy == "dynamic") && error.empty())
        {
            if (! p.getEngine().waitForProfile (30.0))
                std::fprintf (stderr, "pauseguard: the profile did not finish; the latency stays at %d samples\n", p.getLatencySamples());
            p.applyPendingLatencyChange();
        }
        // In real time, prepare has the loader build the script's live heap before the worker
        // plays it: the command starts once it is built, as a user presses play once a session
        // has loaded.
        if (! p.getEngine().waitUntilWarm (30.0))
            std::fprintf (stderr, "pauseguard: the script's warm-up did not finish in 30 s\n");
        p.applyProgramDefaults(); // a program's declared defaults, for the knobs --param did not set
        if (const auto note = p.getLatencyNote(); note.isNotEmpty())
            std::fprintf (stderr, "pauseguard: latency %s\n", note.toRawUTF8());
        return {};
    }

    juce::String makeInstances (const Options& o, Instances& made)
    {
        for (int i = 0; i < o.instances; ++i)
        {
            made.owned.push_back (std::make_unique<PauseGuardProcessor>());
            if (const auto e = setUp (*made.owned.back(), o); e.isNotEmpty())
                return e;
            made.owned.back()->setDemoSignalEnabled (true);
            made.all.push_back (made.owned.back().get());
        }
        return {};
    }
} // namespace pauseguard::cli
