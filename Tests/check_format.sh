#!/usr/bin/env bash
# Fails, naming the files, if a C++ file of Source/ or Tests/ does not follow .clang-format.
# usage: Tests/check_format.sh [clang-format]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
FORMAT="${1:-clang-format}"
command -v "$FORMAT" >/dev/null || { echo "clang-format is not installed (.ci/common.sh installs it)"; exit 1; }
find Source Tests \( -name '*.cpp' -o -name '*.h' \) -print0 | xargs -0 "$FORMAT" --style=file --dry-run -Werror
echo "every C++ file of Source/ and Tests/ follows .clang-format"
