#!/usr/bin/env bash
# tools/bench/fuzz.sh — the long fuzz run (a benchmark, not a test): builds the sanitizer tree
# (tools/sanitize.sh, tests skipped) and runs every libFuzzer target for RUNS executions
# (default 10,000,000) or SECONDS each, printing per target: executions, seconds, rate, corpus and
# findings (tools/fuzz.sh). The working corpora in build-asan/fuzz-corpus/ carry over between
# runs; findings go to build-asan/fuzz-findings/. CI runs the same targets for 20 s each.
# Usage: tools/bench/fuzz.sh [--runs N | --seconds S] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
limit=(--runs 10000000)
if [ "${1:-}" = "--runs" ] || [ "${1:-}" = "--seconds" ]; then
  limit=("$1" "$2")
  shift 2
fi
SERVESIM_FUZZ_SECONDS=0 SERVESIM_SANITIZE_TESTS=0 tools/sanitize.sh >/dev/null
tools/fuzz.sh "${limit[@]}" "$@"
