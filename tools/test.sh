#!/usr/bin/env bash
# tools/test.sh — README command (b), and what CI runs (.ci/run): installs what is missing,
# builds with warnings as errors, runs the whole test suite through ctest, then checks
# formatting and lint (tools/lint.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
SERVESIM_WERROR=1 tools/build.sh
ctest --test-dir build --output-on-failure -j "${SERVESIM_JOBS:-2}"
tools/lint.sh
