-- Typical: a tremolo written the way garbage-collected code usually is. Every block it builds a
-- fresh table of gains and a small "event" object, and drops them: a steady trickle of garbage
-- that the collector has to clear, with short pauses.
macros = {
    { name = "rate_hz", min = 0.5, max = 12.0 },
    { name = "depth", min = 0.0, max = 1.0 },
}

local phase = 0.0

function prepare(rate, maxFrames, channels)
    phase = 0.0 -- state is reset here: the engine may run the script before it plays
end

function process(ch, n, p)
    local gains = {}                        -- new every block
    local step = 2.0 * math.pi * p.rate_hz / pg.sample_rate
    for i = 1, n do
        gains[i] = 1.0 - p.depth * 0.5 * (1.0 + math.sin(phase))
        phase = phase + step
    end
    if phase > 2.0 * math.pi then phase = phase % (2.0 * math.pi) end
    local event = { frames = n, first = gains[1], last = gains[n] } -- garbage too
    for c = 1, #ch do
        local x = ch[c]
        for i = 1, event.frames do x[i] = x[i] * gains[i] end
    end
end
