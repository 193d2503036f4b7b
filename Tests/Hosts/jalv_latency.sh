#!/usr/bin/env bash
# Real-host test: jalv hosts the LV2 on a private dummy JACK server and jack_iodelay measures the
# delay through its processed (wet) path. For two latency settings (default 20 ms, then 50 ms) and
# for the dynamic strategy, the measured delay minus a direct loop (one period) must equal the
# latency that JACK shows on the plugin's ports, and that must be the latency the plugin asks for
# (48 kHz: 960 and 2400 samples; in the dynamic strategy, the figure it adapted to, below 960,
# unchanged while measured).
#
# With a DSP program (a command line whose effect is transparent: the Go example's -effect
# identity), the plugin runs it in place of the script, given by PAUSEGUARD_DSP_PROGRAM and put on
# a private allow-list.
#
# Usage: jalv_latency.sh <PauseGuard.lv2 bundle> [plugin URI] [DSP program]
#
# How parameters are set in jalv 1.6 (console build):
# - latency_ms is an LV2 patch:writable property (JUCE 7 has no control ports for parameters).
#   `-c pauseguard_latency_ms=50` sends it as a patch:Set, but jalv only delivers those to the
#   plugin when it thinks a UI is present, so jalv also gets -s (with no display and no native UI
#   type it shows nothing and stays a console host).
# - The effect is a saturator with a tone filter: at its defaults jack_iodelay reads L + 1.284
#   samples through it (the filters' phase). So the test sets the built-in effect transparent:
#   drive 0 dB (no saturation, hence no DC blocker) and tone 100 % (the low-pass open), with output
#   0 dB and mix 100 % at their defaults. Then the wet path is the input, processed by the script
#   on the worker, delayed by exactly L, and it is measured with the plugin not bypassed.
set -euo pipefail

bundle=${1:?usage: jalv_latency.sh <PauseGuard.lv2> [plugin-uri] [DSP program]}
uri=${2:-https://pauseguard.dev/plugins/pauseguard}
program=${3:-}
rate=48000
period=256

for tool in jackd jalv jack_iodelay jack_lsp jack_connect jack_wait stdbuf; do
    command -v "$tool" >/dev/null || { echo "FAIL: '$tool' not found (apt-get install jackd2 jalv)" >&2; exit 1; }
done
[[ -f $bundle/manifest.ttl ]] || { echo "FAIL: no LV2 bundle at '$bundle'" >&2; exit 1; }
bundle=$(cd "$bundle" && pwd -P) # resolve a path given as .../x/..

work=$(mktemp -d)
pids=()
stop() { # stop one process we started, by its PID
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[i]}"; done
    rm -rf "$work"
}
trap cleanup EXIT

# The plugin is loaded from a private copy; the JACK server has a name of our own.
mkdir "$work/lv2"
cp -r "$bundle" "$work/lv2/"
export LV2_PATH=$work/lv2
export JACK_DEFAULT_SERVER=pauseguard-test-$$
export JACK_NO_START_SERVER=1
unset DISPLAY
dynamic_below=960
if [[ -n $program ]]; then
    dynamic_below=$rate
    # (on the allow-list of a HOME of its own)
    export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config PAUSEGUARD_DSP_PROGRAM=$program
    source "$(dirname "${BASH_SOURCE[0]}")/allow_program.sh"
    pauseguard_allow_program "$program"
    echo "jalv: PauseGuard runs the DSP program $program"
fi

jackd --no-realtime -n "$JACK_DEFAULT_SERVER" -d dummy -r "$rate" -p "$period" >"$work/jackd.log" 2>&1 &
pids+=($!)
jack_wait -w -t 10 >/dev/null 2>&1 || { cat "$work/jackd.log" >&2; echo "FAIL: jackd did not start" >&2; exit 1; }

wait_for_port() { # port, seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        jack_lsp 2>/dev/null | grep -qx "$1" && return 0
        sleep 0.1
    done
    echo "FAIL: JACK port $1 did not appear" >&2
    return 1
}

