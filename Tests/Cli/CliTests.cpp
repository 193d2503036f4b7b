#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <juce_audio_formats/juce_audio_formats.h>
#include <juce_events/juce_events.h>

namespace
{
    struct Result
    {
        int exitCode = -1;
        juce::String output; // stdout and stderr
    };

    Result runCli (const juce::StringArray& args, int timeoutMs = 120000)
    {
        juce::StringArray command { PAUSEGUARD_CLI };
        command.addArray (args);
        juce::ChildProcess process;
        Result r;
        if (! process.start (command, juce::ChildProcess::wantStdOut | juce::ChildProcess::wantStdErr))
            return r;
        r.output = process.readAllProcessOutput();
        if (process.waitForProcessToFinish (timeoutMs))
            r.exitCode = static_cast<int> (process.getExitCode());
        return r;
    }

    juce::var jsonOf (const juce::String& text)
    {
        // The JSON object is the part from the first '{' to the last '}'.
        return juce::JSON::parse (text.substring (text.indexOfChar ('{'), text.lastIndexOfChar ('}') + 1));
    }

    juce::File outputDir() { return juce::File (PAUSEGUARD_TEST_OUTPUT_DIR); }

    // A 48 kHz WAV file of silence with 0.8 at impulseAt in every channel.
    bool writeImpulse (const juce::File& file, int channels, int frames, int impulseAt, int bits)
    {
        juce::AudioBuffer<float> b (channels, frames);
        b.clear();
        for (int c = 0; c < channels; ++c)
            b.setSample (c, impulseAt, 0.8f);
        file.deleteFile();
        auto stream = file.createOutputStream();
        if (stream == nullptr)
            return false;
        juce::WavAudioFormat wav;
        std::unique_ptr<juce::AudioFormatWriter> writer (
            wav.createWriterFor (stream.get(), 48000.0, static_cast<unsigned int> (channels), bits, {}, 0));
        if (writer == nullptr)
            return false;
        stream.release();
        return writer->writeFromAudioSampleBuffer (b, 0, frames);
    }

    void checkHistogram (const juce::var& j, const char* name)
    {
        INFO (name);
        const auto h = j[name];
        REQUIRE (h.isObject());
        for (const char* key : { "p50", "p99", "p999", "max", "count" })
        {
            INFO (key);
            CHECK (h.hasProperty (key));
        }
        CHECK (static_cast<double> (h["p50"]) <= static_cast<double> (h["p99"]));
        CHECK (static_cast<double> (h["p99"]) <= static_cast<double> (h["max"]) + 1.0e-9);
    }
} // namespace

int main (int argc, char* argv[])
{
    juce::ScopedJuceInitialiser_GUI juce;
    return Catch::Session().run (argc, argv);
}

TEST_CASE ("Bad arguments get a clear message and a non-zero exit", "[cli]")
{
    struct Case
    {
        juce::StringArray args;
        const char* message;
    };
    const Case cases[] = {
        { {}, "no command" },
        { { "frobnicate" }, "unknown command 'frobnicate'" },
        { { "soak", "--block", "many" }, "--block needs a number, not 'many'" },
        { { "soak", "--rate", "1" }, "--rate must be between" },
        { { "soak", "--strategy", "fast" }, "--strategy is dynamic or deterministic" },
        { { "soak", "--seconds" }, "--seconds needs a value" },
        { { "soak", "--volume", "11" }, "unknown option '--volume'" },
        { { "render", "only-one.wav" }, "render needs IN.wav and OUT.wav" },
        { { "render", "/nonexistent/in.wav", "out.wav" }, "cannot read '/nonexistent/in.wav': no such file" },
        { { "soak", "--script", "/nonexistent/effect.lua" }, "cannot read the script '/nonexistent/effect.lua'" },
        { { "soak", "--instances", "0" }, "--instances must be between 1 and 256" },
        { { "soak", "--workers", "many" }, "--workers needs a number, not 'many'" },
    };
    for (const auto& c : cases)
    {
        const auto r = runCli (c.args);
        INFO (c.args.joinIntoString (" ") << " -> " << r.output);
        CHECK (r.exitCode == 2);
        CHECK (r.output.contains (c.message));
    }
    const auto help = runCli ({ "--help" });
    CHECK (help.exitCode == 0);
    CHECK (help.output.contains ("usage: pauseguard"));
}

