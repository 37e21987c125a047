#!/usr/bin/env bash
# tools/sanitize.sh — the sanitizer job (tools/test.sh runs it after the release build): builds
# the library, the binary, the tests and the fuzz targets with Clang under AddressSanitizer and
# UndefinedBehaviorSanitizer (build-asan/, assertions on, every finding fatal), runs the whole
# test suite there, then fuzzes each target for a bounded time from its seed corpus
# (tools/fuzz.sh). Any sanitizer report, failed test or fuzz finding fails the job.
# Usage: tools/sanitize.sh                      (fuzz 20 s per target)
#        SERVESIM_FUZZ_SECONDS=0 tools/sanitize.sh   (tests only, no fuzzing)
#        SERVESIM_SANITIZE_TESTS=0 tools/sanitize.sh (build and fuzz only; tools/bench/fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${SERVESIM_JOBS:-2}"
werror=OFF
[ "${SERVESIM_WERROR:-0}" = "1" ] && werror=ON
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_COMPILER=clang++ \
  "-DCMAKE_CXX_FLAGS=-O1 -gline-tables-only" -DSERVESIM_SANITIZE=address,undefined \
  -DSERVESIM_FUZZ=ON -DSERVESIM_BENCHMARKS=OFF -DSERVESIM_KERNELS=OFF \
  -DSERVESIM_WERROR="$werror" >/dev/null
cmake --build build-asan -j "$jobs"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
if [ "${SERVESIM_SANITIZE_TESTS:-1}" != "0" ]; then
  ctest --test-dir build-asan --output-on-failure -j "$jobs"
fi
seconds="${SERVESIM_FUZZ_SECONDS:-20}"
if [ "$seconds" != "0" ]; then
  tools/fuzz.sh --seconds "$seconds"
fi