# Sets $roundtrip to what jack_iodelay measures from jack_delay:out back to jack_delay:in through
# the given ports (none: a direct loop), once it has given the same figure 10 times in a row.
measure_roundtrip() { # [in-port out-port]
    local log=$work/iodelay.log pid figures i
    roundtrip=""
    stdbuf -o0 jack_iodelay >"$log" 2>&1 &
    pid=$!
    pids+=("$pid")
    wait_for_port jack_delay:out 10
    if (($# == 2)); then
        jack_connect jack_delay:out "$1"
        jack_connect "$2" jack_delay:in
    else
        jack_connect jack_delay:out jack_delay:in
    fi
    for ((i = 0; i < 200; i++)); do
        sleep 0.1
        figures=$(tr '\r' '\n' <"$log" | sed -n 's/^ *\([0-9.]*\) frames .*total roundtrip latency.*/\1/p' | tail -n 10)
        if (($(wc -l <<<"$figures") == 10)) && (($(sort -u <<<"$figures" | wc -l) == 1)); then
            stop "$pid"
            unset 'pids[-1]'
            roundtrip=$(head -n 1 <<<"$figures")
            return 0
        fi
    done
    stop "$pid"
    unset 'pids[-1]'
    echo "FAIL: jack_iodelay gave no stable figure; its last output:" >&2
    tr '\r' '\n' <"$log" | tail -n 5 >&2
    return 1
}

# The PID of the DSP program jalv's plugin runs (a child of jalv), once it runs: empty after 10 s.
program_child() { # jalv's PID
    local i pid name
    name=$(basename "${program%% *}")
    for ((i = 0; i < 100; i++)); do
        pid=$(pgrep -P "$1" -x "${name:0:15}" | head -n 1 || true)
        [[ -n $pid ]] && { echo "$pid"; return 0; }
        sleep 0.1
    done
}

# The latency JACK shows on the plugin's output port (jalv publishes the plugin's latency port).
reported_latency() { # client
    jack_lsp -l "$1:audio_out_1" | sed -n 's/.*playback latency = \[ \([0-9]*\) [0-9]* \].*/\1/p'
}

measure_roundtrip
direct=$roundtrip
echo "jack: direct loop ${direct} frames"

status=0
run_case() { # label, expected latency (or "dynamic"), extra jalv options...
    local label=$1 wanted=$2 expected=$2 client=pg$$ reported="" after="" measured total i attempt jalv_pid
    shift 2
    # jalv's stdin is a FIFO that this shell keeps open (so jalv never sees EOF and quits).
    rm -f "$work/cmd"
    mkfifo "$work/cmd"
    exec 3<>"$work/cmd"
    # The effect transparent (see above): the wet path is measured.
    stdbuf -oL jalv -s -n "$client" -x -c pauseguard_drive_db=0 -c pauseguard_tone=100 "$@" "$uri" \
        <"$work/cmd" >"$work/jalv.log" 2>&1 &
    jalv_pid=$!
    pids+=("$jalv_pid")
    wait_for_port "$client:audio_out_1" 20 || { cat "$work/jalv.log" >&2; return 1; }
    local child_before="" child_after=""
    [[ -z $program ]] || child_before=$(program_child "$jalv_pid")

    # The dynamic strategy keeps adapting its latency to the worker's measured response (the
    # script runs on the worker, since the plugin is not bypassed): a measurement during which
    # the latency moved is made again, up to 5 times. A deterministic latency must never move.
    for ((attempt = 1; attempt <= 5; attempt++)); do
        # The plugin applies a latency parameter from its message-thread timer: wait for it to
        # settle. "dynamic": the latency the dynamic strategy chose, any figure below the default 960
        # (with a DSP program, whose full collections the dynamic strategy hides, any figure).
        for ((i = 0; i < 100; i++)); do
            reported=$(reported_latency "$client")
            if [[ $wanted == dynamic ]]; then
                [[ -n $reported ]] && ((reported > 0 && reported < dynamic_below)) && break
            else
                [[ $reported == "$wanted" ]] && break
            fi
            sleep 0.1
        done
        [[ $wanted == dynamic && -n $reported ]] && ((reported > 0 && reported < dynamic_below)) && expected=$reported

        measure_roundtrip "$client:audio_in_1" "$client:audio_out_1"
        after=$(reported_latency "$client")
        [[ $wanted != dynamic || $after == "$reported" ]] && break
        echo "jalv ($label): the latency moved from $reported to $after during the measurement: measuring again"
    done
    total=$roundtrip
    measured=$(awk -v t="$total" -v d="$direct" 'BEGIN { printf "%.3f", t - d }')
    echo "jalv ($label): reported ${reported:-none}, measured $measured ($total - $direct direct loop), expected $expected"
    if [[ -n $program ]]; then
        # The program ran through the whole measurement: the same process of jalv's (one that
        # failed would have been restarted, with another PID).
        child_after=$(program_child "$jalv_pid")
        echo "jalv ($label): the DSP program's process ${child_before:-none}, after the measurement ${child_after:-none}"
        if [[ -z $child_before || $child_before != "$child_after" ]]; then
            echo "FAIL: jalv ($label): the DSP program did not run through the measurement" >&2
            status=1
        fi
    fi
    if [[ $reported != "$expected" || $after != "$reported" ]]; then
        echo "FAIL: jalv ($label): JACK shows latency ${reported:-none} (then ${after:-none}), the plugin should report $expected" >&2
        status=1
    fi
    if ! awk -v m="$measured" -v r="$reported" 'BEGIN { exit !(r != "" && m - r < 0.01 && r - m < 0.01) }'; then
        echo "FAIL: jalv ($label): measured delay $measured differs from the reported latency ${reported:-none}" >&2
        status=1
    fi

    stop "$jalv_pid"
    unset 'pids[-1]'
    exec 3>&-
}

run_case "default latency_ms" $((rate * 20 / 1000))
run_case "latency_ms=50" $((rate * 50 / 1000)) -c pauseguard_latency_ms=50
run_case "strategy=Dynamic" dynamic -c pauseguard_strategy=1

exit "$status"
