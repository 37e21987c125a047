#!/usr/bin/env bash
# tools/slurm/sweep.sh — run a servesim sweep on a Slurm cluster: one job array task per shard
# (`servesim sweep ... --shard $SLURM_ARRAY_TASK_ID/N` into a shard database of its own) and a
# merge job that runs after every task (afterany: failed variants are recorded, not lost) and
# merges the shards into the output. Usage:
#   tools/slurm/sweep.sh SCENARIO.yaml|SWEEP.yaml [servesim sweep options] -o OUT.db \
#       [--tasks N] [--wait] -- [sbatch options]
#   --tasks N   array tasks (default: one per variant, at most 1000)
#   --wait      block until the merge job has finished (exit status: the merge's)
# Each task runs its shard with -j ${SLURM_CPUS_PER_TASK:-1}; pass sbatch's --cpus-per-task to
# give it more. Paths are made absolute (jobs run in this folder); the servesim binary is this
# checkout's build/servesim (SERVESIM_BIN overrides), which the nodes must be able to run.
# Example (a local single-node cluster: tools/slurm/local_cluster.sh):
#   tools/slurm/sweep.sh scenarios/sweeps/rate-batcher-chunk.yaml -o sweep.db -- --time=10
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${SERVESIM_BIN:-$root/build/servesim}"
[ -x "$bin" ] || { echo "slurm sweep: $bin not built (tools/build.sh)" >&2; exit 2; }
command -v sbatch >/dev/null || { echo "slurm sweep: sbatch not found (is this a Slurm login node?)" >&2; exit 2; }

sweep_args=() sbatch_args=() out="" tasks="" wait=0
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; sbatch_args=("$@"); break ;;
    -o|--output) out="$2"; shift 2 ;;
    --tasks) tasks="$2"; shift 2 ;;
    --wait) wait=1; shift ;;
    *) sweep_args+=("$1"); shift ;;
  esac
done
[ -n "$out" ] || { echo "slurm sweep: give the output database: -o OUT.db" >&2; exit 2; }
[ ${#sweep_args[@]} -gt 0 ] || { echo "slurm sweep: give the scenario or sweep file" >&2; exit 2; }
# The scenario (first argument) and the output as absolute paths.
[ -f "${sweep_args[0]}" ] || { echo "slurm sweep: no such file '${sweep_args[0]}'" >&2; exit 2; }
sweep_args[0]="$(cd "$(dirname "${sweep_args[0]}")" && pwd)/$(basename "${sweep_args[0]}")"
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"

variants=$("$bin" sweep "${sweep_args[@]}" --list | wc -l)
[ "$variants" -gt 0 ] || { echo "slurm sweep: no variants" >&2; exit 2; }
n="${tasks:-$variants}"
[ "$n" -gt 1000 ] && n=1000
[ "$n" -gt "$variants" ] && n=$variants
shards="$out.slurm"
mkdir -p "$shards"

q() { printf '%q ' "$@"; }  # shell-quoted words, each followed by a space
sq="$(printf '%q' "$shards")"
task_cmd="$(q "$bin" sweep "${sweep_args[@]}")--shard \$SLURM_ARRAY_TASK_ID/$n -j \${SLURM_CPUS_PER_TASK:-1} -q -o $sq/shard_\$SLURM_ARRAY_TASK_ID.db"
array=$(sbatch --parsable --job-name=servesim-sweep --array=0-$((n - 1)) \
  --output="$shards/task_%a.log" "${sbatch_args[@]}" --wrap "$task_cmd")
array="${array%%;*}"
# Shards in task order (run ids follow it), those that exist.
merge_cmd="set --; for i in \$(seq 0 $((n - 1))); do [ -f $sq/shard_\$i.db ] && set -- \"\$@\" $sq/shard_\$i.db; done; $(q "$bin" merge --resume "$out")\"\$@\" && rm -f \"\$@\""
merge_args=(--parsable --job-name=servesim-merge --dependency="afterany:$array"
  --output="$shards/merge.log" "${sbatch_args[@]}")
[ "$wait" -eq 1 ] && merge_args+=(--wait)
echo "slurm sweep: $variants variant(s) in $n array task(s): job $array; merge into $out after it"
merge=$(sbatch "${merge_args[@]}" --wrap "$merge_cmd") || {
  echo "slurm sweep: the merge job failed; see $shards/merge.log and $shards/task_*.log" >&2
  exit 1
}
echo "slurm sweep: merge job ${merge%%;*}$([ "$wait" -eq 1 ] && echo " done: $out")"
