// AudioSide: processBlock and what it calls, then the control thread's calls (prepare, which
// allocates, at the end). Nothing processBlock calls allocates, locks or waits (RealtimeSanitizer
// checks it), except the bounded wait of an offline render.

#include "AudioSide.h"

#include "Clock.h"
#include "InputPass.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>

namespace pg
{
    // ---- audio thread ----------------------------------------------------------------------------

    bool AudioSide::mapAcrossGaps (uint64_t abs, uint64_t& ringPos, int& runLength) const noexcept
    {
        auto clampRun = [] (uint64_t len) { return static_cast<int> (std::min<uint64_t> (len, INT_MAX)); };
        for (int i = numGaps - 1; i >= 0; --i)
        {
            const auto& g = gaps[static_cast<size_t> (i)];
            if (abs >= g.absEnd)
            {
                ringPos = static_cast<uint64_t> (static_cast<int64_t> (abs) - g.offsetAfter);
                runLength = i + 1 < numGaps ? clampRun (gaps[static_cast<size_t> (i + 1)].absStart - abs) : INT_MAX;
                return true;
            }
            if (abs >= g.absStart)
            {
                ringPos = static_cast<uint64_t> (static_cast<int64_t> (g.absEnd) - g.offsetAfter);
                runLength = clampRun (g.absEnd - abs);
                return false;
            }
        }
        ringPos = static_cast<uint64_t> (static_cast<int64_t> (abs) - baseOffset);
        runLength = numGaps > 0 ? clampRun (gaps[0].absStart - abs) : INT_MAX;
        return true;
    }

    void AudioSide::recordDroppedInput (uint64_t absStart, int n) noexcept
    {
        const auto un = static_cast<uint64_t> (n);
        if (numGaps > 0 && gaps[static_cast<size_t> (numGaps - 1)].absEnd == absStart)
        {
            auto& g = gaps[static_cast<size_t> (numGaps - 1)];
            g.absEnd += un;
            g.offsetAfter += n;
            return;
        }
        // Forget gaps that no latency can reach any more (or the oldest, if the table is full).
        const auto reach = static_cast<uint64_t> (maxLatencyFrames + blockPrepared);
        while (numGaps > 0 && (numGaps == static_cast<int> (gaps.size()) || gaps[0].absEnd + reach < absStart))
        {
            baseOffset = gaps[0].offsetAfter;
            std::copy (gaps.begin() + 1, gaps.begin() + numGaps, gaps.begin());
            --numGaps;
        }
        gaps[static_cast<size_t> (numGaps++)] = { absStart, absStart + un,
                                                  static_cast<int64_t> (absStart + un) - static_cast<int64_t> (inputWritePos) };
    }

    inline AudioSide::Delivered AudioSide::delivered (bool withLatestSkip) const noexcept
    {
        Delivered d;
        d.readPos = outputReadPos;
        d.hi = outputRing.publishedWritePosition();
        d.validFrom = outputValidFrom.load (std::memory_order_acquire);
        if (withLatestSkip)
        {
            d.latestSkipStart = latestSkipStart.load (std::memory_order_acquire);
            d.skippedBefore = skippedBefore.load (std::memory_order_acquire);
        }
        else
            d.latestSkipStart = d.skippedBefore = d.validFrom;
        return d;
    }

    inline AudioSide::Run AudioSide::classify (int64_t abs, int maxLength, const Delivered& d) const noexcept
    {
        if (abs < 0)
            return { RunKind::preRoll, 0, static_cast<int> (std::min<int64_t> (maxLength, -abs)) };

        uint64_t p = 0;
        int run = 0;
        if (! mapToRing (static_cast<uint64_t> (abs), p, run))
            return { RunKind::missing, p, std::min (run, maxLength) };

        const int toGap = run;
        run = std::min (run, maxLength);
        auto upTo = [run] (uint64_t from, uint64_t to) { return static_cast<int> (std::min<uint64_t> (static_cast<uint64_t> (run), to - from)); };
        if (p < d.readPos) // released already: only after the latency grew
            return { RunKind::transition, p, upTo (p, d.readPos) };
        if (p < d.skippedBefore || (p >= d.latestSkipStart && p < d.validFrom)) // skipped by a worker that was far behind
            return { RunKind::missing, p, upTo (p, p < d.skippedBefore ? d.skippedBefore : d.validFrom) };
        if (p < d.latestSkipStart) // made before the latest skip (read again after the latency grew)
        {
            const auto before = static_cast<int> (std::min<uint64_t> (static_cast<uint64_t> (toGap), d.latestSkipStart - p));
            return { RunKind::wet, p, upTo (p, d.latestSkipStart), before };
        }
        if (p >= d.hi) // not delivered yet: the worker is late
            return { RunKind::missing, p, run };
        const auto made = static_cast<int> (std::min<uint64_t> (static_cast<uint64_t> (toGap), d.hi - p));
        return { RunKind::wet, p, upTo (p, d.hi), made };
    }

