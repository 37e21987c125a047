#!/usr/bin/env bash
# tools/quickstart.sh — README command (a): installs what is missing, builds, runs
# scenarios/quickstart.yaml, and prints the summary table and the results database path.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
SERVESIM_TARGET=servesim tools/build.sh  # only what the quickstart runs (no tests, benchmarks, kernels)
exec build/servesim run scenarios/quickstart.yaml "$@"
