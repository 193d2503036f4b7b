-- Musical: a stereo chorus with feedback. Its state is a table of delay lines (one per channel),
-- allocated once; its modulation is computed per block into a small fresh table, as idiomatic Lua
-- does. Moderate garbage, a live heap of a few hundred KB.
macros = {
    { name = "rate_hz", min = 0.05, max = 3.0 },
    { name = "depth_ms", min = 0.5, max = 8.0 },
    { name = "feedback", min = 0.0, max = 0.85 },
    { name = "mix", min = 0.0, max = 1.0 },
}

local lines = {}
local phase = 0.0

function prepare(rate, maxFrames, channels)
    phase = 0.0 -- state is reset here: the engine may run the script before it plays
    lines = {}
    for c = 1, channels do lines[c] = pg.delay(math.floor(rate * 0.05)) end
end

function process(ch, n, p)
    local rate = pg.sample_rate
    local base = 0.012 * rate
    local depth = p.depth_ms * 0.001 * rate
    local step = 2.0 * math.pi * p.rate_hz / rate
    local fb, mix = p.feedback, p.mix
    local mods = {} -- per block: the delay of each sample, in samples
    for i = 1, n do
        mods[i] = phase
        phase = phase + step
    end
    phase = phase % (2.0 * math.pi)
    for c = 1, #ch do
        local x, line = ch[c], lines[c]
        if line == nil then line = pg.delay(math.floor(rate * 0.05)); lines[c] = line end
        local offset = (c - 1) * math.pi * 0.5 -- the channels move in quadrature: width
        for i = 1, n do
            local d = base + depth * 0.5 * (1.0 + math.sin(mods[i] + offset))
            local k = math.floor(d)
            local frac = d - k
            local wet = line:read(k) * (1.0 - frac) + line:read(k + 1) * frac
            line:push(x[i] + fb * wet)
            x[i] = x[i] * (1.0 - mix * 0.5) + wet * mix
        end
    end
end
