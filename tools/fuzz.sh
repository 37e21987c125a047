#!/usr/bin/env bash
# tools/fuzz.sh — runs the libFuzzer targets (tests/fuzz) built by tools/sanitize.sh in
# build-asan/fuzz/, each from its committed seed corpus (tests/fuzz/corpus/<target>, plus
# scenarios/ for fuzz_scenario) into a working corpus build-asan/fuzz-corpus/<target> that grows
# between runs. Prints one line per target: executions, seconds, corpus size, findings. A finding
# (crash, sanitizer report, unexpected exception, > 10 s per input, > 2 GiB) is saved as
# build-asan/fuzz-findings/<target>-crash-* (or timeout-*, oom-*) and fails the script; reproduce
# it with build-asan/fuzz/fuzz_<target> FILE.
# Usage: tools/fuzz.sh [--seconds S | --runs N] [TARGET...]   (default: 20 s each, every target)
set -euo pipefail
cd "$(dirname "$0")/.."
limit=(-max_total_time=20)
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) limit=("-max_total_time=$2"); shift 2 ;;
    --runs) limit=("-runs=$2"); shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(json trace profile scenario)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p build-asan/fuzz-findings
failed=0
for t in "${targets[@]}"; do
  bin="build-asan/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz: $bin missing; run tools/sanitize.sh first" >&2; exit 2; }
  work="build-asan/fuzz-corpus/$t"
  mkdir -p "$work"
  seeds=("tests/fuzz/corpus/$t")
  [ "$t" = scenario ] && seeds+=(scenarios)
  log="build-asan/fuzz-$t.log"
  before=$(find build-asan/fuzz-findings -name "$t-*" | wc -l)
  start=$(date +%s%N)
  rc=0
  "$bin" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="build-asan/fuzz-findings/$t-" "$work" "${seeds[@]}" >"$log" 2>&1 || rc=$?
  end=$(date +%s%N)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  findings=$(($(find build-asan/fuzz-findings -name "$t-*" | wc -l) - before))
  corpus=$(find "$work" -type f | wc -l)
  awk -v t="fuzz_$t" -v e="$execs" -v ns=$((end - start)) -v c="$corpus" -v f="$findings" \
    'BEGIN { printf "%-14s %11d executions in %7.1f s (%8.0f/s), corpus %5d, findings %d\n",
             t, e, ns / 1e9, e / (ns / 1e9), c, f }'
  if [ "$rc" != 0 ]; then
    failed=1
    grep -E "ERROR|SUMMARY|fuzz:|Test unit written|runtime error" "$log" | head -20 >&2 || tail -30 "$log" >&2
  fi
done
exit "$failed"
