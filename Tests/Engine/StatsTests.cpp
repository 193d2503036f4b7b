#include "EngineTesting.h"
#include "EngineHarness.h"
#include "Stats.h"
#include "StatsExport.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

using pg::DurationHistogram;

namespace
{
    // Exact percentile with the histogram's definition: the value of rank ceil(q n), 1-based.
    double exactPercentile (const std::vector<double>& sorted, double q)
    {
        const auto rank = std::max<size_t> (1, static_cast<size_t> (std::ceil (q * static_cast<double> (sorted.size()))));
        return sorted[rank - 1];
    }

    // Fills a histogram with xs and checks count, max and p50/p99/p99.9 against the exact values:
    // never below, and above by at most the width of the bin that holds the exact value.
    void checkAgainstExact (std::vector<double> xs, const char* name)
    {
        DurationHistogram h;
        double sum = 0.0;
        for (double x : xs)
        {
            h.add (x);
            sum += x;
        }
        std::sort (xs.begin(), xs.end());
        const auto s = h.snapshot();
        CHECK (s.count == xs.size());
        CHECK (s.maxSeconds == xs.back());
        CHECK (s.sumSeconds == Approx (sum).epsilon (1e-12));
        for (double q : { 0.5, 0.99, 0.999 })
        {
            const double exact = exactPercentile (xs, q);
            const double est = s.percentile (q);
            const int bin = DurationHistogram::binFor (exact);
            const double width = DurationHistogram::binUpperEdge (bin) - DurationHistogram::binLowerEdge (bin);
            INFO (name << " q " << q << ": exact " << exact * 1e3 << " ms, from the bins " << est * 1e3 << " ms");
            CHECK (est >= exact);
            CHECK (est - exact <= width);
            CHECK (std::abs (DurationHistogram::binFor (est * 0.9999999) - bin) <= 1);
        }
        CHECK (s.percentile (1.0) == xs.back());
    }

    void checkSameFigures (const pg::StatsReport& a, const pg::StatsReport& b)
    {
        CHECK (a.sampleRate == b.sampleRate);
        CHECK (a.blockSize == b.blockSize);
        CHECK (a.latencySamples == b.latencySamples);
        const auto& x = a.counters;
        const auto& y = b.counters;
        CHECK (x.chunksProcessed == y.chunksProcessed);
        CHECK (x.framesProcessed == y.framesProcessed);
        CHECK (x.fullCollections == y.fullCollections);
        CHECK (x.forcedCollections == y.forcedCollections);
        CHECK (x.incrementalSteps == y.incrementalSteps);
        CHECK (x.collectorSeconds == y.collectorSeconds);
        CHECK (x.dropoutEvents == y.dropoutEvents);
        CHECK (x.dropoutFrames == y.dropoutFrames);
        CHECK (x.inputOverflowFrames == y.inputOverflowFrames);
        CHECK (x.skippedFrames == y.skippedFrames);
        CHECK (x.heapBytes == y.heapBytes);
        CHECK (x.workerLoadPercent == y.workerLoadPercent);
        CHECK (x.adaptiveGrowths == y.adaptiveGrowths);
        CHECK (x.adaptiveShrinks == y.adaptiveShrinks);
        CHECK (x.wantedDynamicLatency == y.wantedDynamicLatency);
        CHECK (x.latencySamples == y.latencySamples);
        CHECK (x.scriptFailed == y.scriptFailed);
        for (size_t h = 0; h < a.histograms.size(); ++h)
        {
            INFO ("histogram " << pg::StatsReport::histogramName (static_cast<int> (h)));
            CHECK (a.histograms[h].bins == b.histograms[h].bins);
            CHECK (a.histograms[h].count == b.histograms[h].count);
            CHECK (a.histograms[h].maxSeconds == b.histograms[h].maxSeconds);
            CHECK (a.histograms[h].sumSeconds == b.histograms[h].sumSeconds);
            for (double q : { 0.5, 0.99, 0.999 })
                CHECK (a.histograms[h].percentile (q) == b.histograms[h].percentile (q));
        }
    }

    // The value of `key` in the CSV's key,value table.
    std::string csvValue (const std::string& csv, const std::string& key)
    {
        const auto at = csv.find ("\n" + key + ",");
        if (at == std::string::npos)
            return {};
        const auto start = at + key.size() + 2;
        return csv.substr (start, csv.find ('\n', start) - start);
    }
} // namespace

