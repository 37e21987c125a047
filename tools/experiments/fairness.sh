#!/usr/bin/env bash
# tools/experiments/fairness.sh — the fair-scheduling evidence of the README (ALGORITHMS.md §4):
#  1. VTC "overload" (scenarios/fairness/vtc-overload.yaml): FCFS, LCF and VTC; service shares,
#     accumulated / windowed service difference against VTC's bound 2U, and the accumulated
#     difference minute by minute;
#  2. VTC "real" (scenarios/fairness/vtc-real.yaml, the LMSYS trace in ../shared/data): simulated
#     FCFS / LCF / VTC / RPM next to what the VTC artifact measured on an A10G
#     (tools/experiments/vtc_measured.py computes the measured rows the same way);
#  3. DLPM against VTC and LPM: the shared-prefix workload (dlpm-shared-prefix.yaml) and the
#     Mooncake conversation trace (dlpm-mooncake.yaml), DLPM's Q swept;
#  4. D²LPM on 4 workers (d2lpm-cluster.yaml) against cache_aware, least_loaded and round_robin,
#     per-client latency, and the dispatcher/worker quanta swept.
# Usage: tools/experiments/fairness.sh     (about a minute on 2 cores; sections 2 and 3b need
# ../shared/data, or SERVESIM_DATA_DIR; python3 for the measured rows)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x build/servesim ] || tools/build.sh >/dev/null
bin=build/servesim
data="${SERVESIM_DATA_DIR:-../shared/data}"
dir="$(mktemp -d)"
run() {  # run NAME SCENARIO ARGS... → $dir/NAME.db
  local name="$1" scenario="$2"; shift 2
  $bin run "$scenario" -o "$dir/$name.db" --quiet "$@" 2> >(grep -v '^servesim: workload: truncate' >&2)
}
metric() {  # metric NAME METRIC [SCOPE]
  sqlite3 "$dir/$1.db" "SELECT value FROM summary WHERE scope = '${3:-run}' AND metric = '$2'"
}
fmt() { printf "%.${2:-0}f" "$1"; }

echo "## 1. VTC overload: 2 clients at 1.5 and 3 req/s, 256/256 tokens, 6 min (2U = 40,000)"
printf "| order | client 0 share | client 1 share | acc. diff max | window diff max (/s) | window diff mean (/s) | Jain | within 2U |\n|---|---:|---:|---:|---:|---:|---:|---|\n"
for o in fcfs lcf vtc; do
  run "ov-$o" scenarios/fairness/vtc-overload.yaml --set "policies.queue_order.impl=$o"
  acc=$(metric "ov-$o" service_diff_acc_max)
  echo "| $o | $(fmt "$(metric "ov-$o" service_share client:0)" 3) | $(fmt "$(metric "ov-$o" service_share client:1)" 3) | $(fmt "$acc") | $(fmt "$(metric "ov-$o" service_diff_window_max)" 1) | $(fmt "$(metric "ov-$o" service_diff_window_mean)" 1) | $(fmt "$(metric "ov-$o" jain_index)" 3) | $(awk -v a="$acc" 'BEGIN { print (a <= 40000 ? "yes" : "no") }') |"
done
echo
echo "Accumulated service difference |A_1 − A_0| at the end of each minute:"
printf "| minute |"; for o in fcfs lcf vtc; do printf " %s |" "$o"; done; printf "\n|---:|---:|---:|---:|\n"
for m in 1 2 3 4 5 6; do
  printf "| %d |" "$m"
  for o in fcfs lcf vtc; do
    v=$(sqlite3 "$dir/ov-$o.db" "SELECT abs(sum(CASE WHEN client_id = 1 THEN service ELSE -service END)) FROM client_service WHERE window_start_s < $m * 60")
    printf " %s |" "$(fmt "$v")"
  done
  echo
done

echo
echo "## 2. VTC real: LMSYS trace (27 clients, 1,500 requests, 10 min), simulated vs measured (A10G, S-LoRA)"
if [ -d "$data/traces/vtc_lmsys_real" ]; then
  printf "| run | throughput (req/s) | TTFT mean (s) | E2E mean (s) | acc. diff max | window diff max (/s) | window diff mean (/s) | Jain | rejected |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
  for o in "fcfs" "lcf" "vtc" "vtc double_charge=true" "rpm requests_per_minute=5" "rpm requests_per_minute=20"; do
    set -- $o
    name="real-$1${2:+-${2#*=}}"
    extra=(); [ -n "${2:-}" ] && extra=(--set "policies.queue_order.$2")
    run "$name" scenarios/fairness/vtc-real.yaml --set "policies.queue_order.impl=$1" "${extra[@]}"
    echo "| $1${2:+ ($2)} (simulated) | $(fmt "$(metric "$name" throughput_req_s)" 2) | $(fmt "$(metric "$name" ttft_mean_s)" 1) | $(fmt "$(metric "$name" e2e_mean_s)" 1) | $(fmt "$(metric "$name" service_diff_acc_max)") | $(fmt "$(metric "$name" service_diff_window_max)" 1) | $(fmt "$(metric "$name" service_diff_window_mean)" 1) | $(fmt "$(metric "$name" jain_index)" 3) | $(fmt "$(metric "$name" requests_rejected)") |"
  done
  if command -v python3 >/dev/null; then
    (cd "$data/traces/vtc_lmsys_real" && python3 "$OLDPWD/tools/experiments/vtc_measured.py" \
      FCFS/all_results_real.jsonl LCF/all_results_real.jsonl VTC/all_results_real.jsonl \
      LShare/rpm5/all_results_real.jsonl LShare/rpm20/all_results_real.jsonl)
  else
    echo "(python3 not found: measured rows skipped)"
  fi
