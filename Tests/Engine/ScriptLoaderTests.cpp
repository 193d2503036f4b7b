// ScriptLoader: how a warmed or delivered script is settled before it plays (ScriptLoader::settle).

#include "ScriptLoader.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace
{
    // A script that does nothing, and says which collector calls it received once its collector
    // was configured.
    class RecordingDsp final : public pg::Dsp
    {
    public:
        bool prepare (double, int, int) override { return true; }
        bool process (float* const*, int, int) override { return true; }
        void setParameter (const char*, double) override {}
        std::unique_ptr<pg::Dsp> restarted() const override { return std::make_unique<RecordingDsp>(); }
        bool isReady() const noexcept override { return true; }
        const std::string& getError() const noexcept override { return noError; }
        std::vector<std::string> takePrinted() override { return {}; }
        const std::vector<pg::ScriptMacro>& getMacros() const noexcept override { return noMacros; }
        void setAutomaticCollection (bool) override {}
        void setIncrementalPacing (int, int, int) override {}
        void setGenerational() override {}
        double fullCollection() override
        {
            note ("collect");
            return 0.0;
        }
        double collectorStep (bool*) override { return 0.0; }
        bool hasCollectorSteps() const noexcept override { return true; }
        size_t heapBytes() const noexcept override { return 1 << 20; }
        void reserveHeapGrowth (int percent) noexcept override { note ("reserve " + std::to_string (percent)); }

        void configured() { note ("configure"); }
        std::vector<std::string> calls()
        {
            std::lock_guard<std::mutex> lock (m);
            return seen;
        }

    private:
        void note (const std::string& what)
        {
            std::lock_guard<std::mutex> lock (m);
            if (what == "configure")
                seen.clear(); // what the warm-up did before does not count
            seen.push_back (what);
        }

        std::mutex m;
        std::vector<std::string> seen;
        const std::string noError;
        const std::vector<pg::ScriptMacro> noMacros {};
    };
} // namespace

TEST_CASE ("ScriptLoader: a warmed script is configured, collected once, then its heap's growth reserved", "[engine][loader]")
{
    RecordingDsp script;
    std::atomic<bool> warmed { false };
    pg::ScriptLoader loader ([] (pg::ScriptLoader::Outcome&&) {}, std::function<std::optional<pg::ScriptLoader::Job>()> {});
    pg::ScriptLoader::Job job;
    job.name = "recording";
    job.chunkFrames = 128;
    job.request.budgetSeconds = 0.05;
    job.warm = &script;
    job.configureCollector = [] (pg::Dsp& d) { static_cast<RecordingDsp&> (d).configured(); };
    job.heapGrowthPercent = 150;
    job.onWarmed = [&warmed] (bool) { warmed = true; };
    loader.submit (std::move (job));
    for (int i = 0; i < 500 && ! warmed.load(); ++i)
        std::this_thread::sleep_for (std::chrono::milliseconds (10));
    REQUIRE (warmed.load());
    // One full collection: the reservation measures the live heap it leaves, and collects nothing.
    CHECK (script.calls() == std::vector<std::string> { "configure", "collect", "reserve 150" });
}

TEST_CASE ("ScriptLoader: an idle loader polls ever less often, down to ten times a second", "[engine][loader]")
{
    // Polled every 20 ms, it would ask for a due job about 60 times in 1.2 s; backing off (20, 40,
    // 80, then 100 ms) about 14 times. A busy machine only delays the polls.
    std::atomic<int> asked { 0 };
    pg::ScriptLoader loader ([] (pg::ScriptLoader::Outcome&&) {}, [&asked] {
        asked.fetch_add (1);
        return std::optional<pg::ScriptLoader::Job> {}; });
    std::this_thread::sleep_for (std::chrono::milliseconds (1200));
    loader.shutdown();
    INFO ("asked " << asked.load() << " times");
    CHECK (asked.load() <= 20);
    CHECK (asked.load() >= 2);
}