TEST_CASE ("DurationHistogram: log bins from 10 us to 1 s, 12 per decade", "[engine][stats]")
{
    STATIC_REQUIRE (DurationHistogram::binsPerDecade >= 8);
    STATIC_REQUIRE (DurationHistogram::numBins == DurationHistogram::binsPerDecade * 5 + 2);
    CHECK (DurationHistogram::binFor (0.0) == 0);
    CHECK (DurationHistogram::binFor (9.99e-6) == 0);
    CHECK (DurationHistogram::binFor (std::nan ("")) == 0);
    CHECK (DurationHistogram::binFor (10.0e-6) == 1);
    CHECK (DurationHistogram::binFor (0.999) == DurationHistogram::numBins - 2);
    CHECK (DurationHistogram::binFor (1.0) == DurationHistogram::numBins - 1);
    CHECK (DurationHistogram::binFor (30.0) == DurationHistogram::numBins - 1);
    CHECK (DurationHistogram::binUpperEdge (DurationHistogram::numBins - 2) == Approx (1.0));
    for (int b = 1; b < DurationHistogram::numBins - 1; ++b)
    {
        const double lo = DurationHistogram::binLowerEdge (b), hi = DurationHistogram::binUpperEdge (b);
        CHECK (hi / lo == Approx (std::pow (10.0, 1.0 / 12.0)));
        CHECK (DurationHistogram::binFor (lo * 1.000001) == b);
        CHECK (DurationHistogram::binFor (std::sqrt (lo * hi)) == b);
        CHECK (DurationHistogram::binFor (hi * 0.999999) == b);
    }
    const auto empty = DurationHistogram().snapshot();
    CHECK (empty.count == 0);
    CHECK (empty.percentile (0.99) == 0.0);
}

TEST_CASE ("DurationHistogram percentiles are within one bin of the exact value", "[engine][stats]")
{
    std::mt19937 rng (7);
    const size_t n = 100000;
    std::vector<double> xs (n);

    SECTION ("uniform, 0 to 20 ms")
    {
        std::uniform_real_distribution<double> d (0.0, 0.020);
        std::generate (xs.begin(), xs.end(), [&] { return d (rng); });
        checkAgainstExact (xs, "uniform");
    }
    SECTION ("log-normal around 2 ms")
    {
        std::lognormal_distribution<double> d (std::log (2.0e-3), 0.8);
        std::generate (xs.begin(), xs.end(), [&] { return d (rng); });
        checkAgainstExact (xs, "log-normal");
    }
    SECTION ("heavy tail: Pareto from 50 us, alpha 1.1 (a few pauses past 1 s)")
    {
        std::uniform_real_distribution<double> u (0.0, 1.0);
        std::generate (xs.begin(), xs.end(), [&] { return 50.0e-6 / std::pow (1.0 - u (rng), 1.0 / 1.1); });
        checkAgainstExact (xs, "Pareto");
    }
    SECTION ("collector-like: many short steps and a few long full collections")
    {
        std::lognormal_distribution<double> steps (std::log (0.3e-3), 0.5), fulls (std::log (15.0e-3), 0.3);
        std::uniform_int_distribution<int> pick (0, 499);
        std::generate (xs.begin(), xs.end(), [&] { return pick (rng) == 0 ? fulls (rng) : steps (rng); });
        checkAgainstExact (xs, "steps and full collections");
    }
}