    // Audio thread. Writes the output for the current block at latency L into out (which may be
    // the host's buffer: the input is already in the dry line). Returns the frames that were missing.
    //
    // Where the worker was late, the delayed dry signal stands in, and the switch is a linear fade
    // of dropoutFade frames, never a hard cut: wetGain (this latency's own) falls towards 0 as soon
    // as the wet signal delivered so far ends within one fade length (a look-ahead: it reaches 0
    // just as the wet signal runs out), and rises back to 1 once a whole fade length is there.
    // out = mix x (wetGain x wet x output + (1 - wetGain) x dry) + (1 - mix) x dry, the mix and the
    // output gain ramped over the block (mixStep, outputGainStep a frame).
    int AudioSide::renderAt (int latencySamples, float& gain, float* const* out, int nch, int n, float mixStep, float outputGainStep,
                             uint64_t* firstMissing) noexcept
    {
        const Delivered d = delivered (true);
        const int64_t firstAbs = static_cast<int64_t> (audioTime) - latencySamples;
        const float gainStep = 1.0f / static_cast<float> (dropoutFade);
        int missing = 0;
        for (int i = 0; i < n;)
        {
            const Run run = classify (firstAbs + i, n - i, d);
            const bool wet = run.kind == RunKind::wet;
            const bool steady = wet ? (gain >= 1.0f && run.length + dropoutFade <= run.available) : gain <= 0.0f;
            float endGain = gain;
            for (int c = 0; c < nch; ++c)
            {
                float* dst = out[c] + i;
                if (run.kind == RunKind::preRoll)
                {
                    std::fill (dst, dst + run.length, 0.0f);
                    continue;
                }
                const auto dryStart = static_cast<uint64_t> (firstAbs + i);
                const auto len = static_cast<size_t> (run.length);
                if (steady && mixStep == 0.0f && (! wet || mixCurrent == 0.0f))
                {
                    dryLine.readFrames (dryStart, &out[c], 1, static_cast<size_t> (i), len, c);
                    continue;
                }
                if (steady && mixStep == 0.0f && mixCurrent == 1.0f && outputGainStep == 0.0f && outputGainCurrent == 1.0f)
                {
                    outputRing.readFrames (run.ringPos, &out[c], 1, static_cast<size_t> (i), len, c);
                    continue;
                }
                float g = gain;
                for (int k = 0; k < run.length; ++k)
                {
                    if (! wet)
                        g = 0.0f; // (a fade that began in time is at 0 already)
                    else if (k + dropoutFade <= run.available)
                        g = std::min (1.0f, g + gainStep);
                    else
                        g = std::max (0.0f, g - gainStep);
                    const float dry = dryLine.sample (c, dryStart + static_cast<uint64_t> (k));
                    const float w = wet ? outputRing.sample (c, run.ringPos + static_cast<uint64_t> (k)) * (outputGainCurrent + outputGainStep * static_cast<float> (i + k))
                                        : dry;
                    const float m = mixCurrent + mixStep * static_cast<float> (i + k);
                    const float faded = g >= 1.0f ? w : w * g + dry * (1.0f - g);
                    dst[k] = faded * m + dry * (1.0f - m);
                }
                endGain = g;
            }
            if (run.kind != RunKind::preRoll)
                gain = steady ? (wet ? 1.0f : 0.0f) : endGain;
            if (run.kind == RunKind::missing)
            {
                if (missing == 0 && firstMissing != nullptr)
                    *firstMissing = run.ringPos;
                missing += run.length;
            }
            i += run.length;
        }
        return missing;
    }

