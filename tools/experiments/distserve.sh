#!/usr/bin/env bash
# tools/experiments/distserve.sh — the DistServe evidence of the README (ALGORITHMS.md §3.5):
#  1. placement search (servesim place) for OPT-13B and OPT-66B on 8-GPU A100-80GB nodes with the
#     ShareGPT lengths in ../shared/data and the paper's chatbot SLOs (TTFT 0.25 s / 0.4 s,
#     TPOT 0.1 s, 90% attainment): best disaggregated placement vs best colocated vLLM, per GPU;
#  2. the share of latency the KV copy takes for the chosen OPT-66B placement at its goodput,
#     over NVLink (same node) and over a 25 Gbps NIC (3.125 GB/s; the two on different nodes);
#  3. a heterogeneous example: OPT-13B prefill on H100 and decode on A100, next to all-A100 and
#     all-H100 at the same rate, with cost per 1k requests.
# Usage: tools/experiments/distserve.sh [-j N]     (about a minute on 2 cores; needs ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs="${2:-2}"
[ "${1:-}" = "-j" ] || jobs=2
[ -x build/servesim ] || tools/build.sh >/dev/null
bin=build/servesim
dir="$(mktemp -d)"
echo "## 1. placement search (goodput per GPU, 90% attainment)"
printf "| model | SLO TTFT / TPOT | best disaggregated (prefill TPxPP + decode TPxPP) | per GPU | best colocated vLLM | per GPU | ratio |\n|---|---|---|---:|---|---:|---:|\n"
for m in 13b:0.25 66b:0.4; do
  model="${m%%:*}"; ttft="${m#*:}"
  out=$($bin place "scenarios/distserve/opt-$model-chatbot.yaml" --slo "ttft_s<=$ttft" --slo 'tpot_s<=0.1' -j "$jobs" \
        -o "$dir/place-$model.db" 2>/dev/null)
  d=$(echo "$out" | sed -n 's/^best disaggregated: prefill TPxPP \([0-9x]*\) + decode \([0-9x]*\) on \([0-9]*\) devices: \([0-9.e+-]*\).*/\1 + \2 (\3 GPUs)|\4/p')
  c=$(echo "$out" | sed -n 's/^best colocated (vllm): TPxPP \([0-9x]*\): \([0-9.e+-]*\).*/\1|\2/p')
  r=$(echo "$out" | sed -n 's/^disaggregated \/ colocated goodput per device: \([0-9.]*\)x/\1/p')
  echo "| OPT-$model | ${ttft} s / 0.1 s | ${d%%|*} | ${d##*|} | ${c%%|*} | ${c##*|} | ${r}x |"
done

echo
echo "## 2. KV copy share of latency, OPT-66B prefill 4x1 + decode 4x1 at 10 req/s"
printf "| link | KV copy P50 (ms) | KV copy P99 (ms) | mean copy / mean E2E |\n|---|---:|---:|---:|\n"
common=(--quiet --set workload.arrival.rate_per_s=10 --set cluster.pools.0.tensor_parallel=4
        --set cluster.pools.1.tensor_parallel=4 --set cluster.pools.1.pipeline_parallel=1)
$bin run scenarios/distserve/opt-66b-chatbot.yaml -o "$dir/nvlink.db" "${common[@]}"
$bin run scenarios/distserve/opt-66b-chatbot.yaml -o "$dir/nic.db" "${common[@]}" \
  --set 'cluster.pools.0.nodes=[0]' --set 'cluster.pools.1.nodes=[1]' --set cluster.topology.nic_gbps=3.125
for link in nvlink nic; do
  sqlite3 -separator ' | ' "$dir/$link.db" "SELECT '$link', printf('%.2f', 1000 * (SELECT value FROM summary WHERE scope = 'run' AND metric = 'kv_transfer_p50_s')),
    printf('%.2f', 1000 * (SELECT value FROM summary WHERE scope = 'run' AND metric = 'kv_transfer_p99_s')),
    printf('%.4f%%', 100 * avg(kv_transfer_s) / avg(e2e_s)) FROM requests" | sed 's/^/| /; s/$/ |/'
done

echo
echo "## 3. heterogeneous pools, OPT-13B prefill TP2 + decode TP1 at 6 req/s"
printf "| prefill | decode | TTFT P99 (s) | TPOT P99 (s) | attainment | cost per 1k requests (USD) | energy per request (J) |\n|---|---|---:|---:|---:|---:|---:|\n"
for pair in a100-80g:a100-80g h100-sxm:h100-sxm h100-sxm:a100-80g; do
  p="${pair%%:*}"; d="${pair#*:}"
  db="$dir/het-$p-$d.db"
  $bin run scenarios/distserve/opt-13b-chatbot.yaml -o "$db" --quiet --set workload.arrival.rate_per_s=6 \
    --set cluster.pools.0.hardware="$p" --set cluster.pools.1.hardware="$d"
  sqlite3 -separator ' | ' "$db" "SELECT '$p', '$d',
    printf('%.3f', max(CASE WHEN metric='ttft_p99_s' THEN value END)), printf('%.4f', max(CASE WHEN metric='tpot_p99_s' THEN value END)),
    printf('%.3f', max(CASE WHEN metric='slo_attainment' THEN value END)), printf('%.3f', max(CASE WHEN metric='cost_per_1k_requests' THEN value END)),
    printf('%.0f', max(CASE WHEN metric='energy_per_request_j' THEN value END))
    FROM summary WHERE scope = 'run'" | sed 's/^/| /; s/$/ |/'
done
echo "(every run is in $dir)"
