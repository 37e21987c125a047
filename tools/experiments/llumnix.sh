#!/usr/bin/env bash
# tools/experiments/llumnix.sh — the Llumnix evidence of the README (ALGORITHMS.md §5):
#  1. dispatch and migration (scenarios/llumnix/serving.yaml, 16 A10 instances, 10,000
#     requests): round robin, INFaaS++-style load dispatch without migration, and Llumnix (the
#     same dispatch plus live migration), on Llumnix's generated L/M lengths with Gamma CV 4 and
#     Poisson arrivals and on ShareGPT lengths (../shared/data) with Gamma CV 2; the same with
#     an idealised dispatcher that reads loads live (refresh_s: 0), to show where migration's
#     gain comes from;
#  2. downtime against sequence length (scenarios/llumnix/downtime.yaml): live migration, a
#     one-shot blocking copy and recompute;
#  3. priorities (scenarios/llumnix/priority.yaml): 10% high-priority requests, headroom swept;
#  4. auto-scaling on on/off load (scenarios/llumnix/autoscaling.yaml): a static 16-instance
#     cluster against llumnix_scaling with Llumnix's thresholds and with 20 / 80.
# Usage: tools/experiments/llumnix.sh     (about 30 s on 2 cores; the ShareGPT rows need
# ../shared/data or SERVESIM_DATA_DIR and are skipped without it)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x build/servesim ] || tools/build.sh >/dev/null
bin=build/servesim
data="${SERVESIM_DATA_DIR:-../shared/data}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
run() {  # run NAME SCENARIO ARGS... → $dir/NAME.db
  local name="$1" scenario="$2"; shift 2
  $bin run "$scenario" -o "$dir/$name.db" --quiet "$@" >/dev/null
}
metric() {  # metric NAME METRIC
  sqlite3 "$dir/$1.db" "SELECT value FROM summary WHERE scope = 'run' AND metric = '$2'"
}
fmt() { printf "%.${2:-0}f" "${1:-0}"; }

serving=scenarios/llumnix/serving.yaml
migrate='policies.controllers=[{impl: llumnix_migration}]'
echo "## 1. Dispatch and migration: 16 A10 instances, LLaMA-7B, 10,000 requests"
printf "| workload | policy | E2E mean (s) | E2E P99 (s) | TTFT mean (s) | TTFT P99 (s) | TPOT mean (ms) | TPOT P99 (ms) | preemptions | fragmented samples | migrations |\n"
printf "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
row() {  # row NAME WORKLOAD POLICY
  echo "| $2 | $3 | $(fmt "$(metric "$1" e2e_mean_s)" 2) | $(fmt "$(metric "$1" e2e_p99_s)" 1) | $(fmt "$(metric "$1" ttft_mean_s)" 3) | $(fmt "$(metric "$1" ttft_p99_s)" 2) | $(fmt "$(echo "$(metric "$1" tpot_mean_s) * 1000" | bc -l)" 1) | $(fmt "$(echo "$(metric "$1" tpot_p99_s) * 1000" | bc -l)" 1) | $(fmt "$(metric "$1" preemptions)") | $(fmt "$(metric "$1" fragmentation_share)" 3) | $(fmt "$(metric "$1" migrations)") |"
}
serve() {  # serve TAG LABEL WORKLOAD-SETTINGS...
  local tag="$1" label="$2"; shift 2
  run "$tag-rr" $serving "$@" --set 'policies.router={impl: round_robin}'
  run "$tag-infaas" $serving "$@"
  run "$tag-llumnix" $serving "$@" --set "$migrate"
  row "$tag-rr" "$label" "round robin"
  row "$tag-infaas" "$label" "INFaaS++ (load dispatch)"
  row "$tag-llumnix" "$label" "Llumnix (dispatch + migration)"
}
serve lm "L/M, Gamma CV 4, 20 req/s" --set workload.arrival.rate_per_s=20
serve lmp "L/M, Poisson, 20 req/s" --set 'workload.arrival={impl: poisson, rate_per_s: 20}'
if [ -f "$data/traces/sharegpt/sharegpt_val_10k_llama2.csv" ]; then
  serve sg "ShareGPT, Gamma CV 2, 24 req/s" --set "workload={impl: lengths_csv, path: $data/traces/sharegpt/sharegpt_val_10k_llama2.csv, num_requests: 10000, arrival: {impl: gamma, rate_per_s: 24, cv: 2}}"
else
  echo "(ShareGPT rows skipped: $data/traces/sharegpt not found)"