    // Audio thread, the common case in one pass: where the whole block is the worker's output at
    // unity gain and mix (the caller checks those), delivered a dropout fade beyond it, with no
    // latency crossfade, copies it out while the crossfade follows its steps. What renderAt and
    // latencyFade.process would do, in fewer instructions. Returns false, having written nothing,
    // in any other case.
    bool AudioSide::copySteadyWetOnAudio (float* const* out, int nch, int n) noexcept
    {
        if (wetGain < 1.0f || latencyFade.isActive())
            return false;
        const Run run = classify (static_cast<int64_t> (audioTime) - latency, n, delivered (false));
        if (run.kind != RunKind::wet || run.length < n || run.length + dropoutFade > run.available)
            return false;
        for (int i = 0; i < n;) // a span a turn: one unless the ring's end falls within the block
        {
            size_t contiguous = 0;
            const float* const src = outputRing.readSpan (0, run.ringPos + static_cast<uint64_t> (i), contiguous); // channel 0's
            const int len = static_cast<int> (std::min<size_t> (contiguous, static_cast<size_t> (n - i)));
            const size_t stride = outputRing.channelStride();
            for (int c = 0; c < nch; ++c)
                latencyFade.copyFollowingSteps (c, src + static_cast<size_t> (c) * stride, out[c] + i, len);
            i += len;
        }
        return true;
    }

    // Audio thread: takes a requested latency. A request during a latency crossfade waits for its
    // end, unless it asks for the previous latency: the fade then turns back from its current gain.
    void AudioSide::takeLatencyRequestOnAudio() noexcept
    {
        int requested = requestedLatency.load (std::memory_order_acquire);
        if (requested < 0)
            return;
        if (requested == latency)
        {
            requestedLatency.compare_exchange_strong (requested, -1, std::memory_order_acq_rel);
            return;
        }
        if (latencyFade.isActive())
        {
            if (requested != fadeFromLatency || ! requestedLatency.compare_exchange_strong (requested, -1, std::memory_order_acq_rel))
                return;
            std::swap (latency, fadeFromLatency);
            std::swap (wetGain, fadeWetGain);
            latencyFade.reverse();
        }
        else
        {
            if (! requestedLatency.compare_exchange_strong (requested, -1, std::memory_order_acq_rel))
                return;
            fadeFromLatency = latency;
            fadeWetGain = wetGain;
            latencyFade.start();
            latency = requested;
        }
        publishedLatency.store (latency, std::memory_order_relaxed);
        traceOnAudio (trace::Kind::latency, nowNanos(), 0, 0, latency);
    }

    // Audio thread, wait-free: an event in this instance's lane of the trace, when tracing.
    void AudioSide::pushTraceOnAudio (trace::Kind kind, int64_t at, uint64_t ringPos, int frames, int value, int64_t due) noexcept
    {
        trace::Event e;
        e.kind = kind;
        e.instance = instanceId;
        e.start = e.end = at;
        e.due = due;
        e.ringPos = ringPos;
        e.frames = frames;
        e.value = value;
        audioLane->push (e);
    }

