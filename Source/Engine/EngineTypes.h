#pragma once

// The engine's public value types: its settings, its figures and what it reports. No JUCE, no
// Lua, no threads here: LatencyEngine.h is the engine's whole interface.

#include "CollectorScheduler.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace pg
{
    struct LuaDspLimits
    {
        size_t memoryLimitBytes = size_t (1) << 30; // our allocator refuses past this
        double callBudgetSeconds = 0.5; // one script call longer than this is aborted
        double renderCallBudgetSeconds = 20.0; // while rendering (the bound on a hang: Dsp.h)
    };

    // A macro knob the script declares in its global `macros` table: the host's 0..1 knob maps to
    // min..max.
    struct ScriptMacro
    {
        std::string name;
        double min = 0.0, max = 1.0;
        std::string unit; // a DSP program's: "Hz", "ms", "%", "dB" or empty (a script declares none)
        double defaultValue = std::numeric_limits<double>::quiet_NaN(); // in [min, max]; NaN: none declared
    };

    // A collected runtime's own figures, as it reports them (a DSP program; Lua reports none).
    struct RuntimeFigures
    {
        bool reported = false;
        uint64_t heapBytes = 0; // its heap, garbage not yet collected included
        uint64_t collections = 0; // completed collection cycles
        uint64_t pauseCount = 0; // stop-the-world pauses
        double pauseP50Seconds = 0.0, pauseP99Seconds = 0.0, pauseMaxSeconds = 0.0; // over every pause so far
    };

    struct ProfileResult
    {
        double worstCollectionSeconds = 0.0; // longest forced full collection
        double worstChunkSeconds = 0.0; // longest script call (with its automatic collector work)
        double worstStepSeconds = 0.0; // longest basic collector step (collector stopped)
        double worstBareChunkSeconds = 0.0; // longest script call with the collector stopped
        int dynamicLatencySamples = 0; // the dynamic strategy's starting latency
        double elapsedSeconds = 0.0;
        size_t heapBytes = 0;
        int latencySamples = 0; // one block + 2 x worst pause, at least 10 ms and the floor
        int chunksTimed = 0; // the steady-state chunks worstChunkSeconds comes from
        bool complete = false; // false: the script failed or the profile was cancelled
        RuntimeFigures runtime {}; // a DSP program's own figures at the profile's end
    };

    // A file a DSP program needs (the program, or the script an interpreter runs) and the SHA-256
    // (hex) it had when the user allowed it.
    struct TrustedFile
    {
        std::string path;
        std::string sha256;
        friend bool operator== (const TrustedFile&, const TrustedFile&) = default;
    };

    // A DSP program as the engine runs it: argv[0] is an absolute path, run as it is (PATH is
    // never searched), then its arguments; each start checks every file against its hash first,
    // and a file that changed starts nothing.
    struct ProgramCommand
    {
        ProgramCommand() = default;
        ProgramCommand (std::initializer_list<std::string> words)
            : argv (words)
        {
        }
        ProgramCommand (std::vector<std::string> words, std::vector<TrustedFile> trusted = {})
            : argv (std::move (words))
            , files (std::move (trusted))
        {
        }
        bool empty() const noexcept { return argv.empty(); }
        friend bool operator== (const ProgramCommand&, const ProgramCommand&) = default;

        std::vector<std::string> argv;
        std::vector<TrustedFile> files;
    };

    struct EngineSettings
    {
        double sampleRate = 48000.0;
        int maxBlockSize = 512;
        int numChannels = 2;
        double maxLatencySeconds = 1.0; // the largest L this preparation supports
        LuaDspLimits luaLimits {};
        // Not empty: the DSP is this program, run in a process of its own (ExternalProtocol.h),
        // in place of the script. The engine starts it; a program that fails is restarted with a
        // backoff, and restarts stop after a few failures in a row (LatencyEngine::retryProgram).
        ProgramCommand dspProgram;
    };

    enum class Strategy
    {
        deterministic, // fixed L; Lua's automatic collector runs inside the script
        dynamic // the engine schedules the collector; L adapts to measured response times
    };

    // How the dynamic strategy runs the collector and chooses L. Any thread may set it.
    struct DynamicSettings
    {
        SchedulerSettings scheduler {};
        double safetyFactor = 1.5;
        double maxLatencySeconds = 0.1;
        float silenceThreshold = 0.001f; // linear peak; below it the input counts as silent
        bool operator== (const DynamicSettings&) const = default;
    };

    struct EngineCounters
    {
        uint64_t dropoutFrames = 0; // frames played from the dry path because wet was late
        uint64_t dropoutEvents = 0; // audio blocks that had at least one such frame
        uint64_t inputOverflowFrames = 0;
        uint64_t skippedFrames = 0; // stale input the worker skipped after a long stall
        uint64_t unprocessedFrames = 0; // frames of a render that could not be processed (the console says which)
        uint64_t warmUpDryFrames = 0; // frames passed on unprocessed, on time, while the script warmed up after prepare
        uint64_t chunksProcessed = 0;
        uint64_t fullCollections = 0; // all full collections the engine ran (dynamic, or forced by a test)
        uint64_t forcedCollections = 0; // those forced by the heap threshold
        uint64_t incrementalSteps = 0; // basic steps run by the dynamic scheduler
        double collectorSeconds = 0.0; // total time in collector calls made by the engine
        uint64_t adaptiveGrowths = 0, adaptiveShrinks = 0;
        int wantedDynamicLatency = 0;
        uint64_t framesProcessed = 0;
        uint64_t heapBytes = 0;
        double workerLoadPercent = 0.0; // the worker's busy share of wall time over the last ~0.5 s
        int latencySamples = 0;
        bool scriptFailed = false;
        uint64_t dspRestarts = 0; // a DSP program's restarts after it failed
        RuntimeFigures runtime {}; // a DSP program's own collector figures
    };

    // A line for the editor's console: the script's print output, and script events.
    struct ConsoleLine
    {
        enum Kind : int32_t
        {
            print,
            info,
            error
        };
        Kind kind = print;
        char text[252] {};
    };
} // namespace pg
