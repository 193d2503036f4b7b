# Shared by the scripts in .ci/: package installation and the build, for Debian 12.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CCACHE_SLOPPINESS=time_macros # juce_core uses __DATE__
JOBS="$(nproc 2>/dev/null || echo 2)"

# What building needs (golang-go: the Go client and its example DSP), and what the test suite's real hosts need.
BUILD_PACKAGES=(build-essential cmake pkg-config ccache juce-modules-source liblua5.4-dev catch2 libjack-jackd2-dev golang-go)
HOST_PACKAGES=(clang-format ardour jalv jackd2 audacity xvfb xauth)
# The state fuzzer: clang with its libFuzzer and sanitizer runtimes; RealtimeSanitizer: clang-22.
FUZZ_PACKAGES=(clang libclang-rt-14-dev clang-22 libclang-rt-22-dev)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "== installing: ${missing[*]}"
        as_root apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

configure_and_build() {
    cmake --preset dev -S "$ROOT" "$@"
    cmake --build "$ROOT/build" -j "$JOBS"
}