TEST_CASE ("DurationHistogram snapshots are consistent under a concurrent writer", "[engine][stats][threads]")
{
    // The writer adds a known sequence, so that the state after k values is known exactly: a
    // snapshot of count k must hold exactly the first k values' bins, sum and maximum.
    const size_t n = 400000;
    std::vector<double> values (n), prefixSum (n + 1, 0.0), prefixMax (n + 1, 0.0);
    std::mt19937 rng (11);
    std::lognormal_distribution<double> d (std::log (1.0e-3), 1.5);
    for (size_t i = 0; i < n; ++i)
    {
        values[i] = d (rng);
        prefixSum[i + 1] = prefixSum[i] + values[i]; // the same additions, in the same order
        prefixMax[i + 1] = std::max (prefixMax[i], values[i]);
    }
    std::vector<std::array<uint32_t, DurationHistogram::numBins>> prefixBins;
    const size_t every = 64; // bins checked exactly where count is a multiple of this
    {
        std::array<uint32_t, DurationHistogram::numBins> bins {};
        for (size_t i = 0; i <= n; ++i)
        {
            if (i % every == 0)
                prefixBins.push_back (bins);
            if (i < n)
                ++bins[static_cast<size_t> (DurationHistogram::binFor (values[i]))];
        }
    }

    DurationHistogram h;
    std::atomic<uint64_t> started { 0 }, finished { 0 }, snapshotsTaken { 0 };
    std::atomic<bool> done { false };
    std::thread writer ([&] {
        for (size_t i = 0; i < n; ++i)
        {
            // Every 1024 values the writer waits for a reader's snapshot, so that the readers run
            // during the writes however the machine schedules the threads.
            if (i % 1024 == 0)
                for (const auto seen = snapshotsTaken.load(); snapshotsTaken.load() == seen;)
                    std::this_thread::yield();
            started.store (i + 1, std::memory_order_seq_cst);
            h.add (values[i]);
            finished.store (i + 1, std::memory_order_seq_cst);
        }
        done.store (true);
    });

    struct ReaderResult
    {
        uint64_t snapshots = 0, failures = 0, exactBinChecks = 0, distinctCounts = 0;
    };
    const auto reader = [&] (ReaderResult& r) {
        DurationHistogram::Snapshot previous;
        while (! done.load())
        {
            const uint64_t low = finished.load (std::memory_order_seq_cst);
            const auto s = h.snapshot();
            const uint64_t high = started.load (std::memory_order_seq_cst);
            snapshotsTaken.fetch_add (1);
            ++r.snapshots;
            uint64_t total = 0;
            bool ok = s.count >= low && s.count <= high && s.count >= previous.count;
            for (size_t b = 0; b < s.bins.size(); ++b)
            {
                total += s.bins[b];
                ok = ok && s.bins[b] >= previous.bins[b];
            }
            ok = ok && total == s.count && s.sumSeconds == prefixSum[s.count] && s.maxSeconds == prefixMax[s.count];
            if (s.count % every == 0)
            {
                const auto& expected = prefixBins[s.count / every];
                for (size_t b = 0; b < s.bins.size(); ++b)
                    ok = ok && s.bins[b] == expected[b];
                ++r.exactBinChecks;
            }
            r.distinctCounts += s.count != previous.count ? 1u : 0u;
            r.failures += ok ? 0u : 1u;
            previous = s;
        }
    };
    ReaderResult a, b;
    std::thread readerA ([&] { reader (a); });
    reader (b);
    writer.join();
    readerA.join();

    WARN ("snapshots " << a.snapshots + b.snapshots << " (" << a.distinctCounts + b.distinctCounts
                       << " distinct counts), exact bin checks " << a.exactBinChecks + b.exactBinChecks);
    CHECK (a.failures == 0);
    CHECK (b.failures == 0);
    CHECK (a.distinctCounts + b.distinctCounts > 100); // the readers really ran during the writes
    CHECK (a.exactBinChecks + b.exactBinChecks > 100);
    const auto last = h.snapshot();
    CHECK (last.count == n);
    CHECK (last.sumSeconds == prefixSum[n]);
    CHECK (last.maxSeconds == prefixMax[n]);
}

TEST_CASE ("DurationHistogram reset empties it", "[engine][stats]")
{
    DurationHistogram h;
    for (int i = 0; i < 1000; ++i)
        h.add (1.0e-3 * i);
    h.reset();
    const auto s = h.snapshot();
    CHECK (s.count == 0);
    CHECK (s.maxSeconds == 0.0);
    CHECK (s.sumSeconds == 0.0);
    CHECK (std::all_of (s.bins.begin(), s.bins.end(), [] (uint64_t b) { return b == 0; }));
    h.add (0.002);
    CHECK (h.snapshot().count == 1);
    CHECK (h.snapshot().maxSeconds == 0.002);
}

