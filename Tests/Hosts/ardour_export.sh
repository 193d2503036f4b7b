#!/usr/bin/env bash
# Real-host test of the processed sound: Ardour 7's offline export (ardour7-export, freewheeling,
# the plugin in offline mode) must give exactly what `pauseguard render` gives for the same audio.
#
# 1. Headless Ardour (ardour7-lua, dummy backend) builds a 48 kHz session with one stereo audio
#    track holding a real 10 s region: a small Lua DSP generator on the empty track writes a test
#    signal (left: a sine sweep 40 Hz - 12 kHz at -6 dBFS; right: three tones under a slow tremolo,
#    peaks near -2.5 dBFS), track:bounce_range turns it into a region on disk, the region goes into
#    the playlist inside an undo step Ardour knows ("insert file", or the export range stays empty),
#    and the generator is removed. The region's fades are switched off: the region plays exactly
#    its source files. That state is saved as the snapshot "dry"; then PauseGuard's VST3 goes on
#    the track at its defaults (saturator at 12 dB drive, 20 ms latency or the floor for Ardour's
#    1024-sample blocks) and the session is saved.
# 2. The region's source files (interchange/.../signal%L.wav, %R.wav) become IN.wav, and
#    `pauseguard render IN.wav RENDER.wav` processes it offline (the CLI waits for the worker after
#    every block, and writes its output aligned with its input: the latency is removed).
# 3. The "dry" snapshot is exported once: it must equal IN.wav (a check of this harness: the
#    export starts at the region, with unity gain through track, panner and master).
# 4. The session with the plugin is exported several times (8 by default: an export that goes
#    wrong does not go wrong every time). Ardour compensates the plugin's latency, so every
#    export must equal RENDER.wav at lag 0, to rounding (max |difference| below 1e-4), over the
#    whole region: a frame that came out as the unprocessed input (the engine's fallback when its
#    worker is late) fails the test. Each export prints the frames compared, the largest
#    difference and how many frames look dry (closer to the input than to the render).
#
# ardour7-export sometimes hangs right after "Writing", or crashes on exit: each export has a
# timeout and is retried.
#
# With a DSP program (a command line, such as the Go example), the plugin runs it in place of the
# script: it is put on a private allow-list and given to new instances by PAUSEGUARD_DSP_PROGRAM,
# the saved session names it, and the render runs the same program (--process).
#
# PG_EXPORT_SECONDS sets the region's length (default 10); PG_BUSY_CORES=N keeps N cores busy (a
# spinning shell each) during the plugin's exports.
#
# Usage: ardour_export.sh <PauseGuard.vst3 bundle> <pauseguard CLI> [number of exports, default 8] [DSP program]
set -euo pipefail

usage="usage: ardour_export.sh <PauseGuard.vst3 bundle> <pauseguard CLI> [exports] [DSP program]"
bundle=${1:?$usage}
cli=${2:?$usage}
exports=${3:-8}
program=${4:-}
compare=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/wav_compare.py
seconds=${PG_EXPORT_SECONDS:-10} # the region's length (a longer one: PG_EXPORT_SECONDS=60)

source "$(dirname "${BASH_SOURCE[0]}")/ardour_common.sh"
for tool in ardour7-export python3 timeout; do
    command -v "$tool" >/dev/null || { echo "FAIL: '$tool' not found (apt-get install ardour python3)" >&2; exit 1; }
done
[[ -f $compare ]] || { echo "FAIL: $compare is missing" >&2; exit 1; }
[[ -x $cli ]] || { echo "FAIL: no pauseguard CLI at '$cli'" >&2; exit 1; }
ardour_setup vst3 "$bundle"
render_dsp=()
if [[ -n $program ]]; then
    ardour_allow_program "$program"
    render_dsp=(--process "$program")
fi

# The signal generator, a Lua DSP script Ardour finds in the user's scripts folder. Its sweep
# repeats every 10 s, so the bounced region holds each frequency once whenever it starts.
cat >"$HOME/.config/ardour7/scripts/pauseguard_test_signal.lua" <<'LUA'
ardour {
  ["type"] = "dsp", name = "PauseGuard Test Signal", category = "Instrument",
  license = "MIT", author = "PauseGuard tests",
  description = [[Left: a sine sweep 40 Hz - 12 kHz, repeated every 10 s. Right: three tones under a slow tremolo.]]
}

function dsp_ioconfig () return { { audio_in = 2, audio_out = 2 } } end

local rate, t = 48000, 0
local f0, f1, period = 40.0, 12000.0, 10.0
function dsp_init (r) rate = r end

