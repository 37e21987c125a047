#!/usr/bin/env bash
# tools/bench/paired.sh — times two commands in alternating pairs pinned to one core and prints
# each side's median wall time, peak RSS and the median of the per-pair ratios A/B. Pairing
# cancels most of a shared machine's drift; the ratio is the figure to quote.
#   tools/bench/paired.sh [-n PAIRS] [-c CORE] 'COMMAND_A' 'COMMAND_B'
set -euo pipefail
pairs=5
core=1
while getopts "n:c:" opt; do
  case "$opt" in
    n) pairs="$OPTARG" ;;
    c) core="$OPTARG" ;;
    *) echo "usage: $0 [-n PAIRS] [-c CORE] 'COMMAND_A' 'COMMAND_B'" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { echo "usage: $0 [-n PAIRS] [-c CORE] 'COMMAND_A' 'COMMAND_B'" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for i in $(seq "$pairs"); do
  for side in a b; do
    cmd="$1"; [ "$side" = b ] && cmd="$2"
    /usr/bin/time -f "%e %M" -o "$tmp/t" taskset -c "$core" sh -c "$cmd" >/dev/null 2>"$tmp/err" ||
      { echo "paired: command $side failed:" >&2; cat "$tmp/err" >&2; exit 1; }
    read -r wall rss < "$tmp/t"
    echo "$i $wall $rss" >> "$tmp/$side"
  done
done
paste "$tmp/a" "$tmp/b" | awk -v n="$pairs" '
  function median(x, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
                                      return k % 2 ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2 }
  { wa[NR] = $2; ra[NR] = $3; wb[NR] = $5; rb[NR] = $6; q[NR] = $2 / $5 }
  END { printf "A: median wall %.2f s, peak RSS %.0f MiB\n", median(wa, n), median(ra, n) / 1024
        printf "B: median wall %.2f s, peak RSS %.0f MiB\n", median(wb, n), median(rb, n) / 1024
        printf "A/B: median of %d pair ratios %.2f\n", n, median(q, n) }'
