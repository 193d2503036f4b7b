#!/usr/bin/env bash
# The README's Go table: the Go example (bin/pauseguard-example-go) at two live heaps, as a DSP
# program: its profile, a 60 s deterministic soak at the auto latency and a 60 s dynamic soak.
# Prints one table row per heap: the GC pauses as Go reports them (runtime/metrics) and as the
# engine measures them (deterministic: the worker's chunk calls; dynamic: the collections it runs),
# the deterministic auto latency and the dynamic latency. About 5 minutes.
# Usage: Tests/Cli/go_table.sh [PAUSEGUARD] [OUT_DIR]. Each command's JSON goes to OUT_DIR.
set -euo pipefail
pg=${1:-build/bin/pauseguard}
out=${2:-performance}
go=$(dirname "$pg")/pauseguard-example-go
mkdir -p "$out"

for mb in 16 160; do
    program="$go -live-heap-mb $mb"
    echo "== Go, $mb MB live heap: --process \"$program\""
    "$pg" profile --process "$program" --json >"$out/go-$mb-profile.json"
    "$pg" soak --process "$program" --latency-ms auto --seconds 60 --json >"$out/go-$mb-deterministic.json"
    "$pg" soak --process "$program" --strategy dynamic --seconds 60 --json >"$out/go-$mb-dynamic.json"
    python3 - "$out" "$mb" <<'PY'
import json, sys
out, mb = sys.argv[1], sys.argv[2]
p, d, y = (json.load(open(f"{out}/go-{mb}-{k}.json")) for k in ("profile", "deterministic", "dynamic"))
ms = lambda h: f"{h['p50']:.3f} / {h['p99']:.3f} / {h['max']:.3f}"
print(f"| {mb} MB | deterministic | {ms(d['runtime']['gc_pause_ms'])} ({d['runtime']['collections']} cycles) "
      f"| chunks {ms(d['processing_ms'])} | auto {p['auto_latency_samples']} profiled, {d['reported_latency_samples']} after 60 s "
      f"| {d['dropouts']} ({d['dropouts_after_warmup']} after warm-up) |")
print(f"| {mb} MB | dynamic | {ms(y['runtime']['gc_pause_ms'])} ({y['runtime']['collections']} cycles) "
      f"| collections {ms(y['pause_ms'])} ({y['full_collections']}) | {y['reported_latency_samples']} (max {y['max_reported_latency_samples']}) "
      f"| {y['dropouts']} ({y['dropouts_after_warmup']} after warm-up) |")
PY
done