function dsp_run (ins, outs, n)
  local left, right = outs[1]:array(), outs[2]:array()
  local k = math.log(f1 / f0) / period
  for i = 1, n do
    local s = ((t + i - 1) / rate) % period
    left[i] = 0.5 * math.sin(2 * math.pi * f0 * (math.exp(k * s) - 1) / k)
    local tremolo = 0.6 + 0.4 * math.sin(2 * math.pi * 0.3 * s)
    right[i] = tremolo * (0.4 * math.sin(2 * math.pi * 110 * s) + 0.25 * math.sin(2 * math.pi * 661 * s)
                          + 0.1 * math.sin(2 * math.pi * 2500 * s))
  end
  t = t + n
end
LUA

export PG_SESSION=$work/session PG_SECONDS=$seconds
cat >"$work/build.lua" <<'LUA'
local dir, seconds = os.getenv("PG_SESSION"), tonumber(os.getenv("PG_SECONDS"))
AudioEngine:set_backend("None (Dummy)", "", "")
-- The snapshot must not be called "export": the session folder has an export/ folder of that name.
local s = create_session(dir, "pg", 48000)
assert(s, "could not create a session")
local rate = s:nominal_sample_rate()
assert(rate == 48000, "session rate is not 48 kHz")

local route = s:new_audio_track(2, 2, nil, 1, "pg", ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true):front()
dofile(os.getenv("PG_COMMON_LUA"))
local length = seconds * rate
local region = pg_bounced_region(s, route, "PauseGuard Test Signal", seconds, "signal")
print(string.format("ardour: region of %d frames at %d; session range %d..%d", region:length():samples(),
                    rate, s:current_start_sample(), s:current_end_sample()))
assert(s:current_start_sample() == rate and s:current_end_sample() == rate + length, "unexpected session range")
assert(s:save_state("dry", false, false, false, false, false) == 0, "save_state (dry) failed")

-- PauseGuard at its defaults. Ardour updates latencies asynchronously: wait until the track
-- reports the plugin's latency (20 ms, or the plugin's floor for Ardour's blocks if that is more;
-- ardour_latency.sh checks the figure: here it only has to be compensated).
local proc = ARDOUR.LuaAPI.new_plugin(s, "PauseGuard", ARDOUR.PluginType.VST3, "")
if proc:isnil() then error("Ardour could not load the PauseGuard VST3") end
assert(route:add_processor_by_index(proc, 0, nil, true) == 0, "could not add the plugin")
for _ = 1, 50 do
  if proc:signal_latency() > 0 and route:signal_latency() == proc:signal_latency() then break end
  ARDOUR.LuaAPI.usleep(100000)
end
print(string.format("ardour: PauseGuard VST3 on the track; plugin latency %d, track latency %d",
                    proc:signal_latency(), route:signal_latency()))
assert(proc:signal_latency() > 0 and route:signal_latency() == proc:signal_latency(), "the plugin's latency did not reach the track")
assert(s:save_state("", false, false, false, false, false) == 0, "save_state failed")
close_session()
print("ardour: session ready")
LUA

ardour_build_session "$work/build.lua"

# The region's source files, one per channel, joined into the stereo input of the render.
sources=$(find "$work/session/interchange" -name 'signal*%L.wav' | head -n 1)
[[ -n $sources && -f ${sources/\%L.wav/%R.wav} ]] || { echo "FAIL: the bounced region's files are missing" >&2; exit 1; }
python3 "$compare" join "$sources" "${sources/\%L.wav/%R.wav}" "$work/in.wav"
"$cli" render "$work/in.wav" "$work/render.wav" "${render_dsp[@]}"

status=0

# The harness itself: the dry snapshot exports the input, unchanged, at lag 0. And the render is
# clearly not the input (the effect is audible).
ardour_export_session dry "$work/dry.wav"
python3 "$compare" compare --label "dry export vs input" --tolerance 1e-6 \
    --input "$work/in.wav" --expected "$work/in.wav" --actual "$work/dry.wav" ||
    { echo "FAIL: the dry export is not the region's audio: the comparison below means nothing" >&2; exit 1; }
if python3 "$compare" compare --label "render vs input" --tolerance 0.05 \
    --input "$work/in.wav" --expected "$work/in.wav" --actual "$work/render.wav"; then
    echo "FAIL: the render is (almost) the input: the effect would not show in the comparison" >&2
    exit 1
fi

busy=()
trap 'for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
for ((k = 0; k < ${PG_BUSY_CORES:-0}; k++)); do
    sh -c 'while :; do :; done' &
    busy+=($!)
done
for ((k = 1; k <= exports; k++)); do
    ardour_export_session pg "$work/export$k.wav" || { status=1; continue; }
    python3 "$compare" compare --label "export $k vs render" --tolerance 1e-4 \
        --input "$work/in.wav" --expected "$work/render.wav" --actual "$work/export$k.wav" || status=1
done
for pid in "${busy[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
busy=()

if ((status != 0)); then
    echo "FAIL: Ardour's offline export differs from pauseguard render (see the figures above)" >&2
    exit 1
fi
echo "ardour export: PASS ($exports exports equal the render${program:+, through the DSP program $program})"
