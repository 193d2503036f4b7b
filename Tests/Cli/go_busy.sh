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
go="$(dirname "$pg")/pauseguard-example-go -live-heap-mb 16"
mkdir -p "$out"
. "$(dirname "${BASH_SOURCE[0]}")/loads.sh"
trap stop_loads EXIT

echo "| load | strategy | dropouts after warm-up | L at the end (max) | worst stall | causes |"
echo "|---|---|---|---|---|---|"
for load in quiet busy build+disk; do
    for strategy in deterministic dynamic; do
        start_load "$load" "$out"
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
