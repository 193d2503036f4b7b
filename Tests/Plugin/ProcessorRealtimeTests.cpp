#include "EngineTesting.h"
#include "PluginHarness.h"

#include <catch2/catch.hpp>

namespace
{
    // The audio thread's paths: 300 blocks of 256 samples or 1, some bypassed, a parameter change
    // on the way; then an injected worker pause and 200 blocks that underrun. Each block's
    // processBlock runs inside call (underrun, process).
    template <typename Call>
    void driveProcessBlocks (pauseguard::PauseGuardProcessor& p, Call&& call)
    {
        pgtest::simulateRealtimeHost (p); // the underrun path is real time's
        p.prepareToPlay (48000.0, 256);
        juce::AudioBuffer<float> buffer (2, 256);
        juce::MidiBuffer midi;
        auto* mix = p.getState().getParameter (pauseguard::ParamIDs::mix);
        auto block = [&] (int n, bool bypassed, bool underrun) {
            buffer.setSize (2, n, false, false, true);
            for (int c = 0; c < 2; ++c)
                for (int i = 0; i < n; ++i)
                    buffer.setSample (c, i, std::sin (0.01f * static_cast<float> (i + c)));
            call (underrun, [&] {
                if (bypassed)
                    p.processBlockBypassed (buffer, midi);
                else
                    p.processBlock (buffer, midi);
            });
        };
        for (int b = 0; b < 300; ++b)
        {
            if (b == 100)
                mix->setValue (0.3f); // parameter changes on the way
            block (b % 7 == 0 ? 1 : 256, b % 50 == 0, false);
            pg::EngineTesting::waitForWorker (p.getEngine(), 5.0);
        }
        pg::EngineTesting::injectWorkerPause (p.getEngine(), 0.15);
        for (int b = 0; b < 200; ++b)
            block (256, false, true);
    }
} // namespace

#if PAUSEGUARD_HAVE_RT_AUDIT
#include "RealtimeAudit.h"

using pauseguard::PauseGuardProcessor;

TEST_CASE ("PauseGuardProcessor::processBlock makes no allocation, lock or wait", "[plugin][realtime]")
{
    REQUIRE (pgtest::auditIsLive());
    PauseGuardProcessor p;
    pgtest::AuditCounts normal, underrun;
    driveProcessBlocks (p, [&] (bool underrunning, auto&& process) {
        pgtest::AuditCounts c;
        {
            pgtest::ScopedRealtimeAudit audit;
            process();
            c = audit.counts();
        }
        auto& sum = underrunning ? underrun : normal;
        sum.allocations += c.allocations;
        sum.locks += c.locks + c.waits + c.frees;
    });
    CHECK (p.getEngine().getCounters().dropoutEvents > 0); // the underrun path did run
    CHECK (normal.allocations == 0);
    CHECK (normal.locks == 0);
    CHECK (underrun.allocations == 0);
    CHECK (underrun.locks == 0);
}
#endif

#if defined(__has_feature)
#if __has_feature(realtime_sanitizer)
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

namespace
{
    // A host's play head that allocates when asked for the position: what a careless host could do.
    struct AllocatingPlayHead final : juce::AudioPlayHead
    {
        juce::Optional<PositionInfo> getPosition() const override
        {
            auto info = std::make_unique<PositionInfo>(); // operator new, inside processBlock
            info->setIsPlaying (true);
            return *info;
        }
    };
} // namespace

// Run only by name, in a child process: processBlock calls a play head that allocates.
TEST_CASE ("rtsan child: processBlock with an allocating play head", "[.rtsan-child]")
{
    pauseguard::PauseGuardProcessor p;
    p.prepareToPlay (48000.0, 256);
    AllocatingPlayHead head;
    p.setPlayHead (&head);
    juce::AudioBuffer<float> buffer (2, 256);
    buffer.clear();
    juce::MidiBuffer midi;
    p.processBlock (buffer, midi);
    std::_Exit (0); // RealtimeSanitizer did not stop it
}

TEST_CASE ("RealtimeSanitizer checks the processor's processBlock: an allocation inside it aborts", "[plugin][realtime][rtsan]")
{
    // This binary again, running the case above. processBlock is [[clang::nonblocking]], so
    // RealtimeSanitizer must stop the child at the play head's allocation; exit 0 means the check
    // is not live.
    char self[] = "/proc/self/exe";
    char name[] = "rtsan child: processBlock with an allocating play head";
    char* argv[] = { self, name, nullptr };
    const auto log = juce::File::createTempFile ("rtsan.log");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_addopen (&actions, 2, log.getFullPathName().toRawUTF8(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t child = 0;
    const int spawned = ::posix_spawn (&child, self, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy (&actions);
    REQUIRE (spawned == 0);
    int status = 0;
    REQUIRE (::waitpid (child, &status, 0) == child);
    const auto report = log.loadFileAsString();
    log.deleteFile();
    CHECK_FALSE ((WIFEXITED (status) && WEXITSTATUS (status) == 0));
    CHECK (report.contains ("RealtimeSanitizer"));
    CHECK (report.contains ("malloc")); // operator new's malloc, seen inside processBlock
}

TEST_CASE ("Under RealtimeSanitizer: processBlock, bypassed and under an underrun, makes no unsafe call",
           "[plugin][realtime][rtsan]")
{
    // Any allocation, lock or blocking call inside processBlock aborts the whole run.
    pauseguard::PauseGuardProcessor p;
    driveProcessBlocks (p, [] (bool, auto&& process) { process(); });
    CHECK (p.getEngine().getCounters().dropoutEvents > 0); // the underrun path did run
}
#endif
#endif