TEST_CASE ("A short soak prints one JSON object with the documented fields", "[cli]")
{
    const auto r = runCli ({ "soak", "--seconds", "3", "--strategy", "dynamic", "--json" });
    REQUIRE (r.exitCode == 0);
    const auto j = jsonOf (r.output);
    REQUIRE (j.isObject());
    for (const char* key : { "strategy", "sample_rate", "block", "seconds", "reported_latency_samples", "max_reported_latency_samples",
                             "latency_changes", "dropouts", "dropouts_after_warmup", "deadline_misses", "collections" })
    {
        INFO (key);
        CHECK (j.hasProperty (key));
    }
    CHECK (j["strategy"].toString() == "dynamic");
    CHECK (static_cast<double> (j["sample_rate"]) == 48000.0);
    CHECK (static_cast<int> (j["block"]) == 128);
    CHECK (static_cast<int> (j["reported_latency_samples"]) >= 128);
    checkHistogram (j, "pause_ms");
    checkHistogram (j, "lateness_ms");
    checkHistogram (j, "processing_ms");
    CHECK (static_cast<int> (j["processing_ms"]["count"]) > 100); // the worker really ran
}

TEST_CASE ("soak --instances: totals, a line per instance, the pool and the floor", "[cli]")
{
    const auto r = runCli ({ "soak", "--instances", "3", "--seconds", "2", "--workers", "3", "--json" });
    REQUIRE (r.exitCode == 0);
    const auto j = jsonOf (r.output);
    REQUIRE (j.isObject());
    for (const char* key : { "instances", "dropouts", "dropouts_warmup", "dropouts_after_warmup", "instances_without_dropouts",
                             "deadline_misses", "workers", "worker_load_percent_mean", "worker_load_percent_max", "floor_samples" })
    {
        INFO (key);
        CHECK (j.hasProperty (key));
    }
    CHECK (static_cast<int> (j["instances"]) == 3);
    CHECK (static_cast<int> (j["workers"]) == 3); // --workers sized the pool
    REQUIRE (j["per_instance"].isArray());
    CHECK (j["per_instance"].size() == 3);
    int64_t sum = 0;
    for (const auto& instance : *j["per_instance"].getArray())
        sum += static_cast<juce::int64> (instance["dropouts"]);
    CHECK (sum == static_cast<juce::int64> (j["dropouts"]));
    CHECK (static_cast<int> (j["floor_samples"]) > 128); // a block and what the machine adds
    checkHistogram (j, "callback_ms");
    checkHistogram (j, "bare_response_ms");
    CHECK (static_cast<int> (j["bare_response_ms"]["count"]) > 100);
}

TEST_CASE ("profile --json reports the auto latency", "[cli]")
{
    const auto r = runCli ({ "profile", "--live-heap-mb", "8", "--json" });
    REQUIRE (r.exitCode == 0);
    const auto j = jsonOf (r.output);
    CHECK (static_cast<int> (j["auto_latency_samples"]) >= 480);
    CHECK (static_cast<double> (j["heap_mb"]) > 8.0);
    CHECK (static_cast<double> (j["profile_ms"]) < 500.0);
}

