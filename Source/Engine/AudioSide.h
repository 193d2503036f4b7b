#pragma once

// The engine's audio side: processBlock and what it owns. The dry delay line, the producer end of
// the input ring and the consumer end of the output ring, the dropout fade (the delayed dry signal
// where the worker was late) and the latency crossfade. Internal: not installed. No JUCE here.
//
// Threads: processBlock on the audio thread; prepare, startAt and leaveAudioThread on the control
// thread while no audio call is inside; the setters from any thread; the worker's ends of the rings
// (…OnWorker) from the worker.

#include "BlockStamp.h"
#include "EngineTypes.h"
#include "LatencyCrossfade.h"
#include "LatencyEngine.h"
#include "Realtime.h"
#include "RenderPace.h"
#include "SpscRing.h"
#include "WorkerPool.h"
#include "Trace/Trace.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

namespace pg
{
    class AudioSide
    {
    public:
        static constexpr int maxChannels = LatencyEngine::maxChannels;
        static constexpr double offlineWaitSeconds = LatencyEngine::offlineWaitSeconds;
        static constexpr int maxBufferedBlock = LatencyEngine::maxBufferedBlock;

        explicit AudioSide (int traceInstance) noexcept
            : instanceId (traceInstance)
        {
        }

        // Control thread, no audio call inside (leaveAudioThread): sizes the lines and rings for
        // the (normalised) settings and starts from time 0. announcedBlock: the host's maximum as
        // it announced it.
        void prepare (const EngineSettings& settings, int announcedBlock, int chunkFrames);
        // Control thread, after prepare: the latency it starts at.
        void startAt (int latencySamples) noexcept;
        // Control thread: the pool slot that runs this engine's chunks (nullptr: none).
        void connect (WorkerPool& workerPool, WorkerPool::Slot* slot) noexcept;
        // Control thread: processBlock plays from now on (after prepare and connect).
        void open() noexcept { prepared.store (true, std::memory_order_release); }
        // Control thread: clears `prepared`, then waits until no audio call is inside.
        void leaveAudioThread() noexcept;
        bool isPrepared() const noexcept { return prepared.load (std::memory_order_acquire); }

        // Audio thread. Wait-free in real time (LatencyEngine.h).
        void processBlock (float* const* channels, int numChannels, int numFrames) noexcept PG_NONBLOCKING;

        void setOffline (bool isOffline) noexcept { hostOffline.store (isOffline, std::memory_order_relaxed); }
        bool isHostOffline() const noexcept { return hostOffline.load (std::memory_order_relaxed); }
        bool isOffline() const noexcept
        {
            return hostOffline.load (std::memory_order_relaxed) || rendering.load (std::memory_order_relaxed);
        }
        bool isRenderDetected() const noexcept { return rendering.load (std::memory_order_relaxed); }
        // Whether the pace of the calls has said once since prepare whether the host renders (from
        // the second call; a host that announced render-sized blocks from the first). Acquire:
        // isOffline() then holds that verdict.
        bool isPaceKnown() const noexcept { return paceKnown.load (std::memory_order_acquire); }
        void setRenderDetection (bool enabled) noexcept { renderDetection.store (enabled, std::memory_order_relaxed); }
        void setMix (float zeroToOne) noexcept { mixTarget.store (zeroToOne, std::memory_order_relaxed); }
        void setOutputGain (float linear) noexcept { outputGainTarget.store (linear, std::memory_order_relaxed); }
        void setBypassed (bool b) noexcept { bypassed.store (b, std::memory_order_relaxed); }
        void setTransportPlaying (bool playing) noexcept
        {
            if (transportPlaying.load (std::memory_order_relaxed) != playing) // (a store every block would dirty the line)
                transportPlaying.store (playing, std::memory_order_relaxed);
        }
        bool isTransportPlaying() const noexcept { return transportPlaying.load (std::memory_order_relaxed); }

        // Any thread: a latency already clamped (EngineControl::requestLatency).
        void requestLatency (int clamped) noexcept;
        int getLatencySamples() const noexcept;
        // The latency the audio thread plays at now.
        int getPublishedLatency() const noexcept { return publishedLatency.load (std::memory_order_relaxed); }
        // The bytes prepare allocated: the dry line, the rings, the stamps and the trace's lane.
        size_t preparedBytes() const noexcept
        {
            return dryLine.bytes() + inputRing.bytes() + outputRing.bytes() + stamps.bytes() + fadeScratch.size() * sizeof (float) + (audioLane != nullptr ? audioLane->bytes() : 0);
        }
        int getLargestBlock() const noexcept
        {
            const int sent = largestBlock.load (std::memory_order_relaxed);
            return sent > 0 ? sent : announcedRealtimeBlock;
        }
        // The dropout fade's length and look-ahead at a rate: 1 ms.
        static int fadeSamplesFor (double sampleRate) noexcept { return std::max (1, static_cast<int> (std::lround (0.001 * sampleRate))); }
        int getDropoutFadeSamples() const noexcept { return dropoutFade; }
        int getCrossfadeSamples() const noexcept { return latencyFade.getMaximumSamples(); }
        int getCrossfadeNominalSamples() const noexcept { return latencyFade.getNominalSamples(); }

