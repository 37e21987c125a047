#!/usr/bin/env bash
# tools/fuzz.sh — runs the libFuzzer targets (tests/fuzz) built by tools/sanitize.sh in
# build-asan/fuzz/, each from its committed seed corpus (tests/fuzz/corpus/<target>, plus
# scenarios/ for fuzz_scenario) into a working corpus build-asan/fuzz-corpus/<target> that grows
# between runs. Prints one line per target: executions, seconds, corpus size, findings. A finding
# (crash, sanitizer report, unexpected exception, > 10 s per input, > 2 GiB) is saved as
# build-asan/fuzz-findings/<target>-crash-* (or timeout-*, oom-*) and fails the script; reproduce
# it with build-asan/fuzz/fuzz_<target> FILE. Targets run SERVESIM_JOBS (2) at a time.
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
jobs="${SERVESIM_JOBS:-2}"

# One target: its summary line goes to build-asan/fuzz-$t.summary, its exit code to .rc.
fuzz_one() {
  local t="$1" bin="build-asan/fuzz/fuzz_$1" work="build-asan/fuzz-corpus/$1"
  local log="build-asan/fuzz-$1.log" seeds=("tests/fuzz/corpus/$1") rc=0
  mkdir -p "$work"
  [ "$t" = scenario ] && seeds+=(scenarios)
  local before start end execs findings corpus
  before=$(find build-asan/fuzz-findings -name "$t-*" | wc -l)
  start=$(date +%s%N)
  "$bin" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="build-asan/fuzz-findings/$t-" "$work" "${seeds[@]}" >"$log" 2>&1 || rc=$?
  end=$(date +%s%N)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  findings=$(($(find build-asan/fuzz-findings -name "$t-*" | wc -l) - before))
  corpus=$(find "$work" -type f | wc -l)
  awk -v t="fuzz_$t" -v e="$execs" -v ns=$((end - start)) -v c="$corpus" -v f="$findings" \
    'BEGIN { printf "%-14s %11d executions in %7.1f s (%8.0f/s), corpus %5d, findings %d\n",
             t, e, ns / 1e9, e / (ns / 1e9), c, f }' >"build-asan/fuzz-$t.summary"
  echo "$rc" >"build-asan/fuzz-$t.rc"
}

for t in "${targets[@]}"; do
  [ -x "build-asan/fuzz/fuzz_$t" ] ||
    { echo "fuzz: build-asan/fuzz/fuzz_$t missing; run tools/sanitize.sh first" >&2; exit 2; }
done
# SERVESIM_JOBS targets at a time (each libFuzzer process uses one core).
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  fuzz_one "$t" &
done
wait
failed=0
for t in "${targets[@]}"; do
  cat "build-asan/fuzz-$t.summary"
  if [ "$(cat "build-asan/fuzz-$t.rc")" != 0 ]; then
    failed=1
    grep -E "ERROR|SUMMARY|fuzz:|Test unit written|runtime error" "build-asan/fuzz-$t.log" | head -20 >&2 ||
      tail -30 "build-asan/fuzz-$t.log" >&2
  fi
done
exit "$failed"
