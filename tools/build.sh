#!/usr/bin/env bash
# tools/build.sh — configures and builds servesim into build/ (Release, -j2).
# Usage: tools/build.sh [extra cmake -D options...]
#   SERVESIM_WERROR=1 tools/build.sh     warnings are errors (what CI does)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${SERVESIM_JOBS:-2}"
werror=OFF
[ "${SERVESIM_WERROR:-0}" = "1" ] && werror=ON
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSERVESIM_WERROR="$werror" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "$@" >/dev/null
cmake --build build -j "$jobs" ${SERVESIM_TARGET:+--target "$SERVESIM_TARGET"}
