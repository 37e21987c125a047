#!/usr/bin/env bash
# tools/engine/prepare.sh — makes the inputs of the end-to-end fidelity runs here (servesim runs of
# scenarios/engine/azure-conv-h200.yaml whose requests the engine replays) in .engine_in/ (keep it
# out of git: `echo /.engine_in/ >> .git/info/exclude`), and prints the one device command that
# replays them all. The trace's first 10 minutes are sped up by a factor and WINDOW_S seconds kept:
#   load40 ≈ 40%, load75 ≈ 75%, load100 ≈ 100% of the simulator's capacity for this setup
#   (factors 2, 3.5, 4.5); pressure: factor 3 on a 1,200-block KV pool (preemptions); the sarathi
#   run replays load75's requests; load100b repeats load100 (run-to-run spread).
# Usage: tools/engine/prepare.sh [WINDOW_S]   (default 60; needs build/servesim and ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
window="${1:-60}"
mkdir -p .engine_in
for spec in "load40 2" "load75 3.5" "load100 4.5" "pressure 3"; do
  set -- $spec
  rm -f ".engine_in/$1.db"
  build/servesim run scenarios/engine/azure-conv-h200.yaml --quiet -o ".engine_in/$1.db" \
    --set output.iterations=false \
    --set "workload.transforms=[{impl: time_window, start_s: 0, end_s: 600}, {impl: scale_rate, factor: $2}, {impl: time_window, start_s: 0, end_s: $window}]"
  echo "$1: $(sqlite3 ".engine_in/$1.db" "SELECT COUNT(*) || ' requests, simulated makespan ' || ROUND(MAX(finish_s), 1) || ' s' FROM requests")"
done
cat <<'CMD'
device command (carry .engine_in; writes $OUT/NAME.db, $OUT/engine.log, $OUT/device.txt):
  bash tools/engine/device_run.sh --run load75=.engine_in/load75.db \
    --run pressure=.engine_in/pressure.db,kv_blocks=1200 --run sarathi=.engine_in/load75.db,batcher=sarathi \
    --run load100=.engine_in/load100.db --run load40=.engine_in/load40.db --run load100b=.engine_in/load100.db
CMD
