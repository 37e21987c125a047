#!/usr/bin/env python3
"""tools/engine/fit_overhead.py — fits the host overhead of an iteration from engine runs.

For each engine iteration (engine_steps), the simulator's kernel-only time for the same batch
shape is priced with `servesim estimate` (step overhead 0); the residual

    host_ms = measured iteration wall time − kernel-only estimate

is what the cost model must add per iteration (scheduling, input preparation, launches the GPU
waits for, sampling read-back, output processing). It is fitted per iteration kind — decode
(CUDA-graph replay), prefill (eager) and mixed (eager) — as a + b·sequences + c·tokens by least
squares on the even iterations and checked on the odd ones (held out). Printed per kind: the
held-out error of kernel estimate + fit vs the measured time, against kernel estimate + the
catalog's constant step overhead; written (--out) as the JSON the cost models read.

  python3 tools/engine/fit_overhead.py ENGINE.db [...] --profile models/calibration/X.json
      [--cost measured] [--sample 600] [--out models/calibration/X.host_overhead.json]
"""

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KINDS = ("decode", "prefill", "mixed")


def solve(rows, ys):
    """Least squares for y ≈ X·w with a 3-column X (normal equations, Gaussian elimination);
    columns with no variation are dropped (their coefficient 0)."""
    n = len(rows[0])
    keep = [j for j in range(n) if j == 0 or len({r[j] for r in rows}) > 1]
    a = [[sum(r[i] * r[j] for r in rows) for j in keep] for i in keep]
    b = [sum(r[i] * y for r, y in zip(rows, ys)) for i in keep]
    m = len(keep)
    for c in range(m):
        p = max(range(c, m), key=lambda i: abs(a[i][c]))
        a[c], a[p], b[c], b[p] = a[p], a[c], b[p], b[c]
        if abs(a[c][c]) < 1e-12:
            continue
        for i in range(m):
            if i != c:
                f = a[i][c] / a[c][c]
                a[i] = [x - f * y for x, y in zip(a[i], a[c])]
                b[i] -= f * b[c]
    w = [0.0] * n
    for k, j in enumerate(keep):
        w[j] = b[k] / a[k][k] if abs(a[k][k]) > 1e-12 else 0.0
    return w


def batch_line(step):
    """The `servesim estimate --batches` line of an engine iteration."""
    items = []
    n_seg = 0
    prior_new = 0
    for seg in filter(None, step["segments"].split(";")):
        new, prior = (int(x) for x in seg.split("@"))
        items.append(f"{new}@{prior}")
        n_seg += 1
        prior_new += new + prior
    decodes = step["num_seqs"] - n_seg
    if decodes:
        # servesim's decode context counts the new token: Σ(prompt + generated) over decodes.
        ctx = step["context_tokens"] - prior_new + decodes
        q, rem = divmod(ctx, decodes)
        if decodes - rem:
            items.append(f"{decodes - rem}x{q}")
        if rem:
            items.append(f"{rem}x{q + 1}")
    return " ".join(items)


def estimate_ms(args, steps):
    """Kernel-only estimates (step overhead 0) of every step, in one servesim process."""
    cmd = [args.servesim, "estimate", "--model", args.model, "--hardware", args.hardware,
           "--cost", args.cost, "--set", "step_overhead_us=0", "--batches", "-"]
    for p in args.profile:
        cmd += ["--profile", p]
    text = "\n".join(batch_line(s) for s in steps) + "\n"
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT,
                         input=text).stdout.split()
    if len(out) != len(steps):
        raise RuntimeError(f"servesim estimate priced {len(out)} of {len(steps)} batches")
    return [float(x) for x in out]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("engine_dbs", nargs="+")
    ap.add_argument("--profile", action="append", default=[])
    ap.add_argument("--cost", default="measured")
    ap.add_argument("--model", default="llama-3-8b")
    ap.add_argument("--hardware", default="h200-sxm")
    ap.add_argument("--constant-us", type=float, default=2000.0,
                    help="the catalog's step_overhead_us, for comparison")
    ap.add_argument("--sample", type=int, default=100000,
                    help="at most this many iterations per run and kind (seeded sample)")
    ap.add_argument("--servesim", default=os.path.join(ROOT, "build/servesim"))
    ap.add_argument("--out")
    args = ap.parse_args()
    rng = random.Random(1)
    data = {k: [] for k in KINDS}
    for db in args.engine_dbs:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        con.row_factory = sqlite3.Row
        steps = [dict(r) for r in con.execute("SELECT * FROM engine_steps ORDER BY run_id, "
                                              "iteration")]
        con.close()
        for kind in KINDS:
            ks = [s for s in steps if s["kind"] == kind]
            if len(ks) > args.sample:
                ks = sorted(rng.sample(ks, args.sample), key=lambda s: s["iteration"])
            for s, k in zip(ks, estimate_ms(args, ks) if ks else []):
                s["kernel_ms"] = k
                data[kind].append(s)
    fit = {}
    print(f"{'kind':8s} {'n':>5s} {'a_us':>8s} {'per_seq_us':>10s} {'per_tok_us':>10s} "
          f"{'gpu/kern':>8s} {'err fit':>8s} {'err const':>9s} {'best const':>10s}")
    for kind in KINDS:
        d = data[kind]
        if len(d) < 8:
            continue
        train, test = d[0::2], d[1::2]
        xs = [[1.0, s["num_seqs"], s["tokens"]] for s in train]
        ys = [s["total_s"] * 1e3 - s["kernel_ms"] for s in train]
        w = solve(xs, ys)

        def host(s):
            return w[0] + w[1] * s["num_seqs"] + w[2] * s["tokens"]

        def mape(pred):
            return sum(abs(pred(s) - s["total_s"] * 1e3) / (s["total_s"] * 1e3)
                       for s in test) / len(test)

        best_const = sorted(ys)[len(ys) // 2]
        err_fit = mape(lambda s: s["kernel_ms"] + host(s))
        err_const = mape(lambda s: s["kernel_ms"] + args.constant_us * 1e-3)
        gpu_ratio = sum(s["gpu_s"] * 1e3 for s in d) / sum(s["kernel_ms"] for s in d)
        fit[kind] = dict(base_us=w[0] * 1e3, per_seq_us=w[1] * 1e3, per_token_us=w[2] * 1e3,
                         iterations=len(d), held_out_mape=err_fit,
                         held_out_mape_constant=err_const, median_residual_us=best_const * 1e3,
                         gpu_span_over_kernel_estimate=gpu_ratio)
        print(f"{kind:8s} {len(d):5d} {w[0] * 1e3:8.0f} {w[1] * 1e3:10.2f} {w[2] * 1e3:10.3f} "
              f"{gpu_ratio:8.2f} {err_fit * 100:7.1f}% {err_const * 100:8.1f}% "
              f"{best_const * 1e3:10.0f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(format="servesim-host-overhead-1", model=args.model,
                           hardware=args.hardware, cost_model=args.cost, profiles=args.profile,
                           sources=[os.path.basename(d) for d in args.engine_dbs],
                           method="residual = engine iteration wall time - kernel-only estimate; "
                                  "least squares a + b*seqs + c*tokens on even iterations, "
                                  "MAPE on odd", kinds=fit), f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
