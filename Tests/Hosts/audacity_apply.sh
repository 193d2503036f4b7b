#!/usr/bin/env bash
# Real-host test: Audacity 3.2 (Debian's, LV2 only) under Xvfb.
# 1. Its plug-in check marks PauseGuard's LV2 valid and enabled (pluginregistry.cfg).
# 2. Applied to a 3-s stereo clip through mod-script-pipe (Import2, SelectAll, the effect, Export2
#    as 32-bit float WAV), the result equals `pauseguard render --keep-latency` of the clip:
#    Audacity compensates no latency, so its output is the render's, L late. Audacity announces
#    1,048,576-frame blocks and calls as fast as it can without saying it renders: the engine
#    takes it for a render (no dry frame) at the latency the plug-in's settings give (960).
#
# Audacity's traps (shared notes on hosts): a start that finds new plug-ins checks them in a second
# process, which also takes the script pipes, so the plug-ins are registered in a first start with
# the module off, and the pipes are used in a second; commands sent before the project window
# exists are never answered; a working folder holding lv2/ crashes it; the pipes are one per user,
# so runs take a lock (two instances cannot share them).
#
# Usage: audacity_apply.sh <PauseGuard.lv2 bundle> <plugin URI> <pauseguard CLI>
set -euo pipefail

bundle=${1:?usage: audacity_apply.sh <PauseGuard.lv2> <plugin-uri> <pauseguard>}
uri=${2:?plugin URI}
cli=${3:?pauseguard CLI}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

for tool in audacity Xvfb python3 flock; do
    command -v "$tool" >/dev/null || { echo "FAIL: '$tool' not found (apt-get install audacity xvfb)" >&2; exit 1; }
done
[[ -f $bundle/manifest.ttl ]] || { echo "FAIL: no LV2 bundle at '$bundle'" >&2; exit 1; }
bundle=$(cd "$bundle" && pwd -P)
cli=$(realpath "$cli")

work=$(mktemp -d)
pids=()
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
cleanup() {
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[i]}"; done
    rm -rf "$work"
}
trap cleanup EXIT

# One Audacity with script pipes per user at a time.
exec 9>"/tmp/pauseguard-audacity-pipes.$(id -u).lock"
flock -w 600 9 || { echo "FAIL: another Audacity test held the pipes for 10 minutes" >&2; exit 1; }

mkdir -p "$work/home/.config/audacity" "$work/home/tmp" "$work/plugins"
cp -r "$bundle" "$work/plugins/"
export HOME=$work/home LV2_PATH=$work/plugins
cd "$work" # no lv2/ folder here
cfg=$HOME/.config/audacity/audacity.cfg
# No splash or update check; temporary files in HOME; WAV export as 32-bit float, without dither.
cat >"$cfg" <<CFG
[GUI]
ShowSplashScreen=0
[Update]
DefaultUpdatesChecking=0
UpdateNoticeShown=1
[Directories]
TempDir=$HOME/tmp
[Quality]
DitherAlgorithmChoice=None
HQDitherAlgorithmChoice=None
[FileFormats]
ExportFormat_SF1=65542
[FileFormats/ExportFormat_SF1_Type]
WAV_10000=6
CFG

display=$((90 + $$ % 100))
while [[ -e /tmp/.X$display-lock ]]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 1280x1024x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY=:$display
sleep 1

# 1. The first start registers and checks the plug-in (the script module is new: not loaded).
audacity >"$work/audacity-1.log" 2>&1 &
apid=$!
pids+=($apid)
registry=$HOME/.config/audacity/pluginregistry.cfg
for _ in $(seq 120); do
    grep -q "^Path=$uri\$" "$registry" 2>/dev/null && break
    sleep 0.5
done
sleep 2
stop "$apid"
entry=$(awk -v uri="Path=$uri" '/^\[/ { inside = 0 } $0 == uri { inside = 1 } inside' "$registry" 2>/dev/null || true)
echo "Audacity's plug-in check: ${entry:-no entry for $uri}" | tr '\n' ' '; echo
if ! grep -q '^Valid=1$' <<<"$entry" || ! grep -q '^Enabled=1$' <<<"$entry"; then
    echo "FAIL: Audacity does not mark $uri valid and enabled"; exit 1
fi

# 2. The second start loads mod-script-pipe (enabled where the first start recorded it).
sed -i -e 's/^mod-script-pipe=[0-9]*$/mod-script-pipe=1/' "$cfg"
sed -i -e '/^\[ActiveProjects\]/,/^\[/{/^\[ActiveProjects\]/d;/^[^[]/d}' "$cfg" # no crash-recovery dialog
grep -q '^mod-script-pipe=1$' "$cfg" || { echo "FAIL: the first start recorded no script module"; exit 1; }
rm -f "/tmp/audacity_script_pipe.to.$(id -u)" "/tmp/audacity_script_pipe.from.$(id -u)"
audacity >"$work/audacity-2.log" 2>&1 &
pids+=($!)
# Commands sent before the project window exists are never answered: wait for the pipes and for
# the window's project (its unsaved project file in the temporary folder).
for _ in $(seq 120); do
    [[ -p /tmp/audacity_script_pipe.from.$(id -u) ]] && compgen -G "$HOME/tmp/*.aup3unsaved" >/dev/null && break
    sleep 0.5
done
compgen -G "$HOME/tmp/*.aup3unsaved" >/dev/null || { echo "FAIL: no Audacity project window after 60 s"; exit 1; }
sleep 1

python3 - "$work/in.wav" <<'PY'
import math, random, struct, sys, wave
random.seed(3)
rate, n = 48000, 48000 * 3
w = wave.open(sys.argv[1], "wb")
w.setnchannels(2); w.setsampwidth(2); w.setframerate(rate)
frames = bytearray()
for i in range(n):
    t = i / rate
    left = 0.4 * math.sin(2 * math.pi * 220 * t) + 0.2 * math.sin(2 * math.pi * 1330 * t)
    right = 0.3 * math.sin(2 * math.pi * 330 * t) + 0.1 * (2 * random.random() - 1)
    frames += struct.pack("<hh", int(left * 32767), int(right * 32767))
w.writeframes(bytes(frames))
w.close()
PY
python3 "$here/audacity_pipe.py" --timeout 120 "GetInfo: Type=Tracks" "Import2: Filename=$work/in.wav" "SelectAll:" \
    "Pauseguard:" "Export2: Filename=$work/audacity.wav NumChannels=2"

"$cli" render "$work/in.wav" "$work/render.wav" --keep-latency
python3 "$here/wav_compare.py" compare --input "$work/in.wav" --expected "$work/render.wav" --actual "$work/audacity.wav" \
    --label "Audacity applying PauseGuard against pauseguard render --keep-latency" --tolerance 1e-5
echo "Audacity: PASS"
