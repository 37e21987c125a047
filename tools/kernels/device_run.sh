#!/usr/bin/env bash
# tools/kernels/device_run.sh OUTDIR — everything the kernel module does on the GPU
# machine, in one go: build (under /tmp, never in the tree), tests, correctness of every
# kernel against the CPU reference, the two ceilings, attention beside PyTorch SDPA, and
# the profiles of the catalog models. Results land in OUTDIR as three files (the device
# tool returns at most 8):
#   OUTDIR/summary.md       the summary table (also printed last)
#   OUTDIR/run.log          the log of every stage
#   OUTDIR/results.tar.gz   check.json, ceilings.json, attn_ours.json, attn_torch.json,
#                           <gpu>_<model>_tp<N>.json profiles, per-stage logs
# Environment knobs:
#   STAGES     comma list of build,test,check,ceilings,attn,torch,profiles,allreduce
#              (default: all; allreduce runs only where the machine has several GPUs)
#   PROFILES   "model:tp ..." (default "llama-3-8b:1 llama-2-13b:1 llama-3-70b:4")
#   DEADLINE_S seconds this script may use in all (default 560); stages that would start
#              with under a minute left are skipped, the packing at the end always runs
#   BUILD_DIR  (default /tmp/servesim-kernels-build); PREBUILT: a servesim-kernels binary
#              to fall back on when the build fails
set -uo pipefail
OUTDIR=${1:?usage: tools/kernels/device_run.sh OUTDIR}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-/tmp/servesim-kernels-build}
STAGES=${STAGES:-build,test,check,ceilings,attn,torch,profiles,allreduce}
PROFILES=${PROFILES:-"llama-3-8b:1 llama-2-13b:1 llama-3-70b:4"}
DEADLINE_S=${DEADLINE_S:-560}
WORK=$(mktemp -d /tmp/servesim-kernels-results.XXXXXX)
START=$(date +%s)
export PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export PATH=/usr/local/cuda/bin:$PATH

log() { echo "[$(date -u +%H:%M:%S) +$(( $(date +%s) - START ))s] $*" | tee -a "$OUTDIR/run.log"; }
want() { [[ ",$STAGES," == *",$1,"* ]]; }
left() { echo $(( DEADLINE_S - ($(date +%s) - START) )); }
# run NAME CMD...: runs with the remaining time as limit, logs to $WORK/NAME.log.
run() {
  local name=$1; shift
  local budget=$(( $(left) - 15 ))
  if (( budget < 60 )); then log "SKIP $name: ${budget}s left"; return 99; fi
  log "START $name (limit ${budget}s): $*"
  timeout "$budget" "$@" >"$WORK/$name.log" 2>&1
  local rc=$?
  log "END $name rc=$rc"
  tail -n 5 "$WORK/$name.log" | sed 's/^/    /' | tee -a "$OUTDIR/run.log"
  return $rc
}

log "repo $REPO, outdir $OUTDIR, stages $STAGES"
{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm,clocks.mem \
    --format=csv; nvcc --version | tail -2; cmake --version | head -1;
  python3 -c 'import torch; print("torch", torch.__version__)'; } 2>&1 | tee -a "$OUTDIR/run.log"
GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
case "$GPU_NAME" in
  *H100*HBM3*|*H100*SXM*) PREFIX=h100-sxm ;;
  *H100*) PREFIX=h100 ;;
  *H200*) PREFIX=h200-sxm ;;  # the only H200 form lent here; matches models/hardware/h200-sxm.yaml
  *) PREFIX=$(echo "$GPU_NAME" | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-') ;;
esac
log "gpu '$GPU_NAME' -> profile prefix $PREFIX"

BIN=$BUILD/servesim-kernels
if want build; then
  NCCL_ROOT=""
  if [[ ! -f /usr/local/cuda/include/nccl.h && ! -f /usr/include/nccl.h ]]; then
    NCCL_ROOT=$(python3 -c 'import nvidia.nccl as n; print(list(n.__path__)[0])' 2>/dev/null || true)
  fi
  GEN=(); command -v ninja >/dev/null && GEN=(-G Ninja)
  run configure cmake -S "$REPO/models/kernels" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DSERVESIM_NCCL_ROOT="$NCCL_ROOT" -DSERVESIM_NLOHMANN_ROOT="$REPO/build-kernels-carry/include"
  run build cmake --build "$BUILD" -j "$(nproc)"
fi
if [[ ! -x $BIN && -n ${PREBUILT:-} && -x $PREBUILT ]]; then
  log "build failed: falling back to the prebuilt $PREBUILT"
  BIN=$PREBUILT
fi
if [[ ! -x $BIN ]]; then log "no servesim-kernels binary; stopping"; fi

if [[ -x $BIN ]]; then
  if want test && [[ -x $BUILD/kernels_cpu_test ]]; then
    run test_cpu "$BUILD/kernels_cpu_test"
    # The full kernel check runs below (check stage); here only the GPU profile smoke test.
    run test_gpu "$BUILD/kernels_gpu_test" --gtest_filter=-*EveryKernel*
  fi
  want check && run check "$BIN" check --backend cuda --out "$WORK/check.json"
  want ceilings && run ceilings "$BIN" ceilings --backend cuda --out "$WORK/ceilings.json"
  want attn && run attn "$BIN" attn-bench --backend cuda --model llama-3-8b --out "$WORK/attn_ours.json"
fi
want torch && run torch python3 "$REPO/tools/kernels/torch_yardstick.py" --out "$WORK/attn_torch.json"
if [[ -x $BIN ]] && want profiles; then
  for spec in $PROFILES; do
    model=${spec%%:*}; tp=${spec##*:}
    run "profile_${model}_tp${tp}" "$BIN" profile --backend cuda --model "$model" --tp "$tp" \
        --out "$WORK/${PREFIX}_${model}_tp${tp}.json"
  done
fi

NGPU=$(nvidia-smi -L | grep -c '^GPU')
if [[ -x $BIN ]] && want allreduce && (( NGPU > 1 )); then
  nvidia-smi topo -m 2>&1 | tee -a "$OUTDIR/run.log"
  # Message sizes only; the model fields just name the record set.
  run "allreduce_x${NGPU}" "$BIN" profile --backend cuda --model llama-3-70b --tp "$NGPU" \
      --groups allreduce --allreduce-gpus "$NGPU" --out "$WORK/${PREFIX}x${NGPU}_allreduce.json"
fi

python3 "$REPO/tools/kernels/summarize.py" "$WORK" >"$OUTDIR/summary.md" 2>&1
cp "$OUTDIR/summary.md" "$OUTDIR/run.log" "$WORK/" 2>/dev/null
tar -C "$WORK" -czf "$OUTDIR/results.tar.gz" .
log "packed $(ls "$WORK" | wc -l) files into results.tar.gz; total $(( $(date +%s) - START ))s"
cat "$OUTDIR/summary.md"
