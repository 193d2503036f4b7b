// LoaderTurns: the engines' loaders take turns at their jobs (LoaderTurns.h), and ScriptLoader
// runs each script's job in a turn (a DSP program's start takes none).

#include "LoaderTurns.h"
#include "ScriptLoader.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace
{
    // How many of some threads are inside a stretch of work at once, at most.
    struct Overlap
    {
        std::atomic<int> inside { 0 }, most { 0 };
        void enter()
        {
            const int now = inside.fetch_add (1) + 1;
            for (int seen = most.load(); now > seen && ! most.compare_exchange_weak (seen, now);)
            {
            }
        }
        void leave() { inside.fetch_sub (1); }
    };

    // A script's job: compiled, prepared, warmed (briefly) and handed over.
    pg::ScriptLoader::Job quietScriptJob()
    {
        pg::ScriptLoader::Job job;
        job.source = "function process(ch, n) end";
        job.name = "quiet.lua";
        job.chunkFrames = 128;
        job.deliverScript = true;
        job.request.budgetSeconds = 0.05;
        return job;
    }
} // namespace

TEST_CASE ("LoaderTurns: no more than its turns at once, and as many as it has", "[engine][loader]")
{
    for (const int turns : { 1, 2 })
    {
        pg::LoaderTurns t (turns);
        Overlap overlap;
        const std::atomic<bool> never { false };
        std::vector<std::thread> threads;
        for (int i = 0; i < 6; ++i)
            threads.emplace_back ([&] {
                for (int k = 0; k < 5; ++k)
                {
                    const pg::LoaderTurn turn (t, never);
                    overlap.enter();
                    std::this_thread::sleep_for (std::chrono::milliseconds (3));
                    overlap.leave();
                }
            });
        for (auto& th : threads)
            th.join();
        INFO (turns << " turns");
        CHECK (overlap.most.load() == turns);
    }
}

TEST_CASE ("LoaderTurns: a wait that is cancelled ends at once, without a turn", "[engine][loader]")
{
    pg::LoaderTurns t (1);
    const std::atomic<bool> never { false };
    REQUIRE (t.begin (never));
    std::atomic<bool> cancel { false };
    std::atomic<int> result { -1 };
    std::thread waiter ([&] { result = t.begin (cancel) ? 1 : 0; });
    std::this_thread::sleep_for (std::chrono::milliseconds (20));
    CHECK (result.load() == -1); // still waiting for the turn held above
    const auto cancelledAt = std::chrono::steady_clock::now();
    cancel = true;
    waiter.join();
    CHECK (result.load() == 0);
    CHECK (std::chrono::steady_clock::now() - cancelledAt < std::chrono::seconds (1));
    t.end();
    CHECK (t.begin (never)); // the turn is free again: the cancelled wait took none
    t.end();
}

TEST_CASE ("ScriptLoader: the loaders of several engines run their jobs in turn", "[engine][loader]")
{
    pg::LoaderTurns oneTurn (1);
    Overlap overlap;
    std::atomic<int> outcomes { 0 };
    std::vector<std::unique_ptr<pg::ScriptLoader>> loaders;
    for (int i = 0; i < 4; ++i)
        loaders.push_back (std::make_unique<pg::ScriptLoader> ([&] (pg::ScriptLoader::Outcome&& o) { outcomes += o.error.empty() ? 1 : 0; },
                                                               std::function<std::optional<pg::ScriptLoader::Job>()> {}, oneTurn));
    for (auto& loader : loaders)
    {
        auto job = quietScriptJob();
        job.configureCollector = [&] (pg::Dsp&) { // inside the job, as its CPU work is
            overlap.enter();
            std::this_thread::sleep_for (std::chrono::milliseconds (30));
            overlap.leave();
        };
        loader->submit (std::move (job));
    }
    for (int i = 0; i < 500 && outcomes.load() < 4; ++i)
        std::this_thread::sleep_for (std::chrono::milliseconds (10));
    CHECK (outcomes.load() == 4);
    CHECK (overlap.most.load() == 1);
}

TEST_CASE ("ScriptLoader: a DSP program's start does not wait for a turn; a script's does", "[engine][loader][external]")
{
    pg::LoaderTurns oneTurn (1);
    const std::atomic<bool> never { false };
    REQUIRE (oneTurn.begin (never)); // another engine's loader, busy for as long as this test holds it
    std::atomic<int> programs { 0 }, scripts { 0 };
    pg::ScriptLoader programLoader ([&] (pg::ScriptLoader::Outcome&& o) { programs += o.error.empty() ? 1 : 0; },
                                    std::function<std::optional<pg::ScriptLoader::Job>()> {}, oneTurn);
    pg::ScriptLoader scriptLoader ([&] (pg::ScriptLoader::Outcome&& o) { scripts += o.error.empty() ? 1 : 0; },
                                   std::function<std::optional<pg::ScriptLoader::Job>()> {}, oneTurn);
    pg::ScriptLoader::Job program;
    program.program = { PAUSEGUARD_TEST_CHILD, "gain" };
    program.name = "test child";
    program.chunkFrames = 128;
    program.numChannels = 1;
    program.deliverScript = true;
    programLoader.submit (std::move (program));
    scriptLoader.submit (quietScriptJob());
    for (int i = 0; i < 500 && programs.load() == 0; ++i)
        std::this_thread::sleep_for (std::chrono::milliseconds (10));
    CHECK (programs.load() == 1);
    CHECK (scripts.load() == 0); // still waiting for the turn
    oneTurn.end();
    for (int i = 0; i < 500 && scripts.load() == 0; ++i)
        std::this_thread::sleep_for (std::chrono::milliseconds (10));
    CHECK (scripts.load() == 1);
}