        // The audio thread's counters (dropouts, input overflows), and their reset by the worker.
        void addCountersTo (EngineCounters& c) const noexcept;
        void clearCounters() noexcept;

        // The thread that calls processBlock, between blocks: the input handed to the worker so far.
        uint64_t handedToWorker() const noexcept { return inputWritePos; }
        // Any thread: the output the worker has delivered so far.
        uint64_t deliveredByWorker() const noexcept { return outputRing.publishedWritePosition(); }

        // ---- the worker's ends of the rings (ChunkWorker) -----------------------------------
        SampleRing& inputOnWorker() noexcept { return inputRing; }
        SampleRing& outputOnWorker() noexcept { return outputRing; }
        SpscQueue<BlockStamp>& stampsOnWorker() noexcept { return stamps; }
        // The oldest ring position whose output the audio thread still needs.
        uint64_t neededOnWorker() const noexcept { return audioNeededRingPos.load (std::memory_order_acquire); }
        // The worker skips the input from `from` (where it has read to) below `to`: that output is
        // never made. What it made before stays playable: a latency that grows reads it again.
        void skipToOnWorker (uint64_t from, uint64_t to) noexcept
        {
            // Published in this order, read in the other (delivered()): a mixed read is missing more.
            if (from != outputValidFrom.load (std::memory_order_relaxed)) // (else it extends the latest skip)
            {
                skippedBefore.store (outputValidFrom.load (std::memory_order_relaxed), std::memory_order_release);
                latestSkipStart.store (from, std::memory_order_release);
            }
            outputValidFrom.store (to, std::memory_order_release);
            outputRing.publishWrite (to);
            inputRing.publishRead (to);
        }

    private:
        struct Gap // input frames [absStart, absEnd) were dropped; later frames map to ring pos a - offsetAfter
        {
            uint64_t absStart = 0, absEnd = 0;
            int64_t offsetAfter = 0;
        };

        enum class RunKind
        {
            preRoll,
            wet,
            missing,
            transition
        };
        struct Run
        {
            RunKind kind;
            uint64_t ringPos;
            int length;
            int available = 0; // wet: frames delivered from ringPos on, without a gap (beyond length too)
        };

        // Where input frame `abs` is in the rings (false: it was dropped, and ringPos is where the
        // input goes on), and how many frames from it share that mapping.
        bool mapToRing (uint64_t abs, uint64_t& ringPos, int& runLength) const noexcept
        {
            if (numGaps == 0) // (the common case, inline)
            {
                ringPos = static_cast<uint64_t> (static_cast<int64_t> (abs) - baseOffset);
                runLength = INT_MAX;
                return true;
            }
            return mapAcrossGaps (abs, ringPos, runLength);
        }
        bool mapAcrossGaps (uint64_t abs, uint64_t& ringPos, int& runLength) const noexcept;
        // The output ring as the audio thread finds it: delivered below hi, released below readPos,
        // and the worker's skips. Below skippedBefore, some input was skipped (which is not told
        // apart); [latestSkipStart, validFrom) is the latest skip; what lies between was made.
        struct Delivered
        {
            uint64_t readPos = 0, hi = 0, skippedBefore = 0, latestSkipStart = 0, validFrom = 0;
        };
        // The whole of Delivered, or (for the one-pass copy) all below validFrom taken as skipped.
        inline Delivered delivered (bool withLatestSkip) const noexcept;
        inline Run classify (int64_t abs, int maxLength, const Delivered& d) const noexcept;
        void recordDroppedInput (uint64_t absStart, int n) noexcept;
        void processPrepared (float* const* channels, int numChannels, int numFrames, int64_t callbackNanos) noexcept PG_NONBLOCKING;
        // processPrepared's steps, inlined into it: a block costs no more calls than in one piece.
        [[gnu::always_inline]] inline void writeInputOnAudio (float* const* channels, int nch, int n, bool toWorker) noexcept;
        [[gnu::always_inline]] inline void handOverOnAudio (int n, bool toWorker, int64_t callbackNanos) noexcept;
        [[gnu::always_inline]] inline void releaseOnAudio (int n) noexcept;
        bool copySteadyWetOnAudio (float* const* out, int nch, int n) noexcept;
        int renderAt (int latencySamples, float& wetGain, float* const* out, int nch, int n, float mixStep, float outputGainStep,
                      uint64_t* firstMissing = nullptr) noexcept;
        void traceOnAudio (trace::Kind kind, int64_t at, uint64_t ringPos, int frames, int value, int64_t due = 0) noexcept
        {
            if (audioLane != nullptr)
                pushTraceOnAudio (kind, at, ringPos, frames, value, due);
        }
        void pushTraceOnAudio (trace::Kind kind, int64_t at, uint64_t ringPos, int frames, int value, int64_t due) noexcept;
        void takeLatencyRequestOnAudio() noexcept;
        void waitForOutputOnAudio (int nFrames) noexcept;

