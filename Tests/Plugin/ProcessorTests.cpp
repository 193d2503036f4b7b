#include "EngineTesting.h"
#include "PluginHarness.h"

#include <catch2/catch.hpp>

using pauseguard::PauseGuardProcessor;
namespace ids = pauseguard::ParamIDs;

namespace
{
    std::function<int()> randomBlocks (int maxBlock, unsigned seed)
    {
        auto rng = std::make_shared<std::mt19937> (seed);
        return [rng, maxBlock] {
            const int pick = std::uniform_int_distribution<int> (0, 9) (*rng);
            return pick == 0 ? 1 : (pick == 1 ? maxBlock : std::uniform_int_distribution<int> (1, maxBlock) (*rng));
        };
    }

    size_t mismatches (const std::vector<std::vector<float>>& expectedUndelayed, const std::vector<std::vector<float>>& out, int latency)
    {
        size_t bad = 0;
        for (size_t c = 0; c < out.size(); ++c)
            for (size_t n = 0; n < out[c].size(); ++n)
                bad += out[c][n] != pgtest::delayedAt (expectedUndelayed[c], n, latency) ? 1u : 0u;
        return bad;
    }

    void prepare (PauseGuardProcessor& p, double rate, int block, int channels)
    {
        const auto set = channels == 1 ? juce::AudioChannelSet::mono() : juce::AudioChannelSet::stereo();
        juce::AudioProcessor::BusesLayout layout;
        layout.inputBuses.add (set);
        layout.outputBuses.add (set);
        REQUIRE (p.setBusesLayout (layout));
        p.prepareToPlay (rate, block);
    }
} // namespace

TEST_CASE ("The processor reports its latency before processing starts", "[plugin]")
{
    PauseGuardProcessor p;
    prepare (p, 48000.0, 256, 2);
    CHECK (p.getLatencySamples() == 960); // the default: 20 ms
    CHECK (p.getEngine().getLatencySamples() == 960);
    CHECK (p.getProgramName (0).isNotEmpty());
    CHECK (p.getName() == "PauseGuard");
}

TEST_CASE ("An instance's own buffers take under 2 MB at 48 kHz, and still hold the largest latency its knobs ask for", "[plugin][memory]")
{
    PauseGuardProcessor p;
    prepare (p, 48000.0, 128, 2);
    // The delay line, the rings, their stamps and the instance's lane of the trace (on in every
    // processor): sized by the knobs' largest latency (500 ms), not a second or more.
    const auto bytes = p.getEngine().getPreparedBytes();
    INFO ("prepared bytes " << bytes);
    CHECK (bytes > 0);
    CHECK (bytes <= size_t (2) << 20);
    const auto largestKnob = std::max (p.getParams().latencyMs.getNormalisableRange().end, p.getParams().maxLatencyMs.getNormalisableRange().end);
    const int largest = juce::roundToInt (largestKnob * 0.001 * 48000.0);
    CHECK (p.getEngine().clampLatency (largest) == largest);
    CHECK (p.getEngine().clampLatency (largest + 1) == largest);
    p.releaseResources();
}

TEST_CASE ("Processor alignment, wet and dry, at three rates, mono and stereo, any block sizes", "[plugin][alignment]")
{
    const double rate = GENERATE (44100.0, 48000.0, 96000.0);
    const int channels = GENERATE (1, 2);
    const int maxBlock = 512;
    PauseGuardProcessor p;
    prepare (p, rate, maxBlock, channels);
    const int latency = p.getLatencySamples();
    REQUIRE (latency == juce::roundToInt (0.020 * rate));
    const auto in = pgtest::noise (channels, static_cast<size_t> (rate / 2), 17);
    INFO ("rate " << rate << " channels " << channels);

    SECTION ("mix 100 %: the built-in effect, delayed by L")
    {
        const auto wet = pgtest::builtinWet (in, rate, 12.0f, 0.5f);
        const auto out = pgtest::runProcessor (p, in, randomBlocks (maxBlock, 3));
        CHECK (mismatches (wet, out, latency) == 0);
    }
    SECTION ("mix 0 %: the dry signal, delayed by L, block size 1 then the maximum")
    {
        pgtest::setParam (p, ids::mix, 0.0f);
        int k = 0;
        const auto out = pgtest::runProcessor (p, in, [&k, maxBlock] { return k++ < 3000 ? 1 : maxBlock; });
        // The mix parameter ramps over the first block; from the second block on, exact.
        size_t bad = 0;
        for (size_t c = 0; c < out.size(); ++c)
            for (size_t n = static_cast<size_t> (latency) + 1; n < out[c].size(); ++n)
                bad += out[c][n] != pgtest::delayedAt (in[c], n, latency) ? 1u : 0u;
        CHECK (bad == 0);
    }
    CHECK (p.getEngine().getCounters().dropoutEvents == 0);
}

