#!/usr/bin/env bash
# tools/test.sh — README command (b), and what CI runs (.ci/run): installs what is missing,
# builds with warnings as errors (GCC, release) and runs the whole test suite through ctest,
# then the sanitizer job (tools/sanitize.sh: Clang with AddressSanitizer and
# UndefinedBehaviorSanitizer, the whole suite again, and a bounded fuzz run of every libFuzzer
# target), then formatting and lint (tools/lint.sh). About 12 minutes on 2 cores from clean.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
SERVESIM_WERROR=1 tools/build.sh
ctest --test-dir build --output-on-failure -j "${SERVESIM_JOBS:-2}"
SERVESIM_WERROR=1 tools/sanitize.sh
tools/lint.sh