    // Audio thread, offline only: waits until the worker has delivered what this block plays (and a
    // fade length beyond it), giving up after offlineWaitSeconds in which it delivered nothing. Blocking is allowed here: the host renders
    // faster than real time and waits for us.
    void AudioSide::waitForOutputOnAudio (int n) noexcept
    {
        PG_RTSAN_ALLOW_BLOCKING;
        const int smallest = latencyFade.isActive() ? std::min (latency, fadeFromLatency) : latency;
        const int64_t lastAbs = std::min (static_cast<int64_t> (audioTime) + n - smallest + dropoutFade,
                                          static_cast<int64_t> (audioTime) + n);
        if (lastAbs <= 0)
            return;
        uint64_t neededPos = 0;
        int ignored = 0;
        mapToRing (static_cast<uint64_t> (lastAbs - 1), neededPos, ignored);
        // The bound is on the worker's silence, not on the block: a slow DSP that delivers goes on.
        int64_t deadline = nowNanos() + static_cast<int64_t> (offlineWaitSeconds * 1.0e9);
        uint64_t delivered = outputRing.publishedWritePosition();
        for (int spins = 0; outputRing.publishedWritePosition() <= neededPos && neededPos < inputWritePos; ++spins)
        {
            if (const uint64_t now = outputRing.publishedWritePosition(); now != delivered)
            {
                delivered = now;
                deadline = nowNanos() + static_cast<int64_t> (offlineWaitSeconds * 1.0e9);
            }
            if (nowNanos() > deadline)
                return; // the worker is stuck: the fade to dry covers it, and counts it
            if (spins < 64)
                std::this_thread::yield();
            else
                sleepNanos (50'000);
        }
    }

    // The entry: counted in audioCallsInside, so that prepare() and release() can wait until no call
    // is inside (they clear `prepared` first: a call that sees it cleared passes the audio through).
    void AudioSide::processBlock (float* const* channels, int numChannels, int numFrames) noexcept
    {
        audioCallsInside.fetch_add (1, std::memory_order_seq_cst);
        if (prepared.load (std::memory_order_seq_cst) && numFrames > 0 && numChannels > 0)
        {
            const int64_t entryNanos = nowNanos(); // the clock's one reading until the call returns
            const bool renders = renderPace.onBlockStart (entryNanos, numFrames);
            rendering.store (renders && renderDetection.load (std::memory_order_relaxed), std::memory_order_relaxed);
            if (! paceKnown.load (std::memory_order_relaxed) && renderPace.hasDecided())
                paceKnown.store (true, std::memory_order_release);
            if (! isOffline() && numFrames > largestBlock.load (std::memory_order_relaxed))
                largestBlock.store (numFrames, std::memory_order_relaxed); // the floor follows the blocks sent in real time
            processPrepared (channels, numChannels, numFrames, entryNanos);
            renderPace.onBlockEnd (nowNanos());
        }
        audioCallsInside.fetch_sub (1, std::memory_order_release);
    }

    void AudioSide::processPrepared (float* const* channels, int numChannels, int numFrames, int64_t callbackNanos) noexcept
    {
        if (numFrames > blockPrepared) // larger than prepared: in pieces
        {
            std::array<float*, maxChannels> part {};
            const int nch = std::min (numChannels, maxChannels);
            for (int offset = 0; offset < numFrames; offset += blockPrepared)
            {
                for (int c = 0; c < nch; ++c)
                    part[static_cast<size_t> (c)] = channels[c] + offset;
                processPrepared (part.data(), nch, std::min (blockPrepared, numFrames - offset), callbackNanos);
            }
            return;
        }

        takeLatencyRequestOnAudio();

        const int nch = std::min (numChannels, channelsPrepared);
        const int n = numFrames;

        // 1. One pass over the input into the dry line and the worker's input.
        const bool toWorker = inputRing.freeForProducer() >= static_cast<int64_t> (n);
        writeInputOnAudio (channels, nch, n, toWorker);

        // 2. Hand the input to the worker, or count it as dropped. (Its arrival is the call's entry.)
        handOverOnAudio (n, toWorker, callbackNanos);
        if (isOffline())
            waitForOutputOnAudio (n);

        // 3. The output: wet from the worker where it arrived in time, delayed dry elsewhere (with a
        //    fade each way). After a latency change, the output at the previous L is crossfaded into
        //    the new one.
        const float target = bypassed.load (std::memory_order_relaxed) ? 0.0f : mixTarget.load (std::memory_order_relaxed);
        const float mixStep = (target - mixCurrent) / static_cast<float> (n);
        const float outputGainTargetNow = outputGainTarget.load (std::memory_order_relaxed);
        const float outputGainStep = (outputGainTargetNow - outputGainCurrent) / static_cast<float> (n);
        uint64_t firstMissing = 0;
        int missing = 0;
        const bool unity = mixStep == 0.0f && mixCurrent == 1.0f && outputGainStep == 0.0f && outputGainCurrent == 1.0f;
        if (! unity || ! copySteadyWetOnAudio (channels, nch, n))
        {
            missing = renderAt (latency, wetGain, channels, nch, n, mixStep, outputGainStep, &firstMissing);
            if (latencyFade.isActive())
                renderAt (fadeFromLatency, fadeWetGain, fadePtrs.data(), nch, n, mixStep, outputGainStep);
            latencyFade.process (fadePtrs.data(), channels, nch, n);
        }
        for (int c = nch; c < numChannels; ++c)
            std::fill (channels[c], channels[c] + n, 0.0f);
        mixCurrent = target;
        outputGainCurrent = outputGainTargetNow;

        if (missing > 0)
        {
            dropoutFrames.store (dropoutFrames.load (std::memory_order_relaxed) + static_cast<uint64_t> (missing), std::memory_order_relaxed);
            dropoutEvents.store (dropoutEvents.load (std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            traceOnAudio (trace::Kind::dropout, callbackNanos, firstMissing, missing, latency);
        }

        // 4. Release what no latency can need again, and tell the worker where the audio is.
        releaseOnAudio (n);
    }

    // Audio thread: each sample is sanitised (non-finite and subnormal samples are silence, on both
    // paths) and written to the dry delay line and, with toWorker, to the worker's input.
    void AudioSide::writeInputOnAudio (float* const* channels, int nch, int n, bool toWorker) noexcept
    {
        const auto un = static_cast<size_t> (n);
        for (size_t i = 0; i < un;) // a span a turn: one unless a ring's end falls within the block
        {
            size_t dryRun = 0, inputRun = un;
            float* const dry = dryLine.writeSpan (0, audioTime + i, dryRun); // channel 0's; the others' a stride apart
            float* const input = toWorker ? inputRing.writeSpan (0, inputWritePos + i, inputRun) : nullptr;
            const size_t len = std::min ({ un - i, dryRun, inputRun });
            const size_t dryStride = dryLine.channelStride(), inputStride = inputRing.channelStride();
            for (int c = 0; c < channelsPrepared; ++c)
            {
                const auto uc = static_cast<size_t> (c);
                float* const d = dry + uc * dryStride;
                float* const in = input != nullptr ? input + uc * inputStride : nullptr;
                if (c >= nch)
                {
                    std::fill (d, d + len, 0.0f); // a channel the host did not send: silence
                    if (in != nullptr)
                        std::fill (in, in + len, 0.0f);
                }
                else
                    sanitiseInto (channels[c] + i, d, in, len);
            }
            i += len;
        }
    }

    // Audio thread: the block's input goes to the worker (its stamp first, then the ring's write
    // position, then the pool is told), or, with the ring full, it is counted as dropped.
    void AudioSide::handOverOnAudio (int n, bool toWorker, int64_t callbackNanos) noexcept
    {
        const auto un = static_cast<size_t> (n);
        if (toWorker)
        {
            const BlockStamp stamp { inputWritePos, callbackNanos, n, latency };
            stamps.push (stamp);
            const int64_t due = deadlineNanos (stamp, stamp.firstRingPos, sampleRate);
            traceOnAudio (trace::Kind::block, callbackNanos, inputWritePos, n, latency, due);
            inputWritePos += un;
            inputRing.publishWrite (inputWritePos);
            // Offline, the audio thread waits for this chunk: it is due now, and a napping thread is woken.
            pool->markPending (poolSlot.load (std::memory_order_acquire), isOffline() ? callbackNanos : due, callbackNanos);
        }
        else
        {
            recordDroppedInput (audioTime, n);
            inputOverflowFrames.store (inputOverflowFrames.load (std::memory_order_relaxed) + un, std::memory_order_relaxed);
        }
    }

    // Audio thread, after a block: releases what no latency up to the maximum can need again (so
    // that a latency that grows finds the worker's output still there), and tells the worker where
    // the audio is.
    void AudioSide::releaseOnAudio (int n) noexcept
    {
        const auto un = static_cast<size_t> (n);
        audioTime += un;
        const int64_t reach = maxLatencyFrames;
        const uint64_t hi = outputRing.publishedWritePosition();
        const int64_t oldestAbs = static_cast<int64_t> (audioTime) - reach;
        if (oldestAbs > 0)
        {
            uint64_t oldestPos = 0;
            int ignored = 0;
            mapToRing (static_cast<uint64_t> (oldestAbs), oldestPos, ignored);
            const uint64_t release = std::min (oldestPos, hi);
            if (release > outputReadPos)
            {
                outputReadPos = release;
                outputRing.publishRead (outputReadPos);
            }
        }
        const int64_t nextAbs = static_cast<int64_t> (audioTime) - std::max (latency, latencyFade.isActive() ? fadeFromLatency : 0);
        uint64_t nextPos = 0;
        if (nextAbs >= 0)
        {
            int ignored = 0;
            mapToRing (static_cast<uint64_t> (nextAbs), nextPos, ignored);
        }
        audioNeededRingPos.store (nextPos, std::memory_order_release);
    }

    // ---- control thread, no audio call inside -----------------------------------------------------

    void AudioSide::prepare (const EngineSettings& settings, int announcedBlock, int chunkFrames)
    {
        channelsPrepared = settings.numChannels;
        blockPrepared = settings.maxBlockSize;
        sampleRate = settings.sampleRate;
        announcedRealtimeBlock = announcedBlock <= maxBufferedBlock ? std::max (0, announcedBlock) : 0;
        largestBlock.store (0, std::memory_order_relaxed);
        rendering.store (false, std::memory_order_relaxed);
        paceKnown.store (false, std::memory_order_relaxed);
        renderPace.reset (sampleRate, maxBufferedBlock, announcedBlock);
        dropoutFade = fadeSamplesFor (sampleRate);
        wetGain = fadeWetGain = 1.0f;
        // The trace's lane for this instance's audio side: an event per block of the prepared size,
        // a few for its dropouts and latency changes. (It keeps the newest: with smaller blocks or
        // many dropouts, it covers less than the trace's window.)
        audioLane = trace::Recorder::global().newLane ("instance " + std::to_string (instanceId) + " (audio)",
                                                       sampleRate / std::max (16, blockPrepared) + 10.0);

        maxLatencyFrames = static_cast<int64_t> (std::ceil (settings.maxLatencySeconds * sampleRate));
        const auto maxLatency = static_cast<size_t> (maxLatencyFrames);
        const auto block = static_cast<size_t> (blockPrepared);
        dryLine.allocate (channelsPrepared, maxLatency + block + 16);
        // The output ring holds what a latency up to the maximum may still play (releaseOnAudio)
        // and what the worker has delivered since: at most the maximum + a block + a chunk. The
        // input ring holds the worker's backlog; input older than the maximum latency could only
        // be played late, so a backlog longer than the ring is dropped (a gap), not kept.
        const size_t ringFrames = maxLatency + 2 * block + static_cast<size_t> (chunkFrames);
        inputRing.allocate (channelsPrepared, ringFrames);
        outputRing.allocate (channelsPrepared, ringFrames);
        // A stamp per block in flight: a sixteenth of the ring's frames is room for every block
        // of 16 frames or more. (With smaller blocks and a stalled worker a stamp may be dropped:
        // the worker then times those frames by the stamp before.) Sized per frame, it alone
        // would cost prepare a few milliseconds of page faults.
        stamps.allocate (std::max<size_t> (1024, inputRing.getCapacity() / 16));

        audioTime = inputWritePos = outputReadPos = 0;
        numGaps = 0;
        baseOffset = 0;
        outputValidFrom.store (0, std::memory_order_relaxed);
        latestSkipStart.store (0, std::memory_order_relaxed);
        skippedBefore.store (0, std::memory_order_relaxed);
        audioNeededRingPos.store (0, std::memory_order_relaxed);
        mixCurrent = bypassed.load() ? 0.0f : mixTarget.load();
        outputGainCurrent = outputGainTarget.load();
        latencyFade.prepare (sampleRate, 0.005, 0.050);
        fadeScratch.assign (static_cast<size_t> (channelsPrepared * blockPrepared), 0.0f);
        for (int c = 0; c < maxChannels; ++c)
            fadePtrs[static_cast<size_t> (c)] =
                c < channelsPrepared ? fadeScratch.data() + static_cast<size_t> (c * blockPrepared) : nullptr;
    }

    void AudioSide::startAt (int latencySamples) noexcept
    {
        latency = latencySamples;
        publishedLatency.store (latency, std::memory_order_relaxed);
        requestedLatency.store (-1, std::memory_order_relaxed);
    }

    void AudioSide::connect (WorkerPool& workerPool, WorkerPool::Slot* slot) noexcept
    {
        pool = &workerPool;
        poolSlot.store (slot, std::memory_order_release);
    }

    void AudioSide::leaveAudioThread() noexcept
    {
        // Pairs with processBlock's count-then-check: either a call sees `prepared` cleared, or this
        // sees the call inside and waits for it.
        prepared.store (false, std::memory_order_seq_cst);
        while (audioCallsInside.load (std::memory_order_seq_cst) != 0)
            std::this_thread::yield();
    }

    // ---- any thread -------------------------------------------------------------------------------

    void AudioSide::requestLatency (int clamped) noexcept
    {
        requestedLatency.store (clamped, std::memory_order_release);
        if (! prepared.load (std::memory_order_acquire))
            publishedLatency.store (clamped, std::memory_order_relaxed);
    }

    int AudioSide::getLatencySamples() const noexcept
    {
        const int pending = requestedLatency.load (std::memory_order_acquire);
        return pending >= 0 ? pending : publishedLatency.load (std::memory_order_relaxed);
    }

    void AudioSide::addCountersTo (EngineCounters& c) const noexcept
    {
        c.dropoutFrames = dropoutFrames.load (std::memory_order_relaxed);
        c.dropoutEvents = dropoutEvents.load (std::memory_order_relaxed);
        c.inputOverflowFrames = inputOverflowFrames.load (std::memory_order_relaxed);
        c.latencySamples = getLatencySamples();
    }

    void AudioSide::clearCounters() noexcept
    {
        for (auto* c : { &dropoutFrames, &dropoutEvents, &inputOverflowFrames })
            c->store (0, std::memory_order_relaxed);
    }
} // namespace pg