TEST_CASE ("Host bypass keeps the latency: the dry signal delayed by L", "[plugin][alignment]")
{
    PauseGuardProcessor p;
    prepare (p, 48000.0, 128, 2);
    const auto in = pgtest::noise (2, 20000, 4);
    juce::MidiBuffer midi;
    auto out = in;
    for (size_t pos = 0; pos < in[0].size(); pos += 128)
    {
        float* ptrs[] = { out[0].data() + pos, out[1].data() + pos };
        juce::AudioBuffer<float> b (ptrs, 2, static_cast<int> (std::min<size_t> (128, in[0].size() - pos)));
        p.processBlockBypassed (b, midi);
        pg::EngineTesting::waitForWorker (p.getEngine(), 10.0);
    }
    size_t bad = 0;
    for (size_t c = 0; c < 2; ++c)
        for (size_t n = 960 + 128; n < out[c].size(); ++n) // after the bypass ramp of the first block
            bad += out[c][n] != pgtest::delayedAt (in[c], n, 960) ? 1u : 0u;
    CHECK (bad == 0);
    CHECK (p.getBypassParameter() != nullptr);
}

TEST_CASE ("Output and Mix automation land at the output stage, in the block they are set, not L later", "[plugin][automation]")
{
    PauseGuardProcessor p;
    prepare (p, 48000.0, 256, 1);
    const int latency = p.getLatencySamples();
    const auto in = pgtest::noise (1, 256 * 80, 19);
    const auto wet = pgtest::builtinWet (in, 48000.0, 12.0f, 0.5f);
    const size_t outputStep = 256 * 20, mixStep = 256 * 50;
    const float gain = juce::Decibels::decibelsToGain (-12.0f);
    const auto out = pgtest::runProcessor (
        p, in, [] { return 256; }, [&] (size_t pos) {
        if (pos == outputStep)
            pgtest::setParam (p, ids::output, -12.0f); // as a host sets a block's automation
        if (pos == mixStep)
            pgtest::setParam (p, ids::mix, 0.0f); });
    size_t wrong = 0;
    for (size_t n = static_cast<size_t> (latency); n < outputStep; ++n)
        wrong += out[0][n] != pgtest::delayedAt (wet[0], n, latency) ? 1u : 0u;
    for (size_t n = outputStep + 256; n < mixStep; ++n) // after the block's ramp
        wrong += out[0][n] != pgtest::delayedAt (wet[0], n, latency) * gain ? 1u : 0u;
    for (size_t n = mixStep + 256; n < out[0].size(); ++n)
        wrong += out[0][n] != pgtest::delayedAt (in[0], n, latency) ? 1u : 0u;
    CHECK (wrong == 0);
}

TEST_CASE ("A latency parameter change is applied from the message thread, then impulses come out at the new L", "[plugin][latency]")
{
    PauseGuardProcessor p;
    prepare (p, 48000.0, 128, 1);
    REQUIRE (p.getLatencySamples() == 960);

    pgtest::setParam (p, ids::latencyMs, 50.0f);
    CHECK (p.getLatencySamples() == 960); // nothing changes until the message thread applies it
    REQUIRE (p.applyPendingLatencyChange());
    CHECK (p.getLatencySamples() == 2400);
    CHECK_FALSE (p.applyPendingLatencyChange()); // applied once

    pgtest::setParam (p, ids::mix, 0.0f);
    std::vector<std::vector<float>> in (1, std::vector<float> (20000, 0.0f));
    in[0][5000] = 1.0f;
    in[0][12345] = -1.0f;
    const auto out = pgtest::runProcessor (p, in, [] { return 128; });
    for (size_t n = 200; n < out[0].size(); ++n)
    {
        const float expected = n == 7400 ? 1.0f : (n == 14745 ? -1.0f : 0.0f);
        if (out[0][n] != expected)
            FAIL ("sample " << n << " is " << out[0][n]);
    }

    SECTION ("auto latency takes the profiled figure")
    {
        p.setAutoLatencyLearningSeconds (0.0); // (its wait for measurements: HostLatencyTests.cpp)
        pgtest::setParam (p, ids::autoLatency, 1.0f);
        p.applyPendingLatencyChange(); // starts the profile, in the background
        REQUIRE (p.getEngine().waitForProfile (30.0));
        // No block is processed from here on, so the measured latency no longer moves.
        const int measured = p.getEngine().getMeasuredLatency();
        p.applyPendingLatencyChange(); // applies it
        const auto profile = p.getEngine().getProfile();
        // The profile's figure, raised to what the responses at real-time pace needed (a loaded
        // machine's blocks above may have needed more).
        CHECK (p.getLatencySamples() == p.getEngine().clampLatency (std::max (profile.latencySamples, measured)));
        CHECK (p.getLatencySamples() >= profile.latencySamples);
        CHECK (p.getLatencySamples() >= 480); // at least 10 ms
    }
}

