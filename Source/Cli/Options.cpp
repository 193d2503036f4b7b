#include "Options.h"

#include <cstdio>

namespace pauseguard::cli
{
    namespace
    {
        const char* const usageText =
            "usage: pauseguard <command> [options]\n"
            "commands:\n"
            "  demo                     what the plugin does, shown without a DAW or a display\n"
            "  render IN.wav OUT.wav    process a file (offline, or paced with --realtime); OUT is\n"
            "                           aligned with IN unless --keep-latency\n"
            "  soak                     a real-time-paced run with a simulated audio callback\n"
            "                           (--instances N: N plugins called in turn by that callback)\n"
            "  profile                  profile the script and its collector; print the auto latency\n"
            "  check-script FILE.lua    compile a script and run a few blocks within the budgets:\n"
            "                           prints ok (exit 0) or each problem as FILE:LINE: message (exit 2)\n"
            "  bench                    the audio thread's cost per block against memcpy, and the\n"
            "                           dynamic schedule's collector overhead against Lua's automatic one\n"
            "  cost                     the engine's own cost: the pool's CPU per instance against the\n"
            "                           script alone, in --rounds N (default 15) of --seconds S (default 4)\n"
            "                           that alternate the two; the median ratio (--instances N)\n"
            "options:\n"
            "  --strategy dynamic|deterministic   --rate HZ   --block N (1-8192; render: up to 1048576)   --seconds S\n"
            "  --latency-ms X|auto   --garbage-kb K   --live-heap-mb M   --script FILE   --json\n"
            "  --process \"COMMAND ARGS\"  a DSP program in its own process, in place of the script\n"
            "                           (soak, render, profile; --json adds its runtime's own figures)\n"
            "  --param ID=VALUE         a plugin parameter, as its knob shows it (repeatable; e.g.\n"
            "                           --param macro1=0.25 --param output_db=-6)\n"
            "  --instances N (soak)   --workers N (the shared worker pool's threads; default: cores - 1, at least 2)\n"
            "  --realtime --report FILE.json --keep-latency (render)   --audio-only --rounds N (bench)\n"
            "  --trace FILE.json (soak) the engine's trace, for Perfetto or chrome://tracing: each pool\n"
            "                           thread's chunks and naps, each dropout and its cause\n"
            "  --trace-seconds N        how much of the run the trace keeps (default 10: the last N s)\n";
    } // namespace

    int usage (const char* problem)
    {
        if (problem != nullptr)
            std::fprintf (stderr, "pauseguard: %s\n", problem);
        std::fputs (usageText, stderr);
        return 2;
    }

    void printHelp() { std::fputs (usageText, stdout); }

    // Parses argv into o; returns an error message, or an empty string.
    juce::String parse (int argc, char* argv[], Options& o)
    {
        if (argc < 2)
            return "no command";
        o.command = argv[1];
        auto number = [] (const juce::String& flag, const juce::String& v, double lo, double hi, double& out) -> juce::String {
            if (v.isEmpty() || ! v.containsOnly ("0123456789.") || v.indexOfChar ('.') != v.lastIndexOfChar ('.'))
                return flag + " needs a number, not '" + v + "'";
            out = v.getDoubleValue();
            if (out < lo || out > hi)
                return flag + " must be between " + juce::String (lo) + " and " + juce::String (hi);
            return {};
        };
        for (int i = 2; i < argc; ++i)
        {
            const juce::String a (argv[i]);
            if (! a.startsWith ("--"))
            {
                o.files.add (a);
                continue;
            }
            if (a == "--json" || a == "--realtime" || a == "--keep-latency" || a == "--audio-only")
            {
                (a == "--json" ? o.json : (a == "--realtime" ? o.realtime : (a == "--audio-only" ? o.audioOnly : o.keepLatency))) = true;
                continue;
            }
            if (i + 1 >= argc)
                return a + " needs a value";
            const juce::String v (argv[++i]);
            juce::String error;
            double d = 0.0;
            if (a == "--strategy")
            {
                if (v != "dynamic" && v != "deterministic")
                    return "--strategy is dynamic or deterministic, not '" + v + "'";
                o.strategy = v;
            }
            else if (a == "--latency-ms")
            {
                if (v != "auto" && (error = number (a, v, 1.0, 200.0, d)).isNotEmpty())
                    return error;
                o.latency = v;
            }
            else if (a == "--script")
                o.script = v;
            else if (a == "--process")
                o.process = v;
            else if (a == "--param")
            {
                if (! v.containsChar ('='))
                    return "--param is ID=VALUE, not '" + v + "'";
                o.params.add (v);
            }
            else if (a == "--report")
                o.report = v;
            else if (a == "--trace")
                o.trace = v;
            else if (a == "--trace-seconds")
                error = number (a, v, 1.0, 600.0, o.traceSeconds);
            else if (a == "--rate")
                error = number (a, v, 8000.0, 384000.0, o.rate);
            else if (a == "--block")
            {
                // A render may send any block; a real-time host sends at most 8192 frames.
                error = number (a, v, 1.0, o.command == "render" ? 1048576.0 : 8192.0, d);
                o.block = static_cast<int> (d);
            }
            else if (a == "--seconds")
            {
                error = number (a, v, 0.5, 86400.0, o.seconds);
                o.secondsGiven = true;
            }
            else if (a == "--instances" || a == "--workers" || a == "--rounds")
            {
                error = number (a, v, 1.0, a == "--instances" ? 256.0 : (a == "--workers" ? 64.0 : 1000.0), d);
                (a == "--instances" ? o.instances : (a == "--workers" ? o.workers : o.rounds)) = static_cast<int> (d);
            }
            else if (a == "--garbage-kb")
                error = number (a, v, 0.0, 1024.0, o.garbageKb);
            else if (a == "--live-heap-mb")
                error = number (a, v, 0.0, 256.0, o.liveHeapMb);
            else
                return "unknown option '" + a + "'";
            if (error.isNotEmpty())
                return error;
        }
        return {};
    }
} // namespace pauseguard::cli
