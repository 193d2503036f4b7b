-- The user script the README's screenshot runs: a soft clipper whose macros also set a workload
-- (garbage per block and a live heap), and a few lines on the console.
macros = {
    { name = "drive_db", min = 0.0, max = 24.0 },
    { name = "mix", min = 0.0, max = 1.0 },
    { name = "garbage_kb", min = 0.0, max = 1024.0 },
    { name = "live_heap_mb", min = 0.0, max = 256.0 },
}

local live, liveCount, BUCKET = {}, 0, 256 -- records of ~1 KB, in tables of 256
local template, unpack = {}, table.unpack
for k = 1, 60 do template[k] = k * 0.5 end -- 60 numbers: a table of ~1 KB
local blocks, nextReport = 0, 10

function prepare(rate, maxFrames, channels)
    print(string.format("prepared: %d Hz, %d channels", rate, channels))
end

local function keepLiveHeap(mb)
    local wanted, budget = math.floor(mb * 1024), 1024 -- at most 1 MB more or less per block
    while liveCount < wanted and budget > 0 do
        local b = liveCount // BUCKET + 1
        live[b] = live[b] or {}
        live[b][liveCount % BUCKET + 1] = { unpack(template) }
        liveCount, budget = liveCount + 1, budget - 1
    end
    while liveCount > wanted and budget > 0 do
        liveCount, budget = liveCount - 1, budget - 1
        live[liveCount // BUCKET + 1][liveCount % BUCKET + 1] = nil
    end
end

function process(ch, n, p)
    local drive = pg.db_to_gain(p.drive_db)
    local trim = 1.0 / math.sqrt(drive)
    for c = 1, #ch do
        local x = ch[c]
        for i = 1, n do x[i] = pg.lerp(x[i], pg.softclip(x[i] * drive) * trim, p.mix) end
    end
    for _ = 1, math.floor(p.garbage_kb) do local garbage = { unpack(template) } end
    keepLiveHeap(p.live_heap_mb)
    blocks = blocks + n
    if blocks >= nextReport * pg.sample_rate then
        print(string.format("%d s: heap %.1f MB", nextReport, collectgarbage("count") / 1024))
        nextReport = nextReport + 10
    end
end
