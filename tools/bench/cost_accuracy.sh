#!/usr/bin/env bash
# tools/bench/cost_accuracy.sh — the cost-model accuracy table of models/README.md.
# Splits every measured table under the shared data folder (aiconfigurator A100/H100/H200, Vidur
# A100/H100) into fit and held-out halves, twice (by model shape, and by grid point), builds the
# measured model from the fit half and prints the MAPE of `measured` and `roofline` on the
# held-out half, per table and per GPU × source × op class.
#   tools/bench/cost_accuracy.sh [BUILD_DIR] [OUT_DIR]
# Needs ../shared/data (or $SERVESIM_DATA_DIR). Takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build}"
out="${2:-}"
bin="$build/servesim"
[[ -x "$bin" ]] || { echo "no $bin: build first (cmake --build $build)" >&2; exit 2; }
for split in shapes points; do
  echo "=== split: $split"
  if [[ -n "$out" ]]; then
    mkdir -p "$out"
    "$bin" validate-cost --split "$split" | tee "$out/cost_accuracy_$split.txt"
    "$bin" validate-cost --split "$split" --json > "$out/cost_accuracy_$split.json"
  else
    "$bin" validate-cost --split "$split"
  fi
  echo
done
