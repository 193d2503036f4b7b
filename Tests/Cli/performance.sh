#!/usr/bin/env bash
# The README's Performance figures, all from one run: the bench, the instance soaks of both
# strategies, the auto and fixed latencies, the two 10-min soaks and the Go table (go_table.sh;
# about 40 minutes in all).
# Usage: Tests/Cli/performance.sh [PAUSEGUARD] [OUT_DIR]. Each command's JSON goes to OUT_DIR;
# a line per run goes to stdout. Run it on an otherwise idle machine: it measures the machine too.
set -euo pipefail
pg=${1:-build/bin/pauseguard}
out=${2:-performance}
mkdir -p "$out"

run() { # NAME ARGS...
    local name=$1
    shift
    echo "== $name: pauseguard $*"
    "$pg" "$@" --json > "$out/$name.json"
    python3 - "$out/$name.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
keys = ("reported_latency_samples", "max_reported_latency_samples", "floor_samples", "latency_changes", "dropouts",
        "dropouts_warmup", "dropouts_after_warmup", "instances_without_dropouts", "deadline_misses",
        "worker_load_percent_mean", "worker_load_percent_max", "audio_thread_ns_per_block", "memcpy_ns_per_block",
        "memcpy_from_other_core_ns_per_block", "ratio_vs_memcpy", "exchange_floor_ratio", "gc_schedule_overhead_pct")
print("   " + ", ".join(f"{k} {j[k]}" for k in keys if k in j))
PY
}

run bench bench
for n in 16 24 32 40; do
    for s in deterministic dynamic; do
        run "instances-$n-$s" soak --instances "$n" --strategy "$s" --seconds 60
    done
done
run auto-60s soak --strategy deterministic --latency-ms auto --seconds 60
for ms in 6 8 10 12 16; do
    run "fixed-${ms}ms-60s" soak --strategy deterministic --latency-ms "$ms" --seconds 60
done
run auto-10min soak --strategy deterministic --latency-ms auto --seconds 600
run dynamic-160mb-10min soak --strategy dynamic --live-heap-mb 160 --garbage-kb 32 --seconds 600
bash "$(dirname "${BASH_SOURCE[0]}")/go_table.sh" "$pg" "$out"
