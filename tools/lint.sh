#!/usr/bin/env bash
# tools/lint.sh — formatting and lint, as CI enforces them (tools/test.sh runs this after the
# build): clang-format (.clang-format) must leave every tracked C++ source unchanged, and
# clang-tidy (.clang-tidy: checks that catch real bugs) must report nothing. The kernel module
# (models/kernels) is exempt: its sources are kept exactly as measured on the GPU.
# clang-tidy reads a compile database of its own, build-lint/ (configured, never built: Clang,
# the fuzz targets and benchmarks included) and checks the unity batches the builds compile
# (16 sources each, headers parsed once per batch: about 3x faster than source by source); the
# sources a batch includes are checked as its headers are (HeaderFilterRegex in .clang-tidy).
# Usage: tools/lint.sh            (configures build-lint/ when missing; builds nothing)
#        tools/lint.sh --fix      (rewrites the sources with clang-format; clang-tidy still reports)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${SERVESIM_JOBS:-2}"
mapfile -t sources < <(git ls-files '*.cc' '*.h' | grep -v '^models/kernels/')
mapfile -t units < <(printf '%s\n' "${sources[@]}" | grep '\.cc$')

if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${sources[@]}"
fi
if ! clang-format --dry-run --Werror "${sources[@]}" 2>/tmp/servesim-format.$$; then
  head -40 /tmp/servesim-format.$$ >&2
  rm -f /tmp/servesim-format.$$
  echo "lint: clang-format would change the files above; run tools/lint.sh --fix" >&2
  exit 1
fi
rm -f /tmp/servesim-format.$$
echo "lint: clang-format clean (${#sources[@]} files)"

cmake -S . -B build-lint -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DSERVESIM_UNITY=ON -DSERVESIM_FUZZ=ON -DSERVESIM_KERNELS=OFF >/dev/null
mapfile -t batches < <(sed -n 's/.*"file": "\(.*\/Unity\/unity_[0-9]*_cxx\.cxx\)".*/\1/p' \
  build-lint/compile_commands.json | sort -u)
# Every linted source is in some batch (a source outside every batch would go unchecked).
for u in "${units[@]}"; do
  grep -qF "/$u\"" "${batches[@]}" ||
    { echo "lint: $u is in no unity batch of build-lint/ (not built by CMake?)" >&2; exit 1; }
done
if ! run-clang-tidy -p build-lint -j "$jobs" -quiet "${batches[@]}" >/tmp/servesim-tidy.$$ 2>&1; then
  grep -E "(error|warning):" /tmp/servesim-tidy.$$ | sort -u | head -40 >&2 || tail -40 /tmp/servesim-tidy.$$ >&2
  rm -f /tmp/servesim-tidy.$$
  echo "lint: clang-tidy found problems (checks in .clang-tidy)" >&2
  exit 1
fi
rm -f /tmp/servesim-tidy.$$
echo "lint: clang-tidy clean (${#units[@]} sources in ${#batches[@]} unity batches)"
