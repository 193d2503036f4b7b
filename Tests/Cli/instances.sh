#!/usr/bin/env bash
# The README's "Many instances" table: `pauseguard soak --instances N --strategy S --json` for each
# N and strategy, one row each, with the trace's figures (the dropouts' causes, an instance's CPU,
# the capacity, the worst stall, the machine's slowdown, the physical floor, the engine's own cost).
# usage: [LOAD=busy|build+disk] [STRATEGIES="deterministic dynamic auto"] Tests/Cli/instances.sh
#        path/to/pauseguard [seconds, default 60] [N ...]
# LOAD keeps both cores busy meanwhile with ordinary processes (Tests/Cli/loads.sh). STRATEGIES
# picks the rows (deterministic and dynamic by default); auto is the deterministic strategy with
# the auto latency (--latency-ms auto).
set -euo pipefail
BIN="$1"
SECONDS_EACH="${2:-60}"
shift $(( $# >= 2 ? 2 : 1 ))
COUNTS="${*:-2 8 16 24 29 32 40}"
ROW="$(mktemp)"
. "$(dirname "${BASH_SOURCE[0]}")/loads.sh"
trap 'stop_loads; rm -f "$ROW"' EXIT
start_load "${LOAD:-quiet}"
cat >"$ROW" <<'PY'
import json, sys
raw = sys.stdin.read()
j = json.loads(raw[raw.index("{"):])
lat = sorted(p["latency_samples"] for p in j["per_instance"])
causes = ", ".join(f"{k} {v}" for k, v in j["dropouts_by_cause"].items() if v) or "-"
cells = [sys.argv[1], sys.argv[2], f"{j['dropouts_warmup']} / {j['dropouts_after_warmup']}", causes,
         f"{j['worker_load_percent_mean']:.0f} %", f"{j['instance_cpu_percent']:.2f} %", str(j["capacity_instances"]),
         f"{j['worst_stall_ms']:.2f} ms", f"{j['machine_slowdown']:.2f}x", str(j["physical_floor_samples"]),
         f"{lat[0]} / {lat[len(lat) // 2]} / {lat[-1]} ({j['max_reported_latency_samples']})",
         f"{j['pool_cpu_percent_per_instance']:.2f} % / {j['script_alone_cpu_percent']:.2f} % ({j['engine_cost_ratio']:.2f}x)"]
print("| " + " | ".join(cells) + " |")
PY
echo "| N | strategy | dropouts first 2 s / after | causes | pool load mean (of 200 %) | instance CPU | capacity | worst stall | machine slowdown | physical floor | L at the end, min / median / max (max during the run) | pool CPU per instance / the script alone |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in $COUNTS; do
    for s in ${STRATEGIES:-deterministic dynamic}; do
        case "$s" in
            auto) args=(--strategy deterministic --latency-ms auto) ;;
            deterministic | dynamic) args=(--strategy "$s") ;;
            *) echo "instances.sh: unknown strategy '$s' (deterministic, dynamic or auto)" >&2; exit 2 ;;
        esac
        "$BIN" soak --instances "$n" "${args[@]}" --seconds "$SECONDS_EACH" --json 2>/dev/null | python3 "$ROW" "$n" "$s"
    done
done
