-- Pathological: an effect that hoards. It keeps a history of every block's peak in one huge table
-- (about 100 MB once full) and makes about 200 KB of garbage per block. A full collection must mark the
-- whole hoard, and one table is traversed in one piece: long pauses for the automatic collector.
-- (The sound is a plain soft clipper.)
macros = {
    { name = "drive_db", min = 0.0, max = 24.0 },
}

local hoard = {}
local filled = 0
local LIMIT = 1500000 -- entries of ~70 bytes each

function process(ch, n, p)
    local drive = pg.db_to_gain(p.drive_db)
    local trim = 1.0 / math.sqrt(drive)
    local peak = 0.0
    for c = 1, #ch do
        local x = ch[c]
        for i = 1, n do
            local y = pg.softclip(x[i] * drive) * trim
            if y > peak then peak = y end
            x[i] = y
        end
    end
    -- Hoard: 4000 small records per block until the limit (the live heap grows to ~100 MB).
    for k = 1, 4000 do
        if filled >= LIMIT then break end
        filled = filled + 1
        hoard[filled] = { peak, k }
    end
    -- Garbage: about 200 KB of short-lived tables per block.
    local junk = {}
    for k = 1, 2000 do junk[k] = { k, peak } end
end