TEST_CASE ("render processes a WAV file, aligned with its input, with a report", "[cli]")
{
    const auto in = outputDir().getChildFile ("render-in.wav"), out = outputDir().getChildFile ("render-out.wav"),
               report = outputDir().getChildFile ("render-report.json");
    const int frames = 48000, impulseAt = 12345;
    REQUIRE (writeImpulse (in, 2, frames, impulseAt, 24));
    const auto r = runCli ({ "render", in.getFullPathName(), out.getFullPathName(), "--latency-ms", "10", "--report", report.getFullPathName() });
    INFO (r.output);
    REQUIRE (r.exitCode == 0);

    juce::AudioFormatManager formats;
    formats.registerBasicFormats();
    std::unique_ptr<juce::AudioFormatReader> reader (formats.createReaderFor (out));
    REQUIRE (reader != nullptr);
    CHECK (reader->lengthInSamples == frames);
    juce::AudioBuffer<float> b (2, frames);
    reader->read (&b, 0, frames, 0, true, true);
    int peakAt = 0;
    for (int i = 0; i < frames; ++i)
        if (std::abs (b.getSample (0, i)) > std::abs (b.getSample (0, peakAt)))
            peakAt = i;
    CHECK (std::abs (peakAt - impulseAt) <= 2); // compensated: the effect's answer starts where the impulse was
    CHECK (std::abs (b.getSample (0, impulseAt - 5)) < 1.0e-4f);

    const auto j = juce::JSON::parse (report.loadFileAsString());
    REQUIRE (j.isObject());
    CHECK (static_cast<int> (j["dropouts"]) == 0);
    CHECK (static_cast<int> (j["reported_latency_samples"]) == 480);
}

TEST_CASE ("bench reports its ratios", "[cli]")
{
    const auto r = runCli ({ "bench", "--seconds", "1", "--rounds", "3", "--json" });
    REQUIRE (r.exitCode == 0);
    const auto j = jsonOf (r.output);
    for (const char* key : { "audio_thread_ns_per_block", "memcpy_ns_per_block", "ratio_vs_memcpy", "gc_schedule_overhead_pct" })
    {
        INFO (key);
        CHECK (j.hasProperty (key));
    }
    CHECK (static_cast<double> (j["audio_thread_ns_per_block"]) > 0.0);
}

TEST_CASE ("cost alternates the engine and the script alone, and reports the median of the rounds' ratios", "[cli]")
{
    const auto r = runCli ({ "cost", "--instances", "2", "--seconds", "1", "--rounds", "3", "--json" });
    REQUIRE (r.exitCode == 0);
    const auto j = jsonOf (r.output);
    const double engine = j["pool_cpu_percent_per_instance_median"], alone = j["script_alone_cpu_percent_median"];
    const double median = j["engine_cost_ratio_median"], least = j["engine_cost_ratio_min"], most = j["engine_cost_ratio_max"];
    CHECK (static_cast<int> (j["rounds"]) == 3);
    CHECK (engine > 0.0);
    CHECK (alone > 0.0);
    CHECK (least <= median);
    CHECK (median <= most);
    CHECK (least > 0.0);
    CHECK (static_cast<double> (j["scripts_in_turn_cpu_percent_median"]) > 0.0);
    CHECK (static_cast<double> (j["engine_cost_ratio_vs_scripts_in_turn_median"]) > 0.0);
    CHECK (static_cast<double> (j["scripts_paced_cpu_percent_median"]) > 0.0);
    CHECK (static_cast<double> (j["engine_cost_ratio_vs_scripts_paced_median"]) > 0.0);
    // Paced, the scripts run at real-time pace: a quarter of the round's 1 s before it and one
    // after hold 0.5 s of audio, never more (a block starts at its period; as fast as they go,
    // they would process many seconds), and not much less on this quiet a load.
    const double pacedAudio = j["scripts_paced_audio_seconds_per_round_median"];
    CHECK (pacedAudio <= 0.5 + 6 * 128 / 48000.0);
    CHECK (pacedAudio > 0.25);
    const auto text = runCli ({ "cost", "--seconds", "1", "--rounds", "2" });
    REQUIRE (text.exitCode == 0);
    CHECK (text.output.contains ("round  2: pool CPU per instance"));
    CHECK (text.output.contains ("engine cost: median"));
    CHECK (text.output.contains ("them paced"));
    CHECK (runCli ({ "cost", "--process", "true" }).exitCode == 2);
}

