# Ordinary loads beside a benchmark, for Tests/Cli/*.sh (sourced):
#   start_load quiet|busy|build+disk [DIR]; ...; stop_loads
# busy: two busy loops; build+disk: a nice-0 build (two compiler loops) with disk writes that fsync,
# as a package install makes (256 MB files in DIR, default /tmp).
LOAD_PIDS=()
LOAD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOAD_FILE=""

start_load() {
    case "$1" in
    quiet) ;;
    busy)
        for _ in 1 2; do sh -c 'while :; do :; done' & LOAD_PIDS+=($!); done ;;
    build+disk)
        LOAD_FILE="${2:-/tmp}/pauseguard-disk-load.bin"
        for _ in 1 2; do
            sh -c "while :; do g++ -std=c++20 -O2 -I'$LOAD_ROOT/Source/Engine' -c '$LOAD_ROOT/Source/Engine/StatsExport.cpp' -o /dev/null; done" &
            LOAD_PIDS+=($!)
        done
        sh -c "while :; do dd if=/dev/zero of='$LOAD_FILE' bs=1M count=256 conv=fsync status=none; done" &
        LOAD_PIDS+=($!) ;;
    *) echo "unknown load '$1' (quiet, busy, build+disk)" >&2; return 1 ;;
    esac
}

stop_loads() {
    for p in "${LOAD_PIDS[@]}"; do
        pkill -P "$p" 2>/dev/null || true
        kill "$p" 2>/dev/null || true
    done
    wait "${LOAD_PIDS[@]}" 2>/dev/null || true
    LOAD_PIDS=()
    [ -z "$LOAD_FILE" ] || rm -f "$LOAD_FILE"
}
