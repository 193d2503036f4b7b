# Sourced by the Ardour host tests. ardour_setup vst3|lv2 <bundle> checks the tools, makes $work
# (a temporary folder removed on exit) and gives Ardour a HOME of its own (its config, plugin
# cache and Lua scripts) and a private copy of the bundle in $work/plugins, found through
# VST3_PATH or LV2_PATH. The copy is dated an hour back: Ardour ignores a VST3 scan cache that is
# not strictly newer (in whole seconds) than the plugin. Headless Ardour never scans by itself, so
# a VST3 is scanned here. Lua scripts get pg_session() from ardour_common.lua ($PG_COMMON_LUA).
# ardour_run_test <script.lua> <pass line> runs a test script and fails unless it printed the line.
# ardour_allow_program <command line> makes new instances run that DSP program (allowed privately).
# ardour_install_probe_sine puts the Lua generator "PauseGuard Probe Sine" (ardour_probe_sine.lua)
# in Ardour's scripts. ardour_export_session <snapshot> <out.wav> exports a saved snapshot of
# $PG_SESSION with ardour7-export (up to $ARDOUR_EXPORT_ATTEMPTS attempts, default 3, of 60 s, or
# $ARDOUR_EXPORT_TIMEOUT: it sometimes hangs after "Writing", or aborts, also for a session without
# PauseGuard in it; an export that completes is compared in full).
# ardour_build_session <script.lua> runs a script that builds and saves $PG_SESSION, and fails
# unless it printed "ardour: session ready".

ardour_scanner=/usr/lib/ardour7/ardour-vst3-scanner

ardour_setup() { # vst3|lv2, bundle
    local format=$1 bundle=$2
    command -v ardour7-lua >/dev/null || { echo "FAIL: ardour7-lua not found (apt-get install ardour)" >&2; exit 1; }
    [[ -d $bundle ]] || { echo "FAIL: no plugin bundle at '$bundle'" >&2; exit 1; }
    bundle=$(cd "$bundle" && pwd -P) # resolve a path given as .../Contents/x86_64-linux/../..

    work=$(mktemp -d) # kept with PG_KEEP_WORK=1 (the session, its export), for a diagnosis
    trap '[[ -n ${PG_KEEP_WORK:-} ]] || rm -rf "$work"' EXIT
    mkdir -p "$work/home/.config/ardour7/scripts" "$work/plugins"
    export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config
    cp -r "$bundle" "$work/plugins/"
    find "$work/plugins" -exec touch -d '1 hour ago' {} +
    case $format in
        vst3)
            [[ -x $ardour_scanner ]] || { echo "FAIL: $ardour_scanner not found (apt-get install ardour)" >&2; exit 1; }
            export VST3_PATH=$work/plugins
            LD_LIBRARY_PATH=/usr/lib/ardour7 "$ardour_scanner" -f "$work/plugins/$(basename "$bundle")" >"$work/scan.log" 2>&1 ||
                { cat "$work/scan.log" >&2; echo "FAIL: ardour-vst3-scanner failed" >&2; exit 1; } ;;
        lv2)
            export LV2_PATH=$work/plugins ;;
        *)
            echo "FAIL: unknown format '$format' (vst3 or lv2)" >&2
            exit 1 ;;
    esac
    export PG_SESSION=$work/session
    PG_COMMON_LUA=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ardour_common.lua
    export PG_COMMON_LUA
}

source "$(dirname "${BASH_SOURCE[0]}")/allow_program.sh"

ardour_allow_program() { # command line: new PauseGuard instances run it (on the private HOME's allow-list)
    export PAUSEGUARD_DSP_PROGRAM=$1
    pauseguard_allow_program "$1"
    echo "ardour: PauseGuard runs the DSP program $1"
}

ardour_run_test() { # script, the line it prints when it passes
    local script=$1 pass=$2
    # ardour7-lua exits non-zero on a Lua error; the PASS line guards against an early silent exit.
    ardour7-lua "$script" 2>&1 | tee "$work/ardour.log" | grep -E '^(ardour|Error)' || true
    if ! grep -qx "$pass" "$work/ardour.log"; then
        echo "FAIL: the Ardour test did not print '$pass'; its last output:" >&2
        tail -n 20 "$work/ardour.log" >&2
        exit 1
    fi
}

ardour_install_probe_sine() {
    cp "$(dirname "$PG_COMMON_LUA")/ardour_probe_sine.lua" "$HOME/.config/ardour7/scripts/pauseguard_probe_sine.lua"
}

ardour_export_session() { # snapshot, output
    local attempt attempts=${ARDOUR_EXPORT_ATTEMPTS:-3}
    for ((attempt = 1; attempt <= attempts; attempt++)); do
        rm -f "$2"
        if timeout -k 5 "${ARDOUR_EXPORT_TIMEOUT:-60}" ardour7-export "$PG_SESSION" "$1" -s 48000 -b float -o "$2" >"$work/export.log" 2>&1 && [[ -s $2 ]]; then
            return 0
        fi
        echo "ardour7-export ($1) attempt $attempt failed or hung; last output: $(tr '\r' '\n' <"$work/export.log" | grep -v '^$' | tail -n 1)"
    done
    echo "FAIL: ardour7-export ($1) failed $attempts times" >&2
    return 1
}

ardour_build_session() { # script.lua
    ardour7-lua "$1" >"$work/build.log" 2>&1 || true
    grep -E '^(ardour|Error)' "$work/build.log" || true
    if ! grep -q '^ardour: session ready' "$work/build.log"; then
        echo "FAIL: could not build the Ardour session; last output:" >&2
        tail -n 20 "$work/build.log" >&2
        exit 1
    fi
}
