// pauseguard cost: the engine's own cost per instance against the script alone, in rounds that
// alternate the two, so that both halves of a ratio see the machine at the same speed (a virtual
// machine's speed moves by tens of percent within a minute). Also against as many scripts as
// instances, called in turn on one thread without the engine: what the caches cost any host that
// runs that many, apart from what the engine adds.

#include "Commands.h"
#include "EngineCost.h"
#include "PacedRun.h"
#include "Setup.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

namespace pauseguard::cli
{
    int cost (const Options& o)
    {
        if (o.process.isNotEmpty())
            return usage ("cost measures a script's engine cost (a DSP program's CPU is its own process's)");
        pg::trace::Recorder::global().enable (o.traceSeconds); // as the plugin runs: traced
        Instances instances;
        if (const auto e = makeInstances (o, instances); e.isNotEmpty())
            return usage (e.toRawUTF8());
        const auto& ps = instances.all;
        const double seconds = o.secondsGiven ? o.seconds : 4.0;
        ScriptsAlone one (*ps.front(), o.rate, o.block, 2, 1);
        std::unique_ptr<ScriptsAlone> inTurn; // as many scripts as instances, called in turn (more than one)
        if (o.instances > 1)
            inTurn = std::make_unique<ScriptsAlone> (*ps.front(), o.rate, o.block, 2, o.instances);
        runPaced (ps, o, 3.0, nullptr, false); // warm-ups and first collection cycles: not counted

        std::vector<double> engine, alone, ratios, turns, turnRatios;
        for (int round = 0; round < o.rounds; ++round)
        {
            // The script alone and the scripts in turn, each for a quarter of the engine's wall
            // time just before it and a quarter just after: the machine's speed over the same span.
            const auto turnBefore = inTurn != nullptr ? inTurn->run (0.25 * seconds, true) : ScriptAlone {};
            const auto oneBefore = one.run (0.25 * seconds, true);
            const double cpuBefore = poolCpuSeconds();
            runPaced (ps, o, seconds, nullptr, false);
            const double perInstance = 100.0 * (poolCpuSeconds() - cpuBefore) / o.instances / seconds;
            const auto oneAfter = one.run (0.25 * seconds, true);
            const auto turnAfter = inTurn != nullptr ? inTurn->run (0.25 * seconds, true) : oneAfter;
            if (oneBefore.meanCpuPercent <= 0.0 || oneAfter.meanCpuPercent <= 0.0 || turnAfter.meanCpuPercent <= 0.0 || (inTurn != nullptr && turnBefore.meanCpuPercent <= 0.0))
            {
                std::fprintf (stderr, "pauseguard: the script alone failed\n");
                return 1;
            }
            const double script = 0.5 * (oneBefore.meanCpuPercent + oneAfter.meanCpuPercent);
            const double scripts = inTurn != nullptr ? 0.5 * (turnBefore.meanCpuPercent + turnAfter.meanCpuPercent) : script;
            engine.push_back (perInstance);
            alone.push_back (script);
            ratios.push_back (perInstance / script);
            turns.push_back (scripts);
            turnRatios.push_back (perInstance / scripts);
            if (! o.json)
                std::printf ("round %2d: pool CPU per instance %.2f %% of a core; the script alone %.2f %% (%.2fx); %d scripts in turn %.2f %% each (%.2fx)\n",
                             round + 1, perInstance, script, ratios.back(), o.instances, scripts, turnRatios.back());
        }
        const auto [least, most] = std::minmax_element (ratios.begin(), ratios.end());
        if (o.json)
        {
            juce::DynamicObject::Ptr j = new juce::DynamicObject();
            j->setProperty ("instances", o.instances);
            j->setProperty ("rounds", o.rounds);
            j->setProperty ("seconds_per_round", seconds);
            j->setProperty ("pool_cpu_percent_per_instance_median", medianOf (engine));
            j->setProperty ("script_alone_cpu_percent_median", medianOf (alone));
            j->setProperty ("engine_cost_ratio_median", medianOf (ratios));
            j->setProperty ("engine_cost_ratio_min", *least);
            j->setProperty ("engine_cost_ratio_max", *most);
            j->setProperty ("scripts_in_turn_cpu_percent_median", medianOf (turns));
            j->setProperty ("engine_cost_ratio_vs_scripts_in_turn_median", medianOf (turnRatios));
            std::printf ("%s\n", juce::JSON::toString (juce::var (j.get()), true).toRawUTF8());
        }
        else
            std::printf ("engine cost: median %.2fx the script alone (rounds from %.2fx to %.2fx), %.2fx %d scripts in turn; "
                         "pool CPU per instance %.2f %%, the script alone %.2f %%, in turn %.2f %% (medians)\n",
                         medianOf (ratios), *least, *most, medianOf (turnRatios), o.instances, medianOf (engine), medianOf (alone),
                         medianOf (turns));
        return 0;
    }
} // namespace pauseguard::cli