        const int instanceId; // this engine's number in the trace
        std::atomic<bool> prepared { false };
        std::atomic<int> audioCallsInside { 0 }; // processBlock calls in progress (see leaveAudioThread)

        // ---- shared (atomics) -------------------------------------------------------------------
        // Grouped by the thread that writes them, a cache line apart: the audio thread reads no
        // line that the worker writes every chunk, except the rings' positions and their data.
        SampleRing inputRing; // audio -> worker
        SampleRing outputRing; // worker -> audio; ring positions equal the input's
        SpscQueue<BlockStamp> stamps;
        // written by the audio thread
        alignas (64) std::atomic<uint64_t> audioNeededRingPos { 0 }; // the oldest frame it still needs
        std::atomic<int> publishedLatency { 0 };
        std::atomic<int> largestBlock { 0 }; // the largest block sent in real time since prepare
        std::atomic<bool> rendering { false }; // the pace of the calls says the host renders (RenderPace)
        std::atomic<bool> paceKnown { false }; // (isPaceKnown)
        std::atomic<bool> transportPlaying { true }; // (from the host's play head)
        std::atomic<uint64_t> dropoutFrames { 0 }, dropoutEvents { 0 }, inputOverflowFrames { 0 }; // (the worker resets them)
        // written by the control thread, read by the audio thread
        alignas (64) std::atomic<int> requestedLatency { -1 };
        std::atomic<float> mixTarget { 1.0f };
        std::atomic<float> outputGainTarget { 1.0f };
        std::atomic<bool> bypassed { false };
        std::atomic<bool> hostOffline { false }; // the host says it renders (setOffline)
        std::atomic<bool> renderDetection { true };
        // written by the worker, read by the audio thread
        alignas (64) std::atomic<uint64_t> outputValidFrom { 0 }; // the latest skip's end
        std::atomic<uint64_t> latestSkipStart { 0 }, skippedBefore { 0 }; // (Delivered)

        // ---- audio thread only (set by prepare) -----------------------------------------------
        alignas (64) WorkerPool* pool = nullptr; // the pool that runs this engine's chunks (connect)
        std::atomic<WorkerPool::Slot*> poolSlot { nullptr }; // its slot there (connect)
        int channelsPrepared = 1, blockPrepared = 1; // the prepared settings this side needs
        double sampleRate = 48000.0;
        int64_t maxLatencyFrames = 0; // the settings' maximum latency in frames, rounded up: how far back a latency can reach
        uint64_t audioTime = 0;
        uint64_t inputWritePos = 0;
        uint64_t outputReadPos = 0;
        int latency = 0;
        float mixCurrent = 1.0f;
        float outputGainCurrent = 1.0f; // on the wet signal, at the output stage
        int dropoutFade = 48; // wet <-> delayed dry when the worker is late (set by prepare: fadeSamplesFor)
        float wetGain = 1.0f, fadeWetGain = 1.0f; // that fade's gain, at L and at the previous L
        int fadeFromLatency = 0; // crossfade from the previous L after a change
        std::array<Gap, 8> gaps {};
        int numGaps = 0;
        int64_t baseOffset = 0;
        LatencyCrossfade latencyFade;
        std::array<float*, maxChannels> fadePtrs {};
        RenderPace renderPace;
        SampleRing dryLine; // written and read by the audio thread; positions = absolute time
        std::vector<float> fadeScratch;
        std::shared_ptr<trace::TraceBuffer> audioLane; // set by prepare while tracing (nullptr: off)
        // set by prepare: the block the floor assumes until one is sent in real time (the announced
        // maximum, or 0 if it is more than any real-time host sends)
        int announcedRealtimeBlock = 0;
    };
} // namespace pg
