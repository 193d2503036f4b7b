#!/usr/bin/env bash
# Memory per instance: `pauseguard soak --instances N --json` once with 1 instance and once with N
# (default 9), for the default workload and for a script that keeps nothing. The marginal figure,
# (resident growth at N - at 1) / (N - 1), leaves out what instances share (the pool, its trace
# lanes, the libraries); it is compared with the script alone's heap peak (the same script in a
# tight loop without the engine) and the engine's own buffers (LatencyEngine::getPreparedBytes).
# usage: Tests/Cli/memory.sh path/to/pauseguard [N, default 9] [seconds, default 10]
set -euo pipefail
BIN="$1"
N="${2:-9}"
SECONDS_EACH="${3:-10}"
ONE="$(mktemp)" MANY="$(mktemp)"
trap 'rm -f "$ONE" "$MANY"' EXIT
echo "| workload | per instance (marginal, resident) | the script alone's heap peak | the engine's buffers | over the heap |"
echo "|---|---|---|---|---|"
for workload in "default (16 KB garbage a block, 4 MB live)|" "no heap (0 KB, 0 MB)|--garbage-kb 0 --live-heap-mb 0"; do
    name="${workload%%|*}"
    # shellcheck disable=SC2086 # the workload's flags are words
    "$BIN" soak --instances 1 --seconds "$SECONDS_EACH" ${workload#*|} --json >"$ONE" 2>/dev/null
    # shellcheck disable=SC2086
    "$BIN" soak --instances "$N" --seconds "$SECONDS_EACH" ${workload#*|} --json >"$MANY" 2>/dev/null
    python3 - "$ONE" "$MANY" "$N" "$name" <<'PY'
import json, sys
one, many = (json.load(open(p)) for p in sys.argv[1:3])
n = int(sys.argv[3])
marginal = (many["resident_mb_per_instance"] * n - one["resident_mb_per_instance"]) / (n - 1)
heap = many["script_alone_heap_peak_mb"]
print(f"| {sys.argv[4]} | {marginal:.2f} MB | {heap:.2f} MB | {many['engine_buffers_mb_per_instance']:.2f} MB | {marginal - heap:+.2f} MB |")
PY
done
