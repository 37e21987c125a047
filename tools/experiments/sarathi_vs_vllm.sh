#!/usr/bin/env bash
# tools/experiments/sarathi_vs_vllm.sh — the Sarathi-Serve evidence of the README: vllm and
# sarathi (τ ∈ {256, 512, 1024, 2048}) on scenarios/sarathi-vs-vllm/ (llama-3-8b, h100-sxm,
# Azure-conversation lengths), (1) at a fixed rate: P99 TBT, P99 TTFT, P50 TPOT; (2) capacity
# under Sarathi-Serve's SLOs: P99 TBT <= 5 × the decode iteration of one unbatched request
# (strict, computed here with `servesim estimate`) and P50 scheduling delay <= 2 s, with the
# capacity search's stability rule (a run whose queue keeps growing is infeasible) and, for
# comparison, without it (--no-stability: the objectives alone).
# Usage: tools/experiments/sarathi_vs_vllm.sh [RATE_REQ_S] [extra --set options...]
set -euo pipefail
cd "$(dirname "$0")/../.."
rate="${1:-14}"
shift || true
[ -x build/servesim ] || tools/build.sh >/dev/null
db="$(mktemp -d)/sarathi_vs_vllm.db"
bin=build/servesim
# One unbatched decode iteration at the workload's mean context (1155 prompt + half of 211 output).
unbatched_ms=$($bin estimate --model llama-3-8b --hardware h100-sxm --decode 1x1260 --json |
  sed -n 's/.*"iteration_ms": *\([0-9.e+-]*\).*/\1/p')
slo_s=$(awk -v ms="$unbatched_ms" 'BEGIN { printf "%.4f", 5 * ms / 1000 }')
echo "one unbatched decode iteration: ${unbatched_ms} ms  =>  strict P99 TBT SLO ${slo_s} s; P50 scheduling delay SLO 2 s"
printf "| policy | P99 TBT (s) @ %s req/s | P99 TTFT (s) | P50 TPOT (s) | capacity (req/s) | objectives alone |\n|---|---:|---:|---:|---:|---:|\n" "$rate"
for policy in vllm sarathi:256 sarathi:512 sarathi:1024 sarathi:2048; do
  name="${policy%%:*}"
  sets=(--set workload.arrival.rate_per_s="$rate")
  label="vllm"
  if [ "$name" = sarathi ]; then
    sets+=(--set policies.batcher.chunk_size="${policy#*:}")
    label="sarathi τ=${policy#*:}"
  fi
  $bin run "scenarios/sarathi-vs-vllm/$name.yaml" -o "$db" --quiet "${sets[@]}" "$@"
  row=$(sqlite3 -separator ' | ' "$db" "SELECT printf('%.4f', max(CASE WHEN metric='tbt_p99_s' THEN value END)),
     printf('%.3f', max(CASE WHEN metric='ttft_p99_s' THEN value END)), printf('%.4f', max(CASE WHEN metric='tpot_p50_s' THEN value END))
     FROM summary WHERE run_id = (SELECT max(run_id) FROM runs)")
  capacity() {
    $bin capacity "scenarios/sarathi-vs-vllm/$name.yaml" -o "$db" --slo "tbt_p99_s<=$slo_s" \
      --slo 'sched_delay_p50_s<=2' "${sets[@]:2}" "$@" 2>/dev/null | sed -n 's/^capacity: \([0-9.e+]*\).*/\1/p'
  }
  cap=$(capacity "$@")
  alone=$(capacity --no-stability "$@")
  echo "| $label | $row | $cap | $alone |"
done
echo "(every run is in $db)"
