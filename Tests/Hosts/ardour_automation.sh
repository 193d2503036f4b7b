#!/usr/bin/env bash
# Real-host test: where Ardour 7's automation of PauseGuard's Output and Mix lands, in an offline
# export (ardour7-export). Ardour sends a latent plug-in's automation for the time its output is
# heard; PauseGuard applies both at its output stage, so both must land within one host block
# (1024 samples) of their point, not L (1,424 samples) late.
#
# The session (built as ardour_export.sh builds its own): a 6 s region of a 440 Hz sine at 0.5 at
# 1 s, PauseGuard's VST3 made transparent (Drive 0 dB, Tone 100 %: its wet signal is its input),
# Output automated from 0 dB to -12 dB at 3 s and Mix from 100 % to 0 % at 5 s (each a step: a
# point 64 samples before at the old value, one at the new). The export, aligned by Ardour's
# latency compensation, divided by the region's audio gives the gain at every frame: 1, then
# 0.251 from the Output step, then 1 again from the Mix step (the dry signal). Each step's
# transition (the first and last frames off both levels) must lie within one block of its point.
#
# Usage: ardour_automation.sh <PauseGuard.vst3 bundle>
set -euo pipefail

bundle=${1:?usage: ardour_automation.sh <PauseGuard.vst3 bundle>}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/ardour_common.sh"
for tool in ardour7-export python3 timeout; do
    command -v "$tool" >/dev/null || { echo "FAIL: '$tool' not found (apt-get install ardour python3)" >&2; exit 1; }
done
ardour_setup vst3 "$bundle"

ardour_install_probe_sine

cat >"$work/build.lua" <<'LUA'
AudioEngine:set_backend("None (Dummy)", "", "")
local s = create_session(os.getenv("PG_SESSION"), "pg", 48000)
assert(s, "could not create a session")
local rate = s:nominal_sample_rate()
local route = s:new_audio_track(2, 2, nil, 1, "pg", ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true):front()
dofile(os.getenv("PG_COMMON_LUA"))
pg_bounced_region(s, route, "PauseGuard Probe Sine", 6, "sine")

local proc = ARDOUR.LuaAPI.new_plugin(s, "PauseGuard", ARDOUR.PluginType.VST3, "")
if proc:isnil() then error("Ardour could not load the PauseGuard VST3") end
assert(route:add_processor_by_index(proc, 0, nil, true) == 0, "could not add the plugin")
-- Normalised VST3 values: Drive 0 dB = 0, Tone 100 % = 1; Output -24..12 dB, Mix 0..100 %.
assert(ARDOUR.LuaAPI.set_processor_param(proc, pg_param_index(proc, "Drive"), 0.0), "set_processor_param failed")
assert(ARDOUR.LuaAPI.set_processor_param(proc, pg_param_index(proc, "Tone"), 1.0), "set_processor_param failed")

-- A step at `at` (session samples): the old value 64 samples before, the new one at the point.
local function step(label, at, from, to)
  local index = pg_param_index(proc, label)
  local al, cl, pd = ARDOUR.LuaAPI.plugin_automation(proc, index)
  assert(not al:isnil(), "no automation list for " .. label)
  cl:add(Temporal.timepos_t(0), from, false, false)
  cl:add(Temporal.timepos_t(at - 64), from, false, false)
  cl:add(Temporal.timepos_t(at), to, false, false)
  local control = proc:to_automatable():automation_control(Evoral.Parameter(ARDOUR.AutomationType.PluginAutomation, 0, index), false)
  assert(not control:isnil(), "no automation control for " .. label)
  control:set_automation_state(ARDOUR.AutoState.Play)
  print(string.format("ardour: %s automated %.4f -> %.4f at %d (range %.1f..%.1f)", label, from, to, at, pd.lower, pd.upper))
end
step("Output", 3 * rate, 24 / 36, 12 / 36)
step("Mix", 5 * rate, 1.0, 0.0)

for _ = 1, 50 do
  if proc:signal_latency() > 0 and route:signal_latency() == proc:signal_latency() then break end
  ARDOUR.LuaAPI.usleep(100000)
end
print(string.format("ardour: plugin latency %d", proc:signal_latency()))
assert(s:save_state("", false, false, false, false, false) == 0, "save_state failed")
close_session()
print("ardour: session ready")
LUA

ardour_build_session "$work/build.lua"

sources=$(find "$work/session/interchange" -name 'sine*%L.wav' | head -n 1)
[[ -n $sources ]] || { echo "FAIL: the bounced region's files are missing" >&2; exit 1; }
python3 "$here/wav_compare.py" join "$sources" "${sources/\%L.wav/%R.wav}" "$work/in.wav"
ardour_export_session pg "$work/out.wav"

python3 - "$here" "$work/in.wav" "$work/out.wav" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import wav_compare
x, y = wav_compare.read_wav(sys.argv[2]).channels[0], wav_compare.read_wav(sys.argv[3]).channels[0]
rate, start, block = 48000, 48000, 1024
low = 10 ** (-12 / 20)

def transition(point, before, after):
    """The first and last frames, near `point` (export frames), whose gain is at neither level."""
    off = [n for n in range(point - 4 * block, point + 4 * block)
           if abs(x[n]) > 0.2 and abs(y[n] / x[n] - before) > 1e-3 and abs(y[n] / x[n] - after) > 1e-3]
    return (off[0], off[-1]) if off else None

ok = True
for name, at, before, after in (("Output", 3 * rate, 1.0, low), ("Mix", 5 * rate, low, 1.0)):
    point = at - start
    window = transition(point, before, after)
    settled_before = all(abs(y[n] / x[n] - before) < 1e-3 for n in range(point - 8 * block, point - 4 * block) if abs(x[n]) > 0.2)
    settled_after = all(abs(y[n] / x[n] - after) < 1e-3 for n in range(point + 4 * block, point + 8 * block) if abs(x[n]) > 0.2)
    if window is None or not (settled_before and settled_after):
        print(f"{name}: no step from {before:.3f} to {after:.3f} near {point} (settled before {settled_before}, after {settled_after})")
        ok = False
        # For the diagnosis: the lag at which the export matches its input best, 0.5 s before
        # the point (an export out of alignment, or a gain that never came).
        at_n = point - rate // 2
        def misfit(lag, g=before):
            return sum((y[n] - g * x[n - lag]) ** 2 for n in range(at_n, at_n + 256))
        lag = min(range(-1536, 1537), key=misfit)
        print(f"{name}: 0.5 s before it the export matches its input best {lag:+d} samples later "
              f"(residual {misfit(lag):.3g} against {misfit(0):.3g} at 0)")
        continue
    first, last = window[0] - point, window[1] - point
    inside = first >= -block - 64 and last <= block
    print(f"{name}: the step at frame {point} lands from {first:+d} to {last:+d} samples of it "
          f"({'within' if inside else 'NOT within'} one {block}-sample block)")
    ok = ok and inside
print("ardour automation: PASS" if ok else "FAIL: automation does not land within one block of its point")
sys.exit(0 if ok else 1)
PY
