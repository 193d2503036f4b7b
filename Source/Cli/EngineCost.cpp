#include "EngineCost.h"

#include "DemoSignal.h"
#include "LuaDsp.h"
#include "Profiler.h"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace pauseguard::cli
{
    double poolCpuSeconds()
    {
        namespace fs = std::filesystem;
        std::error_code ec;
        double total = 0.0;
        for (const auto& task : fs::directory_iterator ("/proc/self/task", ec))
        {
            std::string name;
            std::getline (std::ifstream (task.path() / "comm"), name);
            if (name != "pg-pool")
                continue;
            unsigned long long onCpuNanos = 0;
            if (std::ifstream (task.path() / "schedstat") >> onCpuNanos)
                total += static_cast<double> (onCpuNanos) * 1.0e-9;
        }
        return total;
    }

    namespace
    {
        double threadCpuSeconds()
        {
            timespec t {};
            clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t);
            return static_cast<double> (t.tv_sec) + static_cast<double> (t.tv_nsec) * 1.0e-9;
        }
    } // namespace

    size_t residentBytes()
    {
        std::ifstream status ("/proc/self/status");
        for (std::string line; std::getline (status, line);)
            if (line.rfind ("VmRSS:", 0) == 0)
                return static_cast<size_t> (std::stoull (line.substr (6))) * 1024; // "VmRSS:   1234 kB"
        return 0;
    }

    ScriptAlone runScriptAlone (const PauseGuardProcessor& p, double rate, int block, int channels, double seconds)
    {
        ScriptAlone failed;
        const auto& params = p.getParams();
        pg::LuaDsp dsp;
        const auto source = p.getScriptSource().toStdString();
        if (! dsp.load (source, p.getScriptName().toStdString()) || ! dsp.prepare (rate, block, channels))
            return failed;
        const auto push = [&params] (pg::Dsp& d) {
            const auto values = ParameterPush::scriptValues (params);
            for (size_t i = 0; i < values.size(); ++i)
                d.setParameter (ParameterPush::scriptNames()[i], values[i]);
        };
        pg::ProfileRequest warm;
        warm.sampleRate = rate;
        warm.blockSize = warm.chunkFrames = block;
        warm.numChannels = channels;
        const std::atomic<bool> never { false };
        if (! pg::warmUpScript (dsp, warm, push, never) || ! dsp.prepare (rate, block, channels))
            return failed;
        // The deterministic strategy's collector: Lua's own incremental one, at the processor's pacing.
        dsp.setAutomaticCollection (true);
        dsp.setIncrementalPacing (juce::roundToInt (params.gcPausePct.get()), juce::roundToInt (params.gcStepMulPct.get()));

        DemoSignal demo;
        demo.prepare (rate);
        std::vector<std::vector<float>> buffers (static_cast<size_t> (channels), std::vector<float> (static_cast<size_t> (block)));
        std::vector<float*> pointers;
        for (auto& b : buffers)
            pointers.push_back (b.data());
        // Timed in three parts, one after the other: the cheapest is the script's cost (the
        // machine's noise only adds to a part; each holds whole collection cycles at the default
        // workload).
        constexpr int parts = 3;
        const auto blocksPerPart = std::max (1L, static_cast<long> (seconds * rate / block / parts));
        ScriptAlone r;
        for (int part = 0; part < parts; ++part)
        {
            const double start = threadCpuSeconds();
            for (long b = 0; b < blocksPerPart; ++b)
            {
                for (int i = 0; i < block; ++i)
                {
                    const float s = demo.next();
                    for (auto& channel : buffers)
                        channel[static_cast<size_t> (i)] = s;
                }
                push (dsp);
                if (! dsp.process (pointers.data(), channels, block))
                    return failed;
                r.heapPeakBytes = std::max (r.heapPeakBytes, dsp.heapBytes());
            }
            const double audioSeconds = static_cast<double> (blocksPerPart) * block / rate;
            const double percent = 100.0 * (threadCpuSeconds() - start) / audioSeconds;
            r.cpuPercent = part == 0 ? percent : std::min (r.cpuPercent, percent);
        }
        return r;
    }
} // namespace pauseguard::cli
