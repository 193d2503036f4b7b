ardour {
  ["type"] = "dsp", name = "PauseGuard Probe Sine", category = "Instrument",
  license = "MIT", author = "PauseGuard tests", description = [[A 440 Hz sine at 0.5 on every channel.]]
}
function dsp_ioconfig () return { { audio_in = 2, audio_out = 2 } } end
local rate, t = 48000, 0
function dsp_init (r) rate = r end
function dsp_run (ins, outs, n)
  local left, right = outs[1]:array(), outs[2]:array()
  for i = 1, n do
    local s = 0.5 * math.sin(2 * math.pi * 440 * (t + i - 1) / rate)
    left[i] = s
    right[i] = s
  end
  t = (t + n) % rate
end
