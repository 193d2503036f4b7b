-- PauseGuard's built-in effect: a warm tube-style saturator with a tone control.
--
-- Written the way a collected language invites: every block allocates fresh objects (a table of
-- "voices" with per-sample scratch), and the effect keeps a live heap of history records. Two
-- workload parameters shape the garbage so the collector's pauses can be dialled in:
--   params.garbage_kb    garbage allocated per block, in KB
--   params.live_heap_mb  live heap kept reachable, in MB (grown and shrunk 1 MB per block, or
--                        32 MB per block while the engine profiles the script: params.profiling)
--
-- process(channels, n, params): channels[c][i] holds the input; fill it with the output.

local sampleRate = 48000
local state = {}      -- per channel: filter memories
local live = {}       -- the live heap: records of 1 KB each
local liveCount = 0
local RECORD_SLOTS = 60 -- numbers per record: 60 * 16 B + table header ~ 1 KB
local recordTemplate = {}
for k = 1, RECORD_SLOTS do recordTemplate[k] = k * 0.5 end
local unpack = table.unpack

function prepare(rate, maxFrames, numChannels)
    sampleRate = rate
    state = {}
    for c = 1, numChannels do
        state[c] = { lowpass = 0.0, dcIn = 0.0, dcOut = 0.0 }
    end
end

local function dbToGain(db)
    return 10.0 ^ (db / 20.0)
end

-- Asymmetric soft clipper: a rational tanh approximation with a little even-order colour.
local function saturate(x)
    if x > 3.0 then x = 3.0 elseif x < -3.0 then x = -3.0 end
    local x2 = x * x
    return x * (27.0 + x2) / (27.0 + 9.0 * x2) + 0.04 * x2 / (1.0 + x2)
end

-- Keep about `mb` megabytes reachable, changing it by at most `stepMb` per block. The records
-- live in buckets of 256, so that no single table is huge (a table is traversed in one piece).
local BUCKET = 256
local function shapeLiveHeap(mb, stepMb, blockIndex)
    local wanted = math.floor(mb * 1024)
    local budget = stepMb * 1024
    while liveCount < wanted and budget > 0 do
        local b = (liveCount // BUCKET) + 1
        local bucket = live[b]
        if bucket == nil then
            bucket = {}
            live[b] = bucket
        end
        liveCount = liveCount + 1
        bucket[(liveCount - 1) % BUCKET + 1] = { unpack(recordTemplate) }
        budget = budget - 1
    end
    while liveCount > wanted and budget > 0 do
        local b = ((liveCount - 1) // BUCKET) + 1
        live[b][(liveCount - 1) % BUCKET + 1] = nil
        if (liveCount - 1) % BUCKET == 0 then live[b] = nil end
        liveCount = liveCount - 1
        budget = budget - 1
    end
    -- Touch a record so the heap is live data, not a frozen blob.
    if liveCount > 0 then
        local i = (blockIndex % liveCount)
        local r = live[i // BUCKET + 1][i % BUCKET + 1]
        r[1] = r[1] + 1.0
    end
end

local blockIndex = 0

function process(channels, n, params)
    blockIndex = blockIndex + 1
    local drive = dbToGain(params.drive_db or 12.0)
    local makeup = 1.0 / math.sqrt(drive) -- (the host's Output is applied after the script, by the engine)
    local tone = params.tone or 0.5
    -- At the ends of their ranges the stages step aside, so that the effect can be exactly
    -- transparent (drive 0 dB, tone 100 %: output = input, no phase shift):
    -- drive 0 dB does not saturate, so it adds no DC to remove; tone 100 % opens the filter.
    local clean = (params.drive_db or 12.0) <= 0.0
    local open = tone >= 0.9999
    -- Tone: a one-pole low-pass whose corner moves from 800 Hz (dark) to 16 kHz (bright).
    local corner = 800.0 * (20.0 ^ tone)
    local coeff = 1.0 - math.exp(-2.0 * math.pi * corner / sampleRate)

    -- Garbage: per-block objects, as a collected language makes them without thinking.
    local garbageBytes = (params.garbage_kb or 64.0) * 1024.0
    local voices = {}
    local made = 0
    while made < garbageBytes do
        voices[#voices + 1] = { gain = drive, tone = tone, peak = 0.0, id = made }
        made = made + 120 -- a small table with four hash fields is ~120 bytes
    end

    shapeLiveHeap(params.live_heap_mb or 0.0, (params.profiling == 1) and 32 or 1, blockIndex)

    for c = 1, #channels do
        local x = channels[c]
        local s = state[c]
        if s == nil then
            s = { lowpass = 0.0, dcIn = 0.0, dcOut = 0.0 }
            state[c] = s
        end
        local lp, dcIn, dcOut = s.lowpass, s.dcIn, s.dcOut
        local scratch = {} -- a fresh table per channel per block
        for i = 1, n do
            local y, hp
            if clean then
                y, hp = x[i], x[i]
            else
                y = saturate(x[i] * drive)
                -- remove the DC the asymmetry adds
                hp = y - dcIn + 0.995 * dcOut
            end
            dcIn, dcOut = y, hp -- when clean, the filter's state follows the signal: no click on leaving
            if open then lp = hp else lp = lp + coeff * (hp - lp) end
            scratch[i] = lp * makeup
        end
        for i = 1, n do x[i] = scratch[i] end
        s.lowpass, s.dcIn, s.dcOut = lp, dcIn, dcOut
        if #voices > 0 then voices[1].peak = scratch[1] end
    end
end
