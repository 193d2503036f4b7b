#!/usr/bin/env bash
# The Go example (a DSP program in its own process) beside the loads that starve an ordinary
# process: quiet; two busy loops; a nice-0 build (two compiler loops) with disk writes that fsync,
# as a package install makes. Both strategies under each. Prints one table row per run: dropouts
# after warm-up, the latency at the end and its maximum, the worst stall and the causes.
# Usage: Tests/Cli/go_busy.sh [PAUSEGUARD] [SECONDS] [OUT_DIR]. Each run's JSON goes to OUT_DIR.
set -euo pipefail
pg=${1:-build/bin/pauseguard}
seconds=${2:-60}
out=${3:-performance}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
go="$(dirname "$pg")/pauseguard-example-go -live-heap-mb 16"
mkdir -p "$out"
loads=()
stop_loads() {
    for p in "${loads[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    loads=()
    rm -f "$out/disk-load.bin"
}
trap stop_loads EXIT

start_load() {
    case "$1" in
    quiet) ;;
    busy)
        for _ in 1 2; do sh -c 'while :; do :; done' & loads+=($!); done ;;
    build+disk)
        for _ in 1 2; do
            sh -c "while :; do g++ -std=c++20 -O2 -I'$root/Source/Engine' -c '$root/Source/Engine/StatsExport.cpp' -o /dev/null; done" &
            loads+=($!)
        done
        sh -c "while :; do dd if=/dev/zero of='$out/disk-load.bin' bs=1M count=256 conv=fsync status=none; done" &
        loads+=($!) ;;
    esac
}

echo "| load | strategy | dropouts after warm-up | L at the end (max) | worst stall | causes |"
echo "|---|---|---|---|---|---|"
for load in quiet busy build+disk; do
    for strategy in deterministic dynamic; do
        start_load "$load"
        sleep 2
        json="$out/go-busy-$load-$strategy.json"
        "$pg" soak --process "$go" --strategy "$strategy" --seconds "$seconds" --json >"$json"
        stop_loads
        python3 - "$json" "$load" "$strategy" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
causes = ", ".join(f"{k} {v}" for k, v in d["dropouts_by_cause"].items() if v) or "-"
print(f"| {sys.argv[2]} | {sys.argv[3]} | {d['dropouts_after_warmup']} (of {d['dropouts']}) "
      f"| {d['reported_latency_samples']} ({d['max_reported_latency_samples']}) | {d['worst_stall_ms']:.1f} ms | {causes} |")
PY
    done
done
