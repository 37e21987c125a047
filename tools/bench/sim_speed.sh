#!/usr/bin/env bash
# tools/bench/sim_speed.sh — the simulator's own speed (a benchmark, not a test).
# Builds Release and runs 1,000,000 requests: Poisson at about 80% of the cluster's capacity,
# Azure-conversation-like lengths (lognormal, means ≈ 1,150 prompt / ≈ 210 output tokens),
# 64 llama-3-8b instances on h100-sxm, vllm batcher, iterations table off. The last line is:
#   requests=N wall_s=X req_per_wall_s=Y peak_rss_mib=Z
# Usage: tools/bench/sim_speed.sh [REQUESTS] [extra servesim run options...]
#   SERVESIM_BENCH_SCENARIO=scenarios/bench/sim_speed_disagg.yaml tools/bench/sim_speed.sh
#   runs the disaggregated variant (32 prefill + 32 decode instances, KV copies over the topology).
set -euo pipefail
cd "$(dirname "$0")/../.."
requests="${1:-1000000}"
shift || true
tools/build.sh >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
/usr/bin/time -f "%e %M" -o "$out/time" build/servesim run "${SERVESIM_BENCH_SCENARIO:-scenarios/bench/sim_speed.yaml}" \
  -o "$out/bench.db" --quiet --set workload.num_requests="$requests" "$@"
read -r wall_s rss_kib < "$out/time"
completed=$(sqlite3 "$out/bench.db" "SELECT CAST(value AS INTEGER) FROM summary WHERE scope='run' AND metric='requests_completed'")
sqlite3 -separator ' ' "$out/bench.db" "SELECT metric, printf('%.4f', value) FROM summary WHERE scope = 'run' AND metric IN
  ('requests_completed','requests_rejected','ttft_p50_s','ttft_p99_s','tpot_p50_s','tbt_p99_s','mean_batch_size','makespan_s','preemptions')"
awk -v n="$requests" -v w="$wall_s" -v r="$rss_kib" -v c="$completed" 'BEGIN {
  printf "requests=%d completed=%d wall_s=%.2f req_per_wall_s=%.0f peak_rss_mib=%.0f\n", n, c, w, n / w, r / 1024 }'
