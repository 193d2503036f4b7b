#include "EngineCost.h"

#include "DemoSignal.h"
#include "LuaDsp.h"
#include "Profiler.h"
#include "WorkerPool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#endif

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

    double medianOf (std::vector<double> v)
    {
        std::sort (v.begin(), v.end());
        return v.empty() ? 0.0 : v[v.size() / 2];
    }

    ScriptsAlone::ScriptsAlone (const PauseGuardProcessor& p, double rate, int block, int channels, int copies)
        : params (p.getParams())
        , sampleRate (rate)
        , blockSize (block)
        , numChannels (channels)
    {
        const auto source = p.getScriptSource().toStdString();
        pg::ProfileRequest warm;
        warm.sampleRate = rate;
        warm.blockSize = warm.chunkFrames = block;
        warm.numChannels = channels;
        const std::atomic<bool> never { false };
        const auto pushParameters = [this] (pg::Dsp& d) { push (d); };
        for (int k = 0; k < std::max (1, copies); ++k)
        {
            auto& dsp = *scripts.emplace_back (std::make_unique<pg::LuaDsp>());
            const bool loaded = dsp.load (source, p.getScriptName().toStdString()) && dsp.prepare (rate, block, channels);
            if (! loaded || ! pg::warmUpScript (dsp, warm, pushParameters, never) || ! dsp.prepare (rate, block, channels))
            {
                scripts.clear();
                return;
            }
            // The deterministic strategy's collector: Lua's own incremental one, at the processor's pacing.
            dsp.setAutomaticCollection (true);
            dsp.setIncrementalPacing (juce::roundToInt (params.gcPausePct.get()), juce::roundToInt (params.gcStepMulPct.get()));
            dsp.fullCollection(); // as the loader leaves a warmed script
        }
        // The input, made ahead (its sines are the host's work, not the script's): the demo
        // signal's first ten seconds, played in a loop.
        DemoSignal demo;
        demo.prepare (rate);
        input.resize (static_cast<size_t> (10.0 * rate) / static_cast<size_t> (block) * static_cast<size_t> (block));
        for (auto& x : input)
            x = demo.next();
    }

    ScriptsAlone::~ScriptsAlone() = default;

    void ScriptsAlone::push (pg::Dsp& d) const
    {
        const auto values = ParameterPush::scriptValues (params);
        for (size_t i = 0; i < values.size(); ++i)
            d.setParameter (ParameterPush::scriptNames()[i], values[i]);
    }

    ScriptAlone ScriptsAlone::run (double seconds, Pace pace)
    {
        if (pace != Pace::paced)
            return runHere (seconds, pace);
        ScriptAlone r;
        std::thread paced ([&] {
#if defined(__linux__)
            pthread_setname_np (pthread_self(), "pg-paced-alone");
#endif
            pg::WorkerPool::enterPoolThreadSettings();
            r = runHere (seconds, pace);
        });
        paced.join();
        return r;
    }

    ScriptAlone ScriptsAlone::runHere (double seconds, Pace pace)
    {
        ScriptAlone failed;
        if (scripts.empty())
            return failed;
        std::vector<std::vector<float>> buffers (static_cast<size_t> (numChannels), std::vector<float> (static_cast<size_t> (blockSize)));
        std::vector<float*> pointers;
        for (auto& b : buffers)
            pointers.push_back (b.data());
        // Timed in three parts, one after the other: the cheapest is the script's cost (the
        // machine's noise only adds to a part; each holds whole collection cycles at the default
        // workload).
        constexpr int parts = 3;
        const auto blocksPerPart = std::max (1L, static_cast<long> (seconds * sampleRate / blockSize / parts));
        const double blockSeconds = blockSize / sampleRate * static_cast<double> (scripts.size()); // one block of every script
        ScriptAlone r;
        double cpuSeconds = 0.0, audioSeconds = 0.0;
        const bool wallClock = pace != Pace::tightLoop;
        const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration> (std::chrono::duration<double> (blockSize / sampleRate));
        for (int part = 0; part < parts; ++part)
        {
            const double start = threadCpuSeconds();
            const auto partStart = std::chrono::steady_clock::now();
            const auto wallEnd = partStart + std::chrono::duration<double> (seconds / parts);
            long b = 0;
            const auto more = [&] {
                if (pace == Pace::paced)
                    return partStart + b * period < wallEnd; // (the blocks whose period starts in the part)
                return wallClock ? std::chrono::steady_clock::now() < wallEnd : b < blocksPerPart;
            };
            for (; more(); ++b)
            {
                if (pace == Pace::paced)
                    std::this_thread::sleep_until (partStart + b * period); // (steady clock: an absolute nanosleep)
                const auto from = input.begin() + static_cast<std::ptrdiff_t> (inputPos);
                inputPos = (inputPos + static_cast<size_t> (blockSize)) % input.size();
                for (auto& dsp : scripts) // each on the same input, one after the other, as a host calls its plugins
                {
                    for (auto& channel : buffers)
                        std::copy (from, from + blockSize, channel.begin());
                    push (*dsp);
                    if (! dsp->process (pointers.data(), numChannels, blockSize))
                        return failed;
                    r.heapPeakBytes = std::max (r.heapPeakBytes, dsp->heapBytes());
                }
            }
            const double took = threadCpuSeconds() - start, audio = static_cast<double> (b) * blockSeconds;
            cpuSeconds += took;
            audioSeconds += audio;
            r.cpuPercent = part == 0 ? 100.0 * took / audio : std::min (r.cpuPercent, 100.0 * took / audio);
        }
        r.meanCpuPercent = 100.0 * cpuSeconds / audioSeconds;
        r.audioSeconds = audioSeconds / static_cast<double> (scripts.size());
        return r;
    }

    ScriptAlone runScriptAlone (const PauseGuardProcessor& p, double rate, int block, int channels, double seconds)
    {
        return ScriptsAlone (p, rate, block, channels, 1).run (seconds);
    }
} // namespace pauseguard::cli