fi
run lm-live-infaas $serving --set workload.arrival.rate_per_s=20 --set policies.router.refresh_s=0
run lm-live-llumnix $serving --set workload.arrival.rate_per_s=20 --set policies.router.refresh_s=0 --set "$migrate"
row lm-live-infaas "L/M, Gamma CV 4, 20 req/s" "load dispatch, loads read live (refresh_s 0)"
row lm-live-llumnix "L/M, Gamma CV 4, 20 req/s" "same + migration"
echo
echo "Migration outcomes (L/M, Gamma CV 4): $(sqlite3 "$dir/lm-llumnix.db" "SELECT group_concat(n || ' ' || o, ', ') FROM (SELECT count(*) AS n, outcome || COALESCE(' (' || abort_reason || ')', '') AS o FROM migrations GROUP BY 2 ORDER BY 1 DESC)"); downtime P50 $(fmt "$(echo "$(metric lm-llumnix migration_downtime_p50_s) * 1000" | bc -l)" 2) ms, P99 $(fmt "$(echo "$(metric lm-llumnix migration_downtime_p99_s) * 1000" | bc -l)" 2) ms; preemption loss $(fmt "$(metric lm-infaas preemption_loss_tokens)") → $(fmt "$(metric lm-llumnix preemption_loss_tokens)") tokens."

echo
echo "## 2. Downtime against sequence length: one request moved between two nodes (64 Gb/s)"
printf "| prompt tokens | live: downtime (ms) | live: stages | blocking copy: downtime (ms) | recompute: longest token gap (ms) | live: longest token gap (ms) | decode step (ms) |\n|---:|---:|---:|---:|---:|---:|---:|\n"
for n in 256 1024 2048 3968; do
  for m in live blocking recompute; do
    run "dt-$n-$m" scenarios/llumnix/downtime.yaml --set "workload.prompt_tokens=[$n]" --set "policies.controllers.0.mode=$m"
  done
  q() { sqlite3 "$dir/dt-$n-$1.db" "$2"; }
  echo "| $n | $(fmt "$(q live "SELECT avg(downtime_s) * 1000 FROM migrations WHERE outcome = 'done'")" 2) | $(q live "SELECT max(stages) FROM migrations WHERE outcome = 'done'") | $(fmt "$(q blocking "SELECT avg(downtime_s) * 1000 FROM migrations WHERE outcome = 'done'")" 1) | $(fmt "$(q recompute "SELECT max_tbt_s * 1000 FROM requests")" 1) | $(fmt "$(q live "SELECT max_tbt_s * 1000 FROM requests")" 1) | $(fmt "$(q live "SELECT min(duration_s) * 1000 FROM iterations WHERE decode_tokens > 0")" 1) |"
done

echo
echo "## 3. Priorities: 10% high-priority requests (priority queue order, low-priority victims), L/M, Gamma CV 4, 20 req/s"
printf "| headroom (blocks per high-priority request) | high: E2E mean (s) | high: TPOT mean (ms) | high: TTFT mean (s) | normal: E2E mean (s) | normal: TPOT mean (ms) | TTFT P99 all (s) | preemptions |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n"
for h in 0 100 400; do
  run "prio-$h" scenarios/llumnix/priority.yaml --set "policies.router.priority_headroom_blocks=$h" \
    --set "policies.controllers.0.priority_headroom_blocks=$h"
  p() { sqlite3 "$dir/prio-$h.db" "SELECT $1 FROM requests WHERE priority = $2"; }
  echo "| $h | $(fmt "$(p 'avg(e2e_s)' 1)" 2) | $(fmt "$(p 'avg(tpot_s) * 1000' 1)" 1) | $(fmt "$(p 'avg(ttft_s)' 1)" 3) | $(fmt "$(p 'avg(e2e_s)' 0)" 2) | $(fmt "$(p 'avg(tpot_s) * 1000' 0)" 1) | $(fmt "$(metric "prio-$h" ttft_p99_s)" 2) | $(fmt "$(metric "prio-$h" preemptions)") |"
done

echo
echo "## 4. Auto-scaling: on/off load (25 req/s for ~60 s, 4 req/s for ~120 s), 10,000 requests"
printf "| cluster | avg instances | cost (USD) | TTFT mean (s) | TTFT P99 (s) | E2E P99 (s) | TPOT P99 (ms) | preemptions | migrations |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
auto=scenarios/llumnix/autoscaling.yaml
run as-static $auto --set "$migrate"
run as-scale $auto
run as-scale2 $auto --set policies.controllers.1.scale_up_threshold=20 --set policies.controllers.1.scale_down_threshold=80
for c in static scale scale2; do
  case $c in
    static) label="static, 16 instances (Llumnix dispatch + migration)" ;;
    scale) label="llumnix_scaling 1..16, thresholds 10 / 60 (Llumnix's)" ;;
    scale2) label="llumnix_scaling 1..16, thresholds 20 / 80" ;;
  esac
  echo "| $label | $(fmt "$(metric as-$c avg_instances)" 2) | $(fmt "$(metric as-$c cost_usd)" 2) | $(fmt "$(metric as-$c ttft_mean_s)" 3) | $(fmt "$(metric as-$c ttft_p99_s)" 2) | $(fmt "$(metric as-$c e2e_p99_s)" 1) | $(fmt "$(echo "$(metric as-$c tpot_p99_s) * 1000" | bc -l)" 1) | $(fmt "$(metric as-$c preemptions)") | $(fmt "$(metric as-$c migrations)") |"
done
