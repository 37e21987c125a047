#!/usr/bin/env bash
# tools/bench/policies.sh — every policy on the speed benchmark's fast path (a benchmark, not a
# test). The sim_speed benchmark (tools/bench/sim_speed.sh: 1,000,000 requests, Poisson at ~80%
# of capacity, Azure-conversation-like lengths, 64 llama-3-8b instances on h100-sxm, roofline,
# no iterations table, every request row written) under each policy:
#   vllm       scenarios/bench/sim_speed.yaml as it is (the baseline)
#   sarathi    the same with the sarathi batcher (chunk_size 512)
#   prefix     scenarios/bench/sim_speed_prefix.yaml: 8 clients with shared 512-token system
#              prompts, prefix caching on
#   distserve  scenarios/bench/sim_speed_disagg.yaml: 32 prefill + 32 decode instances, every
#              KV copy a network flow
#   vtc, dlpm  the requests spread over 8 clients (workload.clients=8), that queue order
#   llumnix    the llumnix router (load, 50 ms refresh) with the llumnix_migration controller
# One line per policy:
#   policy=NAME requests=N wall_s=X peak_rss_mib=Y rel_to_vllm=Z
# rel_to_vllm is the policy's wall time over vllm's (n/a when vllm is not run). With
# SERVESIM_BENCH_RUNS=K (default 1) each policy runs K times and the median wall time (and the
# peak RSS of that run) is printed; the machine is noisy, so compare with K >= 3.
# Usage: tools/bench/policies.sh [REQUESTS] [POLICY...]   (default: all of them, vllm first)
#   SERVESIM_BENCH_NO_BUILD=1 skips tools/build.sh (use build/servesim as it is);
#   SERVESIM_BIN=PATH runs that binary instead of build/servesim (implies no build).
# Needs /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/../.."
requests="${1:-1000000}"
shift || true
policies=("$@")
[ ${#policies[@]} -gt 0 ] || policies=(vllm sarathi prefix distserve vtc dlpm llumnix)
runs="${SERVESIM_BENCH_RUNS:-1}"
bin="${SERVESIM_BIN:-build/servesim}"
[ "${SERVESIM_BENCH_NO_BUILD:-0}" = "1" ] || [ -n "${SERVESIM_BIN:-}" ] || tools/build.sh >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# policy_args NAME: the scenario and the options of one policy, one per line.
policy_args() {
  case "$1" in
    vllm) printf '%s\n' scenarios/bench/sim_speed.yaml ;;
    sarathi) printf '%s\n' scenarios/bench/sim_speed.yaml --set \
      'policies.batcher={impl: sarathi, chunk_size: 512}' ;;
    prefix) printf '%s\n' scenarios/bench/sim_speed_prefix.yaml ;;
    distserve) printf '%s\n' scenarios/bench/sim_speed_disagg.yaml ;;
    vtc | dlpm) printf '%s\n' scenarios/bench/sim_speed.yaml --set workload.clients=8 --set \
      "policies.queue_order.impl=$1" ;;
    llumnix) printf '%s\n' scenarios/bench/sim_speed.yaml --set 'policies.router={impl: llumnix}' \
      --set 'policies.controllers=[{impl: llumnix_migration}]' ;;
    *)
      echo "policies.sh: unknown policy '$1' (vllm sarathi prefix distserve vtc dlpm llumnix)" >&2
      exit 2
      ;;
  esac
}

base_wall=""
for policy in "${policies[@]}"; do
  mapfile -t args < <(policy_args "$policy")
  [ ${#args[@]} -gt 0 ] || exit 2
  : > "$out/times"
  for ((k = 0; k < runs; ++k)); do
    rm -f "$out/bench.db"
    /usr/bin/time -f "%e %M" -o "$out/time" "$bin" run "${args[0]}" -o "$out/bench.db" \
      --quiet --set workload.num_requests="$requests" "${args[@]:1}"
    cat "$out/time" >> "$out/times"
  done
  # The median run by wall time (the lower middle one for an even count).
  read -r wall_s rss_kib < <(sort -n "$out/times" | sed -n "$(((runs + 1) / 2))p")
  [ "$policy" != vllm ] || base_wall="$wall_s"
  awk -v p="$policy" -v n="$requests" -v w="$wall_s" -v r="$rss_kib" -v b="$base_wall" 'BEGIN {
    rel = (b == "") ? "n/a" : sprintf("%.2f", w / b)
    printf "policy=%s requests=%d wall_s=%.2f peak_rss_mib=%.0f rel_to_vllm=%s\n", p, n, w, r / 1024, rel }'
done
