#!/usr/bin/env bash
# tools/lint.sh — formatting and lint, as CI enforces them (tools/test.sh runs this after the
# build): clang-format (.clang-format) must leave every tracked C++ source unchanged, and
# clang-tidy (.clang-tidy: checks that catch real bugs) must report nothing. The kernel module
# (models/kernels) is exempt: its sources are kept exactly as measured on the GPU.
# Usage: tools/lint.sh            (needs build/compile_commands.json: run tools/build.sh first)
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

[ -f build/compile_commands.json ] || { echo "lint: no build/compile_commands.json; run tools/build.sh first" >&2; exit 1; }
if ! run-clang-tidy -p build -j "$jobs" -quiet "${units[@]}" >/tmp/servesim-tidy.$$ 2>&1; then
  grep -E "(error|warning):" /tmp/servesim-tidy.$$ | sort -u | head -40 >&2 || tail -40 /tmp/servesim-tidy.$$ >&2
  rm -f /tmp/servesim-tidy.$$
  echo "lint: clang-tidy found problems (checks in .clang-tidy)" >&2
  exit 1
fi
rm -f /tmp/servesim-tidy.$$
echo "lint: clang-tidy clean (${#units[@]} translation units)"
