#!/usr/bin/env bash
# Takes the README's screenshot: the Standalone app under Xvfb, playing its demo through a dummy
# JACK server with a user script (Tests/GUI/ScreenshotScript.lua, in the plug-in's saved state)
# whose macros set a heavy workload (64 MB live heap, 256 KB of garbage per block). It starts in
# the deterministic strategy with the auto latency, then the Strategy box is switched to Dynamic
# (with xdotool), so that the latency history shows what each strategy needs. The app runs with a
# temporary HOME whose settings select JACK and hold that state: the user's own settings are
# neither read nor changed.
#
# NO_DEVICE=1: no JACK server and no audio device at all (as on a CI runner or a fresh VM): the
# app's timer drives the processor with its demo, and the editor says that no device is open.
#
# usage: Tests/GUI/standalone_screenshot.sh [seconds of audio before the shot, default 50]
# needs: Xvfb, jackd (jackd2), ImageMagick (import, convert), xwininfo, xdotool, python3
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
APP="${APP:-$ROOT/build/Source/Plugin/PauseGuard_artefacts/Release/Standalone/PauseGuard}"
OUT="${OUT:-$ROOT/Assets/screenshot.png}"
RUN_SECONDS="${1:-50}"
SWITCH_AFTER="${SWITCH_AFTER-20}" # seconds; empty: no switch
DISPLAY_NUMBER="${DISPLAY_NUMBER:-57}"
# The plug-in's state: parameter id=value pairs (strategy: 0 deterministic, 1 dynamic; the macros
# are knobs of 0..1 that the script maps to its ranges: drive 12 dB, mix 1, 256 KB, 64 MB), and the
# script (empty: the built-in effect).
PARAMS="${PARAMS:-strategy=0 auto_latency=1 macro1=0.5 macro2=1 macro3=0.25 macro4=0.25}"
SCRIPT="${SCRIPT-$ROOT/Tests/GUI/ScreenshotScript.lua}"
# A DSP program the state names (a command line; empty: none). It runs if ALLOW_PROGRAM=1 (it is
# then put on the temporary HOME's allow-list); otherwise the editor asks first, and the shot shows
# the question.
PROGRAM="${PROGRAM:-}"
# The editor's view at the shot: pauses (the histogram) or pool (the pool's last second, from the trace).
VIEW="${VIEW:-pauses}"
NO_DEVICE="${NO_DEVICE:-}"

WORK="$(mktemp -d)"
PIDS=()
cleanup() { # the app first, then JACK, then the X server
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill "${PIDS[i]}" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

Xvfb ":$DISPLAY_NUMBER" -screen 0 1600x1000x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
PIDS+=($!)
export JACK_DEFAULT_SERVER="pgshot$$"
if [ -z "$NO_DEVICE" ]; then
    jackd --no-realtime -n "$JACK_DEFAULT_SERVER" -d dummy -r 48000 -p 256 >"$WORK/jackd.log" 2>&1 &
    PIDS+=($!)
fi
sleep 2

# The Standalone's settings: JACK at 48 kHz / 256, input not muted (the dummy input is silent, so
# the app plays its demo arpeggio), and the plug-in state (JUCE's XML blob, in JUCE's base64).
mkdir -p "$WORK/home/.config"
python3 - "$WORK/home/.config/PauseGuard.settings" "$SCRIPT" "$PROGRAM" "$NO_DEVICE" $PARAMS <<'PY'
import os, struct, sys
from xml.sax.saxutils import quoteattr
path, script, program, no_device = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
pairs = [p.split('=') for p in sys.argv[5:]]
entities = {'\n': '&#10;', '\r': '&#13;', '\t': '&#9;'}  # kept through the XML parser
script_xml = (f'<SCRIPT name={quoteattr(os.path.basename(script))} source={quoteattr(open(script).read(), entities)}/>'
              if script else '')
xml = ('<?xml version="1.0" encoding="UTF-8"?> <PauseGuard pauseguardStateVersion="1">'
       + ''.join(f'<PARAM id="{k}" value="{v}"/>' for k, v in pairs) + script_xml
       + (f'<DSPPROGRAM command={quoteattr(program)}/>' if program else '') + '</PauseGuard>').encode() + b'\0'
blob = struct.pack('<II', 0x21324356, len(xml) - 1) + xml
table = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"
bits = int.from_bytes(blob, 'little')
chars = ''.join(table[(bits >> (6 * i)) & 63] for i in range((len(blob) * 8 + 5) // 6))
setup = ('<DEVICESETUP deviceType="JACK" audioOutputDeviceName="system" audioInputDeviceName="system" '
         'audioDeviceRate="48000.0" audioDeviceBufferSize="256"/>')
with open(path, 'w') as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<PROPERTIES>\n'
            f'  <VALUE name="filterState" val="{len(blob)}.{chars}"/>\n'
            '  <VALUE name="shouldMuteInput" val="0"/>\n'
            + ('' if no_device else f'  <VALUE name="audioSetup">\n    {setup}\n  </VALUE>\n') + '</PROPERTIES>\n')
PY
if [[ ${ALLOW_PROGRAM:-0} == 1 && -n $PROGRAM ]]; then
    source "$ROOT/Tests/Hosts/allow_program.sh"
    HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" pauseguard_allow_program "$PROGRAM"
fi

HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" DISPLAY=":$DISPLAY_NUMBER" "$APP" >"$WORK/app.log" 2>&1 &
PIDS+=($!)
export DISPLAY=":$DISPLAY_NUMBER"
if [ -n "$SWITCH_AFTER" ]; then
    sleep "$SWITCH_AFTER"
    # The Strategy box and its "Dynamic" item, in the window's coordinates at the editor's default size.
    WINDOW="$(xdotool search --name '^PauseGuard$' | head -n 1)"
    xdotool mousemove --window "$WINDOW" 1190 153 click 1
    sleep 1
    xdotool mousemove --window "$WINDOW" 1140 198 click 1
    sleep 0.5
    xdotool mousemove --window "$WINDOW" 700 16
    sleep "$((RUN_SECONDS - SWITCH_AFTER))"
else
    sleep "$RUN_SECONDS"
fi

if [ "$VIEW" = pool ]; then # the "Pool" tab, right of the histogram's three
    xdotool mousemove --window "$(xdotool search --name '^PauseGuard$' | head -n 1)" 455 310 click 1
    sleep 1.5
fi

# The app's top-level window, from the X server's own list.
GEOMETRY="$(xwininfo -root -tree | awk '/"PauseGuard"/ && / [0-9]+x[0-9]+\+/ { print $(NF-1); exit }')"
[ -n "$GEOMETRY" ] || { echo "the PauseGuard window was not found" >&2; cat "$WORK/app.log" >&2; exit 1; }
import -window root "$WORK/root.png"
convert "$WORK/root.png" -crop "${GEOMETRY%%+*}+${GEOMETRY#*+}" +repage "$OUT"
echo "wrote $OUT ($GEOMETRY)"
