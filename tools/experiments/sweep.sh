#!/usr/bin/env bash
# tools/experiments/sweep.sh — the README's "Sweeps" worked example: the 60-variant sweep of
# scenarios/sweeps/rate-batcher-chunk.yaml run locally with -j 2, then (as root, with Slurm
# installed) on a single-node Slurm started by tools/slurm/local_cluster.sh, one array task per
# variant and with 2 tasks; the merged databases compared; and the report of the local one.
# Prints the wall time of each fan-out. Usage: tools/experiments/sweep.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x build/servesim ] || tools/build.sh >/dev/null
out="${1:-results/sweep-example}"
mkdir -p "$out"
rm -rf "$out"/local.db "$out"/slurm*.db "$out"/slurm*.db.slurm "$out/report"
sweep=scenarios/sweeps/rate-batcher-chunk.yaml
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }

printf "local, -j 2:                 %.1f s\n" "$(secs build/servesim sweep $sweep -j 2 -q -o "$out/local.db")"
if [ "$(id -u)" -eq 0 ] && command -v slurmctld >/dev/null; then
  eval "$(tools/slurm/local_cluster.sh start)"
  trap 'tools/slurm/local_cluster.sh stop' EXIT
  printf "Slurm, 60 array tasks:       %.1f s\n" "$(secs tools/slurm/sweep.sh $sweep -o "$out/slurm60.db" --wait)"
  printf "Slurm, 2 array tasks:        %.1f s\n" "$(secs tools/slurm/sweep.sh $sweep -o "$out/slurm2.db" --tasks 2 --wait)"
  for db in slurm60 slurm2; do
    same=yes
    # (run ids follow the shard order: compare by swept values)
    for q in "SELECT count(*) FROM requests" "SELECT params, requests_completed, ttft_p99_s, tpot_p99_s, slo_attainment FROM run_overview ORDER BY params"; do
      [ "$(sqlite3 "$out/$db.db" "$q")" = "$(sqlite3 "$out/local.db" "$q")" ] || same=no
    done
    echo "$db.db: $(sqlite3 "$out/$db.db" "SELECT count(*) FROM runs WHERE status = 'ok'") runs; same rows and metrics as local.db: $same"
  done
else
  echo "(Slurm part skipped: needs root and tools/setup.sh's Slurm packages)"
fi
build/servesim report "$out/local.db" --by workload.arrival.rate_per_s --by policies.batcher -o "$out/report"
echo
echo "Goodput (rate where SLO attainment crosses 0.9, interpolated) per batcher:"
python3 - "$out/report/runs.csv" <<'PY' 2>/dev/null || true
import csv, sys, collections
rows = collections.defaultdict(list)
for r in csv.DictReader(open(sys.argv[1])):
    rows[r["policies.batcher"]].append((float(r["workload.arrival.rate_per_s"]), float(r["slo_attainment"])))
for b, pts in sorted(rows.items()):
    pts.sort(); g = None
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if y0 >= 0.9 > y1: g = x0 + (x1 - x0) * (y0 - 0.9) / (y0 - y1); break
    print(f"  {b:50s} {g:.1f} req/s" if g else f"  {b:50s} > {pts[-1][0]} req/s")
PY