TEST_CASE ("The CLI with --process: soak runs a DSP program and --json adds its runtime's own figures; render is exact", "[cli][external]")
{
    const juce::String go = juce::String (PAUSEGUARD_GO_EXAMPLE) + " -live-heap-mb 4";
    const auto r = runCli ({ "soak", "--process", go, "--seconds", "2", "--strategy", "dynamic", "--json" });
    INFO (r.output);
    REQUIRE (r.exitCode == 0);
    const auto j = jsonOf (r.output);
    const auto runtime = j["runtime"];
    REQUIRE (runtime.isObject());
    CHECK (static_cast<double> (runtime["heap_mb"]) >= 4.0);
    CHECK (static_cast<int> (runtime["collections"]) > 0);
    const auto pauses = runtime["gc_pause_ms"]; // the runtime's own histogram: p50, p99, max
    CHECK (static_cast<int> (pauses["count"]) > 0);
    CHECK (static_cast<double> (pauses["p50"]) <= static_cast<double> (pauses["p99"]));
    CHECK (static_cast<double> (pauses["p99"]) <= static_cast<double> (pauses["max"]));
    CHECK (static_cast<int> (j["dsp_restarts"]) == 0);

    // An impulse through y = 0.5 x + 0.25 x[n-1], offline and compensated: 0.4 at k, 0.2 at k + 1.
    const auto in = outputDir().getChildFile ("render-go-in.wav"), out = outputDir().getChildFile ("render-go-out.wav");
    const int frames = 24000, impulseAt = 7777;
    REQUIRE (writeImpulse (in, 1, frames, impulseAt, 32));
    const auto rendered = runCli ({ "render", in.getFullPathName(), out.getFullPathName(), "--process", go, "--block", "1000" });
    INFO (rendered.output);
    REQUIRE (rendered.exitCode == 0);
    CHECK (rendered.output.contains ("through pauseguard-example-go"));
    juce::AudioFormatManager formats;
    formats.registerBasicFormats();
    std::unique_ptr<juce::AudioFormatReader> reader (formats.createReaderFor (out));
    REQUIRE (reader != nullptr);
    juce::AudioBuffer<float> b (1, frames);
    reader->read (&b, 0, frames, 0, true, false);
    CHECK (b.getSample (0, impulseAt) == Approx (0.4f).margin (1.0e-6)); // (the WAV's 32-bit integers)
    CHECK (b.getSample (0, impulseAt + 1) == Approx (0.2f).margin (1.0e-6));
    CHECK (b.getSample (0, impulseAt - 1) == 0.0f);
    CHECK (b.getSample (0, impulseAt + 2) == 0.0f);
}

TEST_CASE ("The CLI with --process: a program that cannot start, or with --script, gets a clear message", "[cli][external]")
{
    const auto both = runCli ({ "soak", "--process", "x", "--script", "y.lua" });
    CHECK (both.exitCode == 2);
    CHECK (both.output.contains ("--script and --process each choose the DSP: give one"));
    const auto missing = runCli ({ "soak", "--process", "/nonexistent/dsp", "--seconds", "1" });
    CHECK (missing.output.contains ("cannot run '/nonexistent/dsp': /nonexistent/dsp is not a file"));
}