else
  echo "(skipped: $data/traces/vtc_lmsys_real not found)"
fi

echo
echo "## 3a. DLPM vs VTC vs LPM: 4 clients x 2 system prompts of 2,000 tokens, 1 worker"
table3() {  # table3 PREFIX SCENARIO QUANTA...
  local prefix="$1" scenario="$2"; shift 2
  printf "| order | throughput (tok/s) | vs VTC | prefix hit rate | mean batch | acc. diff max | window diff mean (/s) | Jain |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
  local rows=(fcfs vtc lpm)
  for q in "$@"; do rows+=("dlpm:$q"); done
  for o in "${rows[@]}"; do
    local impl="${o%%:*}" name="$prefix-${o/:/-}"
    local extra=(); [ "$impl" = dlpm ] && extra=(--set "policies.queue_order.quantum=${o#*:}")
    run "$name" "$scenario" --set "policies.queue_order.impl=$impl" "${extra[@]}"
  done
  for o in "${rows[@]}"; do
    local name="$prefix-${o/:/-}" label="$o"
    [ "${o%%:*}" = dlpm ] && label="dlpm Q=${o#*:}"
    echo "| $label | $(fmt "$(metric "$name" throughput_tok_s)" 1) | $(awk -v a="$(metric "$name" throughput_tok_s)" -v b="$(metric "$prefix-vtc" throughput_tok_s)" 'BEGIN { printf "%.2fx", a / b }') | $(fmt "$(metric "$name" prefix_hit_rate)" 3) | $(fmt "$(metric "$name" mean_batch_size)" 1) | $(fmt "$(metric "$name" service_diff_acc_max)") | $(fmt "$(metric "$name" service_diff_window_mean)" 1) | $(fmt "$(metric "$name" jain_index)" 3) |"
  done
}
table3 sp scenarios/fairness/dlpm-shared-prefix.yaml 500 2500 20000 200000 2000000
echo
echo "## 3b. DLPM vs VTC vs LPM: Mooncake conversation trace, first 20 min at 3x rate, 8 tenants, llama-3-8b on H100"
if [ -f "$data/traces/mooncake_fast25/conversation_trace.jsonl" ]; then
  table3 mc scenarios/fairness/dlpm-mooncake.yaml 2500 25000 250000
else
  echo "(skipped: $data/traces/mooncake_fast25 not found)"
fi

echo
echo "## 4. D²LPM vs distributed baselines: 8 clients (weights 1-8), 4 workers, 5 req/s"
printf "| dispatcher + workers | throughput (tok/s) | prefix hit rate | E2E mean (s) | per-client E2E mean, min-max (s) | TTFT p99 (s) | Jain |\n|---|---:|---:|---:|---:|---:|---:|\n"
c=scenarios/fairness/d2lpm-cluster.yaml
run d2-d2lpm "$c"
run d2-cache "$c" --set 'policies.router={impl: cache_aware}' --set 'policies.queue_order={impl: lpm}'
run d2-ll "$c" --set 'policies.router={impl: least_loaded}' --set 'policies.queue_order={impl: fcfs}'
run d2-rr "$c" --set 'policies.router={impl: round_robin}' --set 'policies.queue_order={impl: fcfs}'
run d2-d2lpm-r2e5 "$c" --set policies.router.quantum=200000
run d2-d2lpm-w2e4 "$c" --set policies.queue_order.quantum=20000
run d2-d2lpm-r2e4-w2500 "$c" --set policies.router.quantum=20000 --set policies.queue_order.quantum=2500
for r in "d2lpm:d2lpm (R=2e6) + dlpm (Q=2e5)" "d2lpm-r2e5:d2lpm (R=2e5) + dlpm (Q=2e5)" "d2lpm-w2e4:d2lpm (R=2e6) + dlpm (Q=2e4)" "d2lpm-r2e4-w2500:d2lpm (R=2e4) + dlpm (Q=2500)" "cache:cache_aware + lpm" "ll:least_loaded + fcfs" "rr:round_robin + fcfs"; do
  n="d2-${r%%:*}"
  pc=$(sqlite3 "$dir/$n.db" "SELECT printf('%.1f-%.1f', min(value), max(value)) FROM summary WHERE scope LIKE 'client:%' AND metric = 'e2e_mean_s'")
  echo "| ${r#*:} | $(fmt "$(metric "$n" throughput_tok_s)" 1) | $(fmt "$(metric "$n" prefix_hit_rate)" 3) | $(fmt "$(metric "$n" e2e_mean_s)" 1) | $pc | $(fmt "$(metric "$n" ttft_p99_s)" 1) | $(fmt "$(metric "$n" jain_index)" 3) |"
done
echo
echo "Per-client E2E mean of each baseline over D²LPM's (R=2e6, Q=2e5), largest ratio over the 8 clients:"
for b in cache ll rr; do
  r=$(sqlite3 "$dir/d2-$b.db" "ATTACH '$dir/d2-d2lpm.db' AS d; SELECT printf('%.2fx (client %s)', max(b.value / x.value), substr(b.scope, 8)) FROM summary b JOIN d.summary x ON x.scope = b.scope AND x.metric = b.metric WHERE b.scope LIKE 'client:%' AND b.metric = 'e2e_mean_s'")
  echo "- $b: $r"
done
echo "(every run is in $dir)"
