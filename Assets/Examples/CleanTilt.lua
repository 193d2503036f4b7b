-- Clean: a tilt equaliser that allocates nothing while it runs. Its state lives in tables made
-- once in prepare, and it writes its output into the channel tables it is given. With no garbage
-- the collector has nothing to do: no pauses, whatever the strategy.
macros = {
    { name = "tilt", min = -1.0, max = 1.0 },  -- dark ... bright
    { name = "gain_db", min = -12.0, max = 12.0 },
}

local lows = {}

function prepare(rate, maxFrames, channels)
    for c = 1, channels do lows[c] = 0.0 end
end

function process(ch, n, p)
    local a = 1.0 - math.exp(-2.0 * math.pi * 700.0 / pg.sample_rate)
    local tilt, gain = p.tilt, pg.db_to_gain(p.gain_db)
    local lowGain, highGain = 1.0 - 0.8 * tilt, 1.0 + 0.8 * tilt
    for c = 1, #ch do
        local x, low = ch[c], lows[c] or 0.0
        for i = 1, n do
            local s = x[i]
            low = low + a * (s - low)
            x[i] = gain * (lowGain * low + highGain * (s - low))
        end
        lows[c] = low
    end
end