TEST_CASE ("Processor: sample-rate change between prepares, and blocks larger than prepared", "[plugin][robustness]")
{
    PauseGuardProcessor p;
    prepare (p, 44100.0, 64, 2);
    prepare (p, 96000.0, 1024, 2);
    CHECK (p.getLatencySamples() == 1920);
    p.releaseResources();
    prepare (p, 48000.0, 64, 2);
    pgtest::setParam (p, ids::mix, 0.0f);
    const auto in = pgtest::noise (2, 10000, 6);
    const auto out = pgtest::runProcessor (p, in, [] { return 700; }); // larger than prepared: split
    size_t bad = 0;
    for (size_t c = 0; c < 2; ++c)
        for (size_t n = 960 + 64; n < out[c].size(); ++n)
            bad += out[c][n] != pgtest::delayedAt (in[c], n, 960) ? 1u : 0u;
    CHECK (bad == 0);
}

TEST_CASE ("A strategy switch on a running sine makes no jump larger than the signal's own step", "[plugin][dynamic]")
{
    PauseGuardProcessor p;
    prepare (p, 48000.0, 128, 1);
    REQUIRE (p.getLatencySamples() == 960);
    std::vector<std::vector<float>> in (1, std::vector<float> (48000 * 3));
    for (size_t n = 0; n < in[0].size(); ++n)
        in[0][n] = 0.5f * static_cast<float> (std::sin (2.0 * 3.141592653589793 * 220.0 * static_cast<double> (n) / 48000.0));

    const size_t switchAt = 48000, switchBack = 48000 * 2;
    int latencyAfterSwitch = 0;
    const auto out = pgtest::runProcessor (
        p, in, [] { return 128; }, [&] (size_t pos) {
        if (pos == switchAt || pos == switchBack)
            pgtest::setParam (p, ids::strategy, pos == switchAt ? 1.0f : 0.0f);
        p.applyPendingLatencyChange(); // the message thread's timer, here once per block
        if (pos == switchAt)
            REQUIRE (p.getEngine().waitForProfile (30.0)); // the dynamic start, profiled in the background
        if (pos > switchAt && pos < switchBack)
            latencyAfterSwitch = p.getLatencySamples(); });
    CHECK (latencyAfterSwitch != 960); // the switch did change L
    CHECK (p.getLatencySamples() == 960);
    const auto history = p.getLatencyHistory();
    REQUIRE (history.size() >= 3);
    CHECK (history.back().reason == pauseguard::LatencyChange::Reason::strategySwitch);

    // The output's own largest step in steady state, before the switch...
    float ownStep = 0.0f;
    for (size_t n = 2000; n < switchAt; ++n)
        ownStep = std::max (ownStep, std::abs (out[0][n] - out[0][n - 1]));
    // ...bounds every step afterwards, through both switches and their crossfades.
    float worst = 0.0f;
    for (size_t n = switchAt; n < out[0].size(); ++n)
        worst = std::max (worst, std::abs (out[0][n] - out[0][n - 1]));
    INFO ("own step " << ownStep << ", worst step " << worst << ", L after switch " << latencyAfterSwitch);
    CHECK (worst <= ownStep * 1.001f);
    CHECK (p.getEngine().getCounters().dropoutEvents == 0);
}
