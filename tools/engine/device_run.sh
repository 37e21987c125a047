#!/usr/bin/env bash
# tools/engine/device_run.sh — what one device call runs (on the GPU machine, from the repository
# root): records the device, then replays the given runs with the engine into $OUT/NAME.db.
#   tools/engine/device_run.sh --run NAME=REQS.db[,batcher=sarathi][,kv_blocks=N] [--run ...]
# The requests databases come from this machine (servesim runs of scenarios/engine/*.yaml),
# carried in an ignored folder; see tools/engine/README.md.
set -euo pipefail
out="${OUT:-engine-out}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
{
  nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.mem,driver_version --format=csv
  python3 -c 'import sys, torch, triton; print("python", sys.version.split()[0], "torch", torch.__version__, "triton", triton.__version__, "cuda", torch.version.cuda)'
  git rev-parse --short HEAD 2>/dev/null || true
} | tee "$out/device.txt"
python3 tools/engine/engine.py --out-dir "$out" "$@" 2>&1 | tee "$out/engine.log"
