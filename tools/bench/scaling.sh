#!/usr/bin/env bash
# tools/bench/scaling.sh — how the simulator's cost grows (a benchmark, not a test): the
# sim_speed scenario (scenarios/bench/sim_speed.yaml: llama-3-8b on h100-sxm, vllm, roofline,
# Poisson at ~80% of capacity, no iterations table, every request row written) at 1M, 3M and 10M
# requests on 64 instances, and 1M requests on 64, 1,024 and 10,000 instances, the rate scaled
# with the instances (16.4 req/s each). One line per point:
#   requests=N instances=I wall_s=X peak_rss_mib=M req_per_wall_s=R us_per_request=U rel=C
#   iterations_per_request=K us_per_iteration=V
# rel is us_per_request over the first point's (flat = 1.0). With many instances and few requests
# each, a run is mostly ramp-up and drain (1M requests on 10,000 instances arrive in 6 s while a
# request lives up to ~20 s), batches shrink and iterations per request grow: us_per_iteration
# separates the simulator's cost from the workload's. Needs /usr/bin/time and sqlite3.
# Usage: tools/bench/scaling.sh [POINT...]   POINT = REQUESTS:INSTANCES (default: the five above)
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/build.sh >/dev/null
points=("$@")
[ ${#points[@]} -gt 0 ] || points=(1000000:64 3000000:64 10000000:64 1000000:1024 1000000:10000)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
base_us=""
for p in "${points[@]}"; do
  requests="${p%%:*}"
  instances="${p#*:}"
  rate=$(awk -v i="$instances" 'BEGIN { printf "%.6g", 1050 * i / 64 }')
  rm -f "$out/bench.db"
  /usr/bin/time -f "%e %M" -o "$out/time" build/servesim run scenarios/bench/sim_speed.yaml \
    -o "$out/bench.db" --quiet --set workload.num_requests="$requests" \
    --set cluster.instances="$instances" --set workload.arrival.rate_per_s="$rate"
  read -r wall_s rss_kib < "$out/time"
  us=$(awk -v w="$wall_s" -v n="$requests" 'BEGIN { printf "%.3f", w * 1e6 / n }')
  [ -n "$base_us" ] || base_us="$us"
  iterations=$(sqlite3 "$out/bench.db" "SELECT CAST(value AS INTEGER) FROM summary WHERE scope = 'run' AND metric = 'iterations'")
  awk -v n="$requests" -v i="$instances" -v w="$wall_s" -v r="$rss_kib" -v u="$us" -v b="$base_us" \
    -v it="$iterations" \
    'BEGIN { printf "requests=%d instances=%d wall_s=%.2f peak_rss_mib=%.0f req_per_wall_s=%.0f us_per_request=%.2f rel=%.2f iterations_per_request=%.2f us_per_iteration=%.2f\n",
             n, i, w, r / 1024, n / w, u, u / b, it / n, w * 1e6 / it }'
done
