#pragma once

// The protocol between the engine and a DSP that runs in a process of its own (Go, Java, ...).
// No JUCE here. This header is the protocol's definition: a client in another language mirrors
// ExternalBlock's layout and follows the steps below (Source/Go is one, in Go; its
// tests check its layout against the offsets asserted at the end of this file).
//
// Versions. The host writes its major and minor version in the block; the child answers hello with
// its own. The majors must be equal: a different major is a different layout, and the side that
// sees it refuses (the child answers wrongVersion, the host stops the child with a message). Within
// a major, a minor only adds: each side uses what the lower of the two minors has. This is 2.2:
//   2.0  the layout below without `declared` (1 had its audio at 512 and no parameters or minor
//        version);
//   2.1  in its answers to `process` a child refreshes only heapBytes and collections (cheap to
//        read) and may leave the pause figures as they were; the host asks for `stats` ten times a
//        second. A child that sees a host minor of 0 refreshes them all in every answer.
//   2.2  the child may declare parameters of its own with its hello answer (declared): the host
//        shows them as its macro knobs 1 to 8, in order, and automates them; declared parameter k
//        is the host's parameter "macro<k+1>" (0 to 1), which the child maps to min..max. (The
//        audio area moved from 1024 to 1408: a client reads audioOffset.) And the child may keep a
//        state the session saves: saveState and loadState carry it in the audio area.
//
// Start. The host creates a shared memory file (memfd) of ExternalBlock::sizeFor (channels,
// frames) bytes, writes the header, and starts the program with that file as descriptor 3 and
// PAUSEGUARD_FD=3 in its environment. Descriptors 0 (/dev/null), 1 and 2 (a pipe the host reads,
// both) and 3 are the only ones open; the signal mask is empty and every signal has its default
// action. The child must exit when its parent is no longer hostPid (the host died): it checks
// getppid() at start, before anything else, and then at least every 50 ms.
//
// Each exchange is one request and its response:
//   1. the host fills the request fields (and, for `process`, the audio area), then increments
//      requestSeq and wakes it (futex, not private: the word is shared between processes);
//   2. the child, waiting on requestSeq, handles the command, fills the response fields and its
//      stats, then stores responseSeq = requestSeq and wakes it;
//   3. the host, waiting on responseSeq with a timeout, reads the response.
// A child that does not answer within the host's bound, or exits, is stopped (SIGKILL) and reaped;
// the host reports why.
//
// Commands:
//   hello    the child checks magic and major version, answers its own version and its name
//            (message).
//   prepare  sampleRate, channels, frames (the largest chunk); flags: hostCollects = the host
//            schedules collections (the child turns its automatic collector off). May come again
//            (new settings); the child's DSP starts afresh.
//   process  channels x frames samples in the audio area, planar (channel c at audioOffset +
//            4 * c * maxFrames), replaced in place. frames varies from call to call (1 to the
//            prepared frames). The host replaces non-finite and subnormal output samples by 0.
//   collect  a full collection now; collectSeconds = how long it took. With flags concurrent: the
//            child starts a cycle that runs beside the next process calls and answers at once
//            (none if one runs already); collecting says whether one runs, and collectSeconds is
//            the last finished cycle's duration.
//   collector flags: hostCollects = turn the automatic collector off, else back on (the DSP's
//            state is kept: a strategy switch while playing).
//   stats    only the stats.
//   saveState (minor 2) the child writes its state (bytes of its own) at the start of the audio
//            area, and their count in stateBytes (0: it keeps none). The area holds at least
//            64 KB; a state that does not fit is a failure with a message.
//   loadState (minor 2) the host wrote a state that child saved before (a session, or before a
//            restart) at the start of the audio area, stateBytes long: the child takes it. Comes
//            after hello, before prepare.
//   quit     the child answers, then exits.
// status 0 is success; otherwise message says what failed (it reaches the user).
//
// Parameters. With every request the block holds the host's parameters as they are now (its knobs
// and their automation): parameterCount entries of a name (NUL-terminated) and a value. A name
// keeps its index once given; the host writes them between requests only, so a child reads them
// while it handles one (in prepare and process). A child may ignore them.
//
// Every field is little-endian, at the offset asserted below; sizes are in bytes.

#include <cstddef>
#include <cstdint>

namespace pg
{
    namespace external
    {
        constexpr uint32_t magic = 0x31584750; // "PGX1", little-endian
        constexpr uint16_t versionMajor = 2;
        constexpr uint16_t versionMinor = 2;
        constexpr int fd = 3;

        enum Command : uint32_t
        {
            hello = 1,
            prepare = 2,
            process = 3,
            collect = 4,
            stats = 5,
            quit = 6,
            collector = 7,
            saveState = 8, // minor 2
            loadState = 9 // minor 2
        };

        enum Flags : uint32_t
        {
            hostCollects = 1, // prepare, collector
            concurrent = 2 // collect
        };

        enum Status : int32_t
        {
            ok = 0,
            failed = -1, // the command failed: see message
            wrongVersion = -2, // hello: the child does not speak the host's major version
            unknownCommand = -3
        };

