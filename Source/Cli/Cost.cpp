// pauseguard cost: the engine's own cost per instance against the script alone, in rounds that
// alternate the two, so that both halves of a ratio see the machine at the same speed (a virtual
// machine's speed moves by tens of percent within a minute). Also against as many scripts as
// instances, called in turn on one thread without the engine: what the caches cost any host that
// runs that many, apart from what the engine adds. And against those scripts called in turn at
// real-time pace, from a thread that sleeps between periods (ScriptsAlone::Pace::paced): what the
// machine charges any paced processing for its wake-ups, apart from what the engine adds.

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

        ScriptsAlone& turnOrOne = inTurn != nullptr ? *inTurn : one;
        std::vector<double> engine, alone, ratios, turns, turnRatios, paced, pacedRatios, pacedAudio;
        for (int round = 0; round < o.rounds; ++round)
        {
            // The script alone, the scripts in turn and those at real-time pace, each for a quarter
            // of the engine's wall time just before it and a quarter just after: the machine's
            // speed over the same span.
            using Pace = ScriptsAlone::Pace;
            const auto turnBefore = inTurn != nullptr ? inTurn->run (0.25 * seconds, Pace::wallClock) : ScriptAlone {};
            const auto oneBefore = one.run (0.25 * seconds, Pace::wallClock);
            const auto pacedBefore = turnOrOne.run (0.25 * seconds, Pace::paced);
            const double cpuBefore = poolCpuSeconds();
            runPaced (ps, o, seconds, nullptr, false);
            const double perInstance = 100.0 * (poolCpuSeconds() - cpuBefore) / o.instances / seconds;
            const auto pacedAfter = turnOrOne.run (0.25 * seconds, Pace::paced);
            const auto oneAfter = one.run (0.25 * seconds, Pace::wallClock);
            const auto turnAfter = inTurn != nullptr ? inTurn->run (0.25 * seconds, Pace::wallClock) : oneAfter;
            for (const auto* part : { &oneBefore, &oneAfter, &turnAfter, &pacedBefore, &pacedAfter, inTurn != nullptr ? &turnBefore : &oneAfter })
                if (part->meanCpuPercent <= 0.0)
                {
                    std::fprintf (stderr, "pauseguard: the script alone failed\n");
                    return 1;
                }
            const double script = 0.5 * (oneBefore.meanCpuPercent + oneAfter.meanCpuPercent);
            const double scripts = inTurn != nullptr ? 0.5 * (turnBefore.meanCpuPercent + turnAfter.meanCpuPercent) : script;
            const double pacedScripts = 0.5 * (pacedBefore.meanCpuPercent + pacedAfter.meanCpuPercent);
            engine.push_back (perInstance);
            alone.push_back (script);
            ratios.push_back (perInstance / script);
            turns.push_back (scripts);
            turnRatios.push_back (perInstance / scripts);
            paced.push_back (pacedScripts);
            pacedRatios.push_back (perInstance / pacedScripts);
            pacedAudio.push_back (pacedBefore.audioSeconds + pacedAfter.audioSeconds);
            if (! o.json)
                std::printf ("round %2d: pool CPU per instance %.2f %% of a core; the script alone %.2f %% (%.2fx); %d scripts in turn %.2f %% each (%.2fx); "
                             "paced %.2f %% each (%.2fx)\n",
                             round + 1, perInstance, script, ratios.back(), o.instances, scripts, turnRatios.back(), pacedScripts, pacedRatios.back());
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
            j->setProperty ("scripts_paced_cpu_percent_median", medianOf (paced));
            j->setProperty ("engine_cost_ratio_vs_scripts_paced_median", medianOf (pacedRatios));
            j->setProperty ("scripts_paced_audio_seconds_per_round_median", medianOf (pacedAudio)); // (half a round's wall time)
            std::printf ("%s\n", juce::JSON::toString (juce::var (j.get()), true).toRawUTF8());
        }
        else
            std::printf ("engine cost: median %.2fx the script alone (rounds from %.2fx to %.2fx), %.2fx %d scripts in turn, %.2fx them paced; "
                         "pool CPU per instance %.2f %%, the script alone %.2f %%, in turn %.2f %%, paced %.2f %% (medians)\n",
                         medianOf (ratios), *least, *most, medianOf (turnRatios), o.instances, medianOf (pacedRatios), medianOf (engine),
                         medianOf (alone), medianOf (turns), medianOf (paced));
        return 0;
    }
} // namespace pauseguard::cli