TEST_CASE ("The CLI's --param sets a plugin parameter (a program's knob); --process finds a bare name as a shell would", "[cli][external]")
{
    const auto unknown = runCli ({ "soak", "--param", "nope=1", "--seconds", "1" });
    CHECK (unknown.exitCode == 2);
    CHECK (unknown.output.contains ("--param: the plugin has no parameter 'nope'"));

    // The Go example by its bare name, found on PATH; its output at -20 dB: 0.04 and 0.02.
    const auto folder = juce::File (PAUSEGUARD_GO_EXAMPLE).getParentDirectory().getFullPathName();
    const auto path = juce::SystemStats::getEnvironmentVariable ("PATH", {});
    setenv ("PATH", (folder + ":" + path).toRawUTF8(), 1);
    const auto in = outputDir().getChildFile ("param-in.wav"), out = outputDir().getChildFile ("param-out.wav");
    const int frames = 12000, impulseAt = 3333;
    REQUIRE (writeImpulse (in, 1, frames, impulseAt, 32));
    const auto rendered = runCli ({ "render", in.getFullPathName(), out.getFullPathName(), "--process",
                                    "pauseguard-example-go -live-heap-mb 1", "--param", "output_db=-20" });
    setenv ("PATH", path.toRawUTF8(), 1);
    INFO (rendered.output);
    REQUIRE (rendered.exitCode == 0);
    juce::AudioFormatManager formats;
    formats.registerBasicFormats();
    std::unique_ptr<juce::AudioFormatReader> reader (formats.createReaderFor (out));
    REQUIRE (reader != nullptr);
    juce::AudioBuffer<float> b (1, frames);
    reader->read (&b, 0, frames, 0, true, false);
    CHECK (b.getSample (0, impulseAt) == Approx (0.04f).margin (1.0e-5));
    CHECK (b.getSample (0, impulseAt + 1) == Approx (0.02f).margin (1.0e-5));
}

TEST_CASE ("render --block up to 1,048,576: the same output, at the latency playback reports", "[cli][render]")
{
    // 23 s of stereo noise: more than one block of 1,048,576 frames.
    const int frames = 1100000;
    const auto in = outputDir().getChildFile ("render-blocks-in.wav");
    {
        juce::AudioBuffer<float> b (2, frames);
        juce::Random random (7);
        for (int c = 0; c < 2; ++c)
            for (int i = 0; i < frames; ++i)
                b.setSample (c, i, random.nextFloat() - 0.5f);
        in.deleteFile();
        auto stream = in.createOutputStream();
        REQUIRE (stream != nullptr);
        juce::WavAudioFormat wav;
        std::unique_ptr<juce::AudioFormatWriter> writer (wav.createWriterFor (stream.get(), 48000.0, 2, 24, {}, 0));
        REQUIRE (writer != nullptr);
        stream.release();
        REQUIRE (writer->writeFromAudioSampleBuffer (b, 0, frames));
    }
    const auto render = [&in] (int block) {
        const auto out = outputDir().getChildFile ("render-blocks-" + juce::String (block) + ".wav");
        const auto report = outputDir().getChildFile ("render-blocks-" + juce::String (block) + ".json");
        const auto r = runCli ({ "render", in.getFullPathName(), out.getFullPathName(), "--block", juce::String (block),
                                 "--report", report.getFullPathName() });
        INFO ("--block " << block << ": " << r.output);
        REQUIRE (r.exitCode == 0);
        const auto j = juce::JSON::parse (report.loadFileAsString());
        CHECK (static_cast<int> (j["dropouts"]) == 0);
        CHECK (static_cast<int> (j["reported_latency_samples"]) == 960); // the default 20 ms, as playback at 128
        juce::AudioFormatManager formats;
        formats.registerBasicFormats();
        std::unique_ptr<juce::AudioFormatReader> reader (formats.createReaderFor (out));
        REQUIRE (reader != nullptr);
        juce::AudioBuffer<float> b (2, frames);
        reader->read (&b, 0, frames, 0, true, true);
        return b;
    };
    const auto reference = render (128);
    for (const int block : { 8192, 1048576 })
    {
        const auto b = render (block);
        int differing = 0;
        for (int c = 0; c < 2; ++c)
            for (int i = 0; i < frames; ++i)
                differing += b.getSample (c, i) != reference.getSample (c, i) ? 1 : 0;
        INFO ("--block " << block);
        CHECK (differing == 0);
    }
    CHECK (runCli ({ "render", in.getFullPathName(), "x.wav", "--block", "1048577" }).exitCode != 0);
    CHECK (runCli ({ "soak", "--block", "16384" }).exitCode != 0); // real time: at most 8192
}
