#!/usr/bin/env bash
# The audio thread's instructions per block, counted by callgrind (repeatable: a count does not
# depend on the machine's load): the engine's processBlock against a copy of the block in and out
# (`pauseguard bench --audio-only --rounds 1`: 2,000 engine blocks; 2,000 hot copies and 200 from
# another core). Prints one line:
#   instructions per block: engine E, copies C, ratio R
# usage: Tests/Cli/callgrind.sh path/to/pauseguard [block, default 128]
set -euo pipefail
BIN="$1"
BLOCK="${2:-128}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The instructions collected inside functions matching $2 (and what they call), and their calls.
count() {
    valgrind --tool=callgrind --callgrind-out-file="$WORK/$1.out" --toggle-collect="$2" \
        "$BIN" bench --audio-only --rounds 1 --block "$BLOCK" >"$WORK/$1.log" 2>&1
    awk '/^summary:/ { print $2 }' "$WORK/$1.out"
}
ENGINE="$(count engine '*AudioSide::processBlock*')"
COPIES="$(count copies '*copyInAndOut*')"
python3 - "$ENGINE" "$COPIES" <<'PY'
import sys
engine, copies = int(sys.argv[1]) / 2000, int(sys.argv[2]) / 2200
print(f"instructions per block: engine {engine:.0f}, copies {copies:.0f}, ratio {engine / copies:.1f}")
PY