TEST_CASE ("Statistics exported as CSV and JSON read back to the same figures", "[engine][stats][export]")
{
    pg::StatsReport r;
    r.sampleRate = 44100.0;
    r.blockSize = 256;
    r.latencySamples = 1683;
    auto& c = r.counters;
    c.chunksProcessed = 123456789;
    c.framesProcessed = (uint64_t (1) << 53) + 7; // beyond a double's exact integers
    c.fullCollections = 17;
    c.forcedCollections = 2;
    c.incrementalSteps = 987654;
    c.collectorSeconds = 0.1 + 0.2;
    c.dropoutEvents = 3;
    c.dropoutFrames = 700;
    c.inputOverflowFrames = 1;
    c.skippedFrames = 5;
    c.heapBytes = (uint64_t (67) << 20) + 12345;
    c.workerLoadPercent = 100.0 / 3.0;
    c.adaptiveGrowths = 4;
    c.adaptiveShrinks = 1;
    c.wantedDynamicLatency = 1200;
    c.latencySamples = 1683;
    c.scriptFailed = true;

    std::mt19937 rng (5);
    std::lognormal_distribution<double> d (std::log (1.5e-3), 1.2);
    for (int h = 0; h < pg::StatsReport::numHistograms; ++h)
    {
        DurationHistogram hist;
        for (int i = 0; i < 5000 * (h + 1); ++i)
            hist.add (d (rng) * (h + 1));
        hist.add (2.5); // one in the overflow bin
        hist.add (1.0e-6); // one in the underflow bin
        r.histograms[static_cast<size_t> (h)] = hist.snapshot();
    }

    SECTION ("CSV")
    {
        const auto csv = pg::statisticsToCsv (r);
        pg::StatsReport back;
        REQUIRE (pg::statisticsFromCsv (csv, back));
        checkSameFigures (r, back);
        // The derived figures written for a reader are the ones the bins give.
        const auto& pauses = r.histograms[pg::StatsReport::pauses];
        CHECK (std::stod (csvValue (csv, "pauses_p50_s")) == pauses.percentile (0.5));
        CHECK (std::stod (csvValue (csv, "pauses_p99_s")) == pauses.percentile (0.99));
        CHECK (std::stod (csvValue (csv, "pauses_p999_s")) == pauses.percentile (0.999));
        CHECK (std::stod (csvValue (csv, "latency_ms")) == Approx (1683.0 / 44.1));
        CHECK (csv.find ("\nbin,lower_s,upper_s,pauses,processing,lateness,response\n") != std::string::npos);
        CHECK (std::count (csv.begin(), csv.end(), '\n') > DurationHistogram::numBins + 40);
        CHECK (! pg::statisticsFromCsv (csv.substr (0, csv.size() / 2), back));
    }
    SECTION ("JSON")
    {
        const auto json = pg::statisticsToJson (r);
        pg::StatsReport back;
        REQUIRE (pg::statisticsFromJson (json, back));
        checkSameFigures (r, back);
        CHECK (json.find ("\"format\": \"pauseguard-statistics\"") != std::string::npos);
        CHECK (! pg::statisticsFromJson (json.substr (0, json.size() - 3), back));
        CHECK (! pg::statisticsFromJson ("{\"format\": \"something else\", \"version\": 1}", back));
        CHECK (! pg::statisticsFromJson ("not json", back));
    }
}

TEST_CASE ("The engine reports its worker's load and a report of its statistics", "[engine][stats]")
{
    pg::LatencyEngine e;
    pg::EngineSettings s;
    s.sampleRate = 48000.0;
    s.maxBlockSize = 128;
    s.numChannels = 2;
    REQUIRE (e.prepare (s, pgtest::simpleScript, "simple.lua", 960));
    CHECK (e.getCounters().workerLoadPercent == 0.0);

    const auto in = pgtest::noise (2, 48000, 9); // one second, paced in real time
    pgtest::run (
        e, in, [] { return 128; }, false);
    pg::EngineTesting::waitForWorker (e, 1.0);

    const auto report = pg::captureStatistics (e);
    INFO ("worker load " << report.counters.workerLoadPercent << " %");
    CHECK (report.counters.workerLoadPercent > 0.0);
    CHECK (report.counters.workerLoadPercent < 100.0);
    CHECK (report.sampleRate == 48000.0);
    CHECK (report.blockSize == 128);
    CHECK (report.latencySamples == 960);
    CHECK (report.slackSeconds() == Approx ((960.0 - 128.0) / 48000.0));
    CHECK (report.counters.framesProcessed == 48000);
    CHECK (report.histograms[pg::StatsReport::processing].count == report.counters.chunksProcessed);
    CHECK (report.histograms[pg::StatsReport::response].count > 0);

    e.resetStatistics();
    pgtest::run (
        e, pgtest::noise (2, 256, 3), [] { return 128; }, true);
    const auto after = pg::captureStatistics (e);
    CHECK (after.counters.framesProcessed <= 256);
    CHECK (after.histograms[pg::StatsReport::processing].count <= 2);
}
