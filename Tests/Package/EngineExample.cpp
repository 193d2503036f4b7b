// The engine alone: a Lua DSP behind a fixed latency, offline, checked sample by sample.
// Exit code 0 if every output sample is the script's output, L samples late.

#include <LatencyEngine.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

int main()
{
    const char* script = R"lua(
function process(channels, n, params)
    for c = 1, #channels do
        local x = channels[c]
        for i = 1, n do x[i] = 0.5 * x[i] end
    end
end
)lua";
    pg::LatencyEngine engine;
    pg::EngineSettings settings;
    settings.sampleRate = 48000.0;
    settings.maxBlockSize = 256;
    settings.numChannels = 1;
    engine.setOffline (true); // the host renders offline: processBlock waits for the worker
    if (! engine.prepare (settings, script, "half.lua", 1000))
    {
        std::fprintf (stderr, "the script failed: %s\n", engine.getScriptError().c_str());
        return 1;
    }
    const int latency = engine.getLatencySamples();
    std::vector<float> signal (48000);
    for (size_t n = 0; n < signal.size(); ++n)
        signal[n] = static_cast<float> (std::sin (0.01 * static_cast<double> (n)));
    std::vector<float> out = signal;
    for (size_t pos = 0; pos < out.size(); pos += 256)
    {
        float* channels[] = { out.data() + pos };
        engine.processBlock (channels, 1, static_cast<int> (std::min<size_t> (256, out.size() - pos)));
    }
    int wrong = 0;
    for (size_t n = static_cast<size_t> (latency); n < out.size(); ++n)
        wrong += out[n] != 0.5f * signal[n - static_cast<size_t> (latency)] ? 1 : 0;
    std::printf ("latency %d samples, %d wrong samples, %llu dropouts\n", latency, wrong,
                 static_cast<unsigned long long> (engine.getCounters().dropoutEvents));
    return wrong == 0 && engine.getCounters().dropoutEvents == 0 ? 0 : 1;
}