        // The runtime's own figures, as the child measures them, updated with every response (from
        // minor 1, a process answer may leave the pause figures as they were).
        struct RuntimeStats
        {
            uint64_t heapBytes = 0; // live heap objects
            uint64_t collections = 0; // completed collection cycles
            uint64_t pauseCount = 0; // stop-the-world pauses
            double pauseP50Seconds = 0.0; // over every pause so far
            double pauseP99Seconds = 0.0;
            double pauseMaxSeconds = 0.0;
            double collectSeconds = 0.0; // the last `collect` command's duration
        };

        constexpr int maxParameters = 16;
        struct Parameter
        {
            char name[28]; // NUL-terminated
            float value;
        };

        // A parameter the child declares (minor 2): one of its knobs.
        constexpr int maxDeclared = 8;
        struct DeclaredParameter
        {
            char name[24]; // NUL-terminated: the name the child reads it by
            char unit[8]; // NUL-terminated: "Hz", "ms", "%", "dB" or empty
            float min, max, defaultValue;
            uint32_t reserved;
        };

        // The shared block: the header, then the audio (planar floats, maxChannels x maxFrames).
        struct ExternalBlock
        {
            // Written by the host before the child starts.
            uint32_t magic;
            uint16_t versionMajor;
            uint16_t versionMinor;
            uint32_t audioOffset; // bytes from the block's start to the audio area
            uint32_t maxChannels;
            uint32_t maxFrames;
            uint32_t hostPid; // the child exits when getppid() is no longer this

            // The request: written by the host, then requestSeq.
            alignas (64) uint32_t requestSeq;
            uint32_t command;
            uint32_t channels;
            uint32_t frames;
            uint32_t flags;
            uint32_t stateBytes; // loadState: the host's; saveState: the child's answer
            double sampleRate;

            // The response: written by the child, then responseSeq.
            alignas (64) uint32_t responseSeq;
            int32_t status;
            uint16_t childMajor; // hello
            uint16_t childMinor;
            uint32_t collecting; // 1 while a cycle a concurrent collect started runs
            RuntimeStats stats;
            char message[256]; // hello: the child's name; an error's text (NUL-terminated)

            // The host's parameters: written by the host before each request.
            uint32_t parameterCount;
            uint32_t reserved3;
            Parameter parameters[maxParameters];

            // The child's own parameters (minor 2): written with its hello answer.
            uint32_t declaredCount;
            uint32_t reserved4;
            DeclaredParameter declared[maxDeclared];

            static constexpr size_t audioStart() noexcept { return (sizeof (ExternalBlock) + 63) & ~size_t (63); }
            static constexpr size_t minAudioBytes = 65536; // (a state travels there too)
            static constexpr size_t sizeFor (int channels, int frames) noexcept
            {
                const size_t audio = sizeof (float) * static_cast<size_t> (channels) * static_cast<size_t> (frames);
                return audioStart() + (audio > minAudioBytes ? audio : minAudioBytes);
            }
        };

        // The offsets a client in another language mirrors (checked here, at compile time).
        static_assert (offsetof (ExternalBlock, versionMajor) == 4 && offsetof (ExternalBlock, versionMinor) == 6);
        static_assert (offsetof (ExternalBlock, audioOffset) == 8 && offsetof (ExternalBlock, maxChannels) == 12);
        static_assert (offsetof (ExternalBlock, maxFrames) == 16 && offsetof (ExternalBlock, hostPid) == 20);
        static_assert (offsetof (ExternalBlock, requestSeq) == 64);
        static_assert (offsetof (ExternalBlock, command) == 68 && offsetof (ExternalBlock, channels) == 72);
        static_assert (offsetof (ExternalBlock, frames) == 76 && offsetof (ExternalBlock, flags) == 80);
        static_assert (offsetof (ExternalBlock, stateBytes) == 84);
        static_assert (offsetof (ExternalBlock, sampleRate) == 88);
        static_assert (offsetof (ExternalBlock, responseSeq) == 128);
        static_assert (offsetof (ExternalBlock, status) == 132);
        static_assert (offsetof (ExternalBlock, childMajor) == 136 && offsetof (ExternalBlock, childMinor) == 138);
        static_assert (offsetof (ExternalBlock, parameterCount) == 456);
        static_assert (offsetof (ExternalBlock, parameters) == 464 && sizeof (Parameter) == 32);
        static_assert (offsetof (ExternalBlock, collecting) == 140);
        static_assert (offsetof (ExternalBlock, stats) == 144);
        static_assert (sizeof (RuntimeStats) == 56);
        static_assert (offsetof (ExternalBlock, message) == 200);
        static_assert (offsetof (ExternalBlock, declaredCount) == 976 && offsetof (ExternalBlock, declared) == 984);
        static_assert (sizeof (DeclaredParameter) == 48);
        static_assert (ExternalBlock::audioStart() == 1408);
    } // namespace external
} // namespace pg
