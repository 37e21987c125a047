#!/usr/bin/env bash
# tools/bench/vidur_side_by_side.sh — servesim on the configuration of the recorded Vidur
# measurement (a benchmark, not a test): Vidur's processed Azure conversation trace
# (traces/vidur/splitwise_conv.csv, 19,366 requests) through the `vidur` reader, cut to 4,096
# tokens; codellama-34b TP2 on a100-80g; the measured cost model over Vidur's A100 tables
# (scenarios/bench/vidur_side_by_side.yaml); batchers sarathi (chunk 512) and vllm (both with
# max_num_seqs 128, Vidur's batch_size_cap) on 1 and 4 replicas, each with the iterations table
# on (one row per batch, as Vidur's default Chrome trace has an event per batch) and off: 8
# configurations. Each runs RUNS times (default 3); the median wall time (whole process: start-up,
# table loading and the results database included) and that run's peak RSS are printed next to
# Vidur's recorded figures for the 4-replica run (issue 16: about 37 s of wall time, 30 s of it
# in Vidur's event loop, 1.7 GiB; README "Speed") and the ratios:
#   config=sarathi-x4 iterations=on completed=19366 servesim_wall_s=X servesim_peak_rss_mib=Y
#     vidur_wall_s=37 vidur_loop_s=30 vidur_peak_rss_mib=1741 wall_ratio=R loop_ratio=L rss_ratio=M
# Vidur recorded no 1-replica figure: those lines print n/a in Vidur's columns.
# Usage: tools/bench/vidur_side_by_side.sh [RUNS]
#   SERVESIM_DATA_DIR=DIR   the shared data folder (default ../shared/data)
#   SERVESIM_BENCH_NO_BUILD=1 skips tools/build.sh (use build/servesim as it is);
#   SERVESIM_BIN=PATH runs that binary instead of build/servesim (implies no build).
# Needs /usr/bin/time and sqlite3.
set -euo pipefail
# A relative SERVESIM_DATA_DIR is taken from where the script was started.
data="${SERVESIM_DATA_DIR:-}"
[ -z "$data" ] || data="$(cd "$data" 2>/dev/null && pwd || echo "$data")"
cd "$(dirname "$0")/../.."
runs="${1:-3}"
data="${data:-../shared/data}"
for f in traces/vidur/splitwise_conv.csv \
  profiles/vidur/compute/a100/codellama/CodeLlama-34b-Instruct-hf/mlp.csv \
  profiles/vidur/legacy_acb95f6/a100/attention.csv profiles/vidur/network/a100_dgx/all_reduce.csv; do
  if [ ! -f "$data/$f" ]; then
    echo "vidur_side_by_side.sh: $data/$f not found: this benchmark needs the shared data folder" >&2
    echo "  (set SERVESIM_DATA_DIR to the folder that holds traces/ and profiles/; see README)" >&2
    exit 2
  fi
done
export SERVESIM_DATA_DIR="$data"
bin="${SERVESIM_BIN:-build/servesim}"
[ "${SERVESIM_BENCH_NO_BUILD:-0}" = "1" ] || [ -n "${SERVESIM_BIN:-}" ] || tools/build.sh >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# Vidur's figures for the 4-replica run, as recorded in issue 16 (README "Speed": "Side by side
# with Vidur"). 1.7 GiB = 1,741 MiB.
vidur_wall_s=37
vidur_loop_s=30
vidur_rss_mib=1741

for batcher in sarathi vllm; do
  if [ "$batcher" = sarathi ]; then
    spec='{impl: sarathi, chunk_size: 512, max_num_seqs: 128}'
  else
    spec='{impl: vllm, max_num_seqs: 128}'
  fi
  for replicas in 1 4; do
    for iterations in on off; do
      flag=false
      [ "$iterations" = off ] || flag=true
      : > "$out/times"
      for ((k = 0; k < runs; ++k)); do
        rm -f "$out/v.db"
        if ! /usr/bin/time -f "%e %M" -o "$out/time" "$bin" run scenarios/bench/vidur_side_by_side.yaml \
          -o "$out/v.db" --quiet --set "policies.batcher=$spec" --set cluster.instances="$replicas" \
          --set output.iterations="$flag" 2> "$out/err"; then
          cat "$out/err" >&2
          exit 1
        fi
        cat "$out/time" >> "$out/times"
      done
      read -r wall_s rss_kib < <(sort -n "$out/times" | sed -n "$(((runs + 1) / 2))p")
      completed=$(sqlite3 "$out/v.db" "SELECT CAST(value AS INTEGER) FROM summary
        WHERE scope = 'run' AND metric = 'requests_completed'" 2>/dev/null || echo "?")
      awk -v c="$batcher-x$replicas" -v it="$iterations" -v n="$completed" -v w="$wall_s" \
        -v r="$rss_kib" -v x="$replicas" -v vw="$vidur_wall_s" -v vl="$vidur_loop_s" \
        -v vr="$vidur_rss_mib" 'BEGIN {
        if (x == 4) {
          v = sprintf("vidur_wall_s=%s vidur_loop_s=%s vidur_peak_rss_mib=%s wall_ratio=%.0f loop_ratio=%.0f rss_ratio=%.0f",
                      vw, vl, vr, vw / w, vl / w, vr / (r / 1024))
        } else {
          v = "vidur_wall_s=n/a vidur_loop_s=n/a vidur_peak_rss_mib=n/a wall_ratio=n/a loop_ratio=n/a rss_ratio=n/a"
        }
        printf "config=%s iterations=%s completed=%s servesim_wall_s=%.2f servesim_peak_rss_mib=%.0f %s\n",
               c, it, n, w, r / 1024, v }'
    done
  done
done
