#!/usr/bin/env python3
"""tools/engine/check_fit.py — the CPU check of fit_overhead.py: engine iterations are made up
whose wall time is the simulator's own kernel-only estimate plus a known host line per kind
(a + b·sequences + c·tokens, with ±50 µs of jitter), and the fit must give those lines back (each
coefficient within 10% of the truth, or within 2 µs where the truth is small) with a held-out
error below 3%, while the constant step overhead it is compared with must do clearly worse.
Exit status 1 on any miss (a ctest).

  python3 tools/engine/check_fit.py [--servesim build/servesim]
"""

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fit_overhead  # noqa: E402
import results  # noqa: E402

# The host lines the made-up engine has (µs): base, per sequence, per token.
TRUTH = {"decode": (900.0, 12.0, 0.0), "prefill": (3000.0, 150.0, 0.35),
         "mixed": (2500.0, 20.0, 0.30)}


def made_up_steps(rng, n_per_kind):
    steps = []
    for kind in ("decode", "prefill", "mixed"):
        for _ in range(n_per_kind):
            segs = []
            if kind != "decode":
                for _ in range(rng.randint(1, 4)):
                    segs.append((rng.randint(16, 1500), rng.choice([0, 0, rng.randint(1, 3000)])))
            decodes = 0 if kind == "prefill" else rng.randint(1, 200)
            ctx = sum(n + p for n, p in segs) + sum(rng.randint(100, 3000) for _ in range(decodes))
            steps.append(dict(
                iteration=len(steps), kind=kind, graph=int(kind == "decode"), padded_batch=0,
                num_seqs=len(segs) + decodes, tokens=sum(n for n, _ in segs) + decodes,
                context_tokens=ctx, segments=";".join(f"{n}@{p}" for n, p in segs),
                schedule_s=0.0, prepare_s=0.0, gpu_s=0.0, total_s=0.0))
    return steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servesim", default=os.path.join(fit_overhead.ROOT, "build/servesim"))
    args = ap.parse_args()
    rng = random.Random(3)
    steps = made_up_steps(rng, 200)
    est = argparse.Namespace(servesim=args.servesim, model="llama-3-8b", hardware="h200-sxm",
                             cost="roofline", profile=[])
    kernel_ms = fit_overhead.estimate_ms(est, steps)
    for s, k in zip(steps, kernel_ms):
        a, b, c = TRUTH[s["kind"]]
        host_us = a + b * s["num_seqs"] + c * s["tokens"]
        s["total_s"] = (k + (host_us + rng.uniform(-50.0, 50.0)) * 1e-3) * 1e-3
        s["gpu_s"] = k * 1e-3
    work = tempfile.mkdtemp(prefix="check-fit-")
    db = os.path.join(work, "made_up.db")
    con = sqlite3.connect(db)
    con.executescript(results.ENGINE_STEPS_DDL)
    cols = list(steps[0])
    con.executemany(f"INSERT INTO engine_steps (run_id, {', '.join(cols)}) VALUES "
                    f"(1, {', '.join('?' * len(cols))})", [tuple(s[c] for c in cols) for s in steps])
    con.commit()
    con.close()
    out = os.path.join(work, "fit.json")
    subprocess.run([sys.executable, os.path.join(HERE, "fit_overhead.py"), db, "--cost", "roofline",
                    "--servesim", args.servesim, "--out", out], check=True)
    with open(out) as f:
        fit = json.load(f)["kinds"]
    bad = []
    for kind, truth in TRUTH.items():
        got = fit.get(kind)
        if got is None:
            bad.append(f"{kind}: not fitted")
            continue
        for name, want in zip(("base_us", "per_seq_us", "per_token_us"), truth):
            if abs(got[name] - want) > max(0.10 * abs(want), 2.0):
                bad.append(f"{kind}.{name}: {got[name]:.3f}, made with {want}")
        if not got["held_out_mape"] < 0.03:
            bad.append(f"{kind}: held-out error {got['held_out_mape']:.3f}")
        if not got["held_out_mape_constant"] > 2 * got["held_out_mape"]:
            bad.append(f"{kind}: the constant ({got['held_out_mape_constant']:.3f}) is not worse "
                       f"than the fit ({got['held_out_mape']:.3f})")
    if bad:
        print("fit_overhead did not recover the made-up host lines:\n  " + "\n  ".join(bad))
        return 1
    print("fit_overhead recovered the made-up host lines of all three kinds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
