#!/usr/bin/env python3
"""tools/experiments/allreduce_fit.py — the roofline's all-reduce against measured tables.

The roofline (models/cost/roofline.cc, allreduce_ns) prices an all-reduce of B bytes over n
devices as a ring:

    t = collective_base_us + 2(n-1) * (comm_latency_us + B/n / (link_gbps * link_efficiency))

(link_gbps: the hardware's intra_node_link_gbps, per direction; GB/s = bytes/ns). Before
collective_base_us existed the defaults were base 0, 2.0 us per step, efficiency 0.65. All-gather
(B = the gathered result) and send share the parameters: base + latency + (n-1)/n B or B over
the link; they are checked here, not fitted.

This script reads the measured all-reduce tables the `measured` cost model reads:
  * servesim's own NCCL all-reduce on 2 x H200 (models/calibration/h200-x2_nccl_allreduce.json),
  * NVIDIA aiconfigurator's NCCL tables (nccl_perf.csv, all_reduce, fp16) on A100/H100/H200 at
    TP 2/4/8 and its vLLM custom all-reduce tables (custom_allreduce_perf.csv, vllm_graph and
    vllm_eager),
  * Vidur's DGX all-reduce tables (network/{a100,h100}_dgx/all_reduce.csv, one-node rows),
splits every table into a fit half and a held-out half (per GPU count, every other message size
by rank), fits (base, per-step latency, link efficiency) on the fit halves of the NCCL tables
(each table weighted equally; MAPE, Nelder-Mead), and prints per table the held-out MAPE of the
old defaults, the fitted defaults and a fit of that table alone (what the formula can do at
best), plus measured / roofline at the small messages (<= 64 KiB) per GPU count. Then the same
for aiconfigurator's NCCL all-gathers and Vidur's sends.

Python 3 standard library only. Usage:
  tools/experiments/allreduce_fit.py [--data-dir ../shared/data] [--markdown]
"""
import argparse
import collections
import csv
import glob
import json
import math
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OLD = {"base_us": 0.0, "step_us": 2.0, "eff": 0.65}
SMALL_BYTES = 64 * 1024


def link_gbps(hardware):
    """intra_node_link_gbps of models/hardware/<hardware>.yaml."""
    with open(os.path.join(ROOT, "models", "hardware", hardware + ".yaml")) as f:
        m = re.search(r"^intra_node_link_gbps:\s*([0-9.]+)", f.read(), re.M)
    return float(m.group(1))


class Table:
    def __init__(self, name, hardware, group, points, collective="all_reduce"):
        self.name, self.hardware, self.group = name, hardware, group
        self.collective = collective
        self.link = link_gbps(hardware)
        # (gpus, bytes) -> geometric mean of the duplicate measurements, ns
        self.points = sorted(
            (n, b, math.exp(sum(math.log(t) for t in ts) / len(ts)))
            for (n, b), ts in points.items()
        )
        self.fit, self.held = [], []
        by_n = collections.defaultdict(list)
        for p in self.points:
            by_n[p[0]].append(p)
        for pts in by_n.values():
            for i, p in enumerate(pts):  # sorted by bytes: every other size held out
                (self.held if i % 2 else self.fit).append(p)


def read_servesim(path):
    with open(path) as f:
        prof = json.load(f)
    pts = collections.defaultdict(list)
    for op in prof["ops"]:
        if op["op"] == "allreduce":
            s = op["shape"]
            pts[(int(s["gpus"]), int(s["bytes"]))].append(op["median_ms"] * 1e6)
    return pts


def read_aic_nccl(path, op="all_reduce"):
    pts = collections.defaultdict(list)
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["op_name"] == op and r["nccl_dtype"] == "half":
                # message_size counts elements (all_gather: of the gathered output; profile_data.cc)
                pts[(int(r["num_gpus"]), 2 * int(r["message_size"]))].append(float(r["latency"]) * 1e6)
    return pts


def read_aic_custom(path, backend):
    pts = collections.defaultdict(list)
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["backend"] == backend:
                pts[(int(r["num_gpus"]), 2 * int(r["message_size"]))].append(float(r["latency"]) * 1e6)
    return pts


def read_vidur(path, collective="all_reduce"):
    pts = collections.defaultdict(list)
    with open(path) as f:
        for r in csv.DictReader(f):
            if r["num_workers"] == r["devices_per_node"]:  # one node, as profile_data.cc
                t = float(r["time_stats.%s.median" % collective]) * 1e6
                pts[(int(r["num_workers"]), int(r["size"]))].append(t)
    return pts


def load_tables(data_dir):
    prof = os.path.join(data_dir, "profiles")
    tables = []
    own = os.path.join(ROOT, "models", "calibration", "h200-x2_nccl_allreduce.json")
    tables.append(Table("servesim NCCL H200", "h200-sxm", "nccl", read_servesim(own)))
    gpus = [("A100", "a100_sxm", "a100-80g"), ("H100", "h100_sxm", "h100-sxm"),
            ("H200", "h200_sxm", "h200-sxm")]
    for label, folder, hw in gpus:
        for p in sorted(glob.glob(os.path.join(prof, "aiconfigurator", folder, "comm", "nccl", "*", "nccl_perf.csv"))):
            tables.append(Table("aiconfigurator NCCL " + label, hw, "nccl", read_aic_nccl(p)))
    for label, folder, hw in gpus:
        for p in sorted(glob.glob(os.path.join(prof, "aiconfigurator", folder, "comm", "vllm", "*",
                                               "custom_allreduce_perf.csv"))):
            for backend in ("vllm_graph", "vllm_eager"):
                tables.append(Table("aiconfigurator %s %s" % (backend, label), hw, "vllm",
                                    read_aic_custom(p, backend)))
    for label, folder, hw in [("A100", "a100_dgx", "a100-80g"), ("H100", "h100_dgx", "h100-sxm")]:
        p = os.path.join(prof, "vidur", "network", folder, "all_reduce.csv")
        if os.path.exists(p):
            tables.append(Table("Vidur DGX " + label, hw, "vidur", read_vidur(p)))
    # Checks of the other collectives that share the parameters (not fitted on).
    for label, folder, hw in gpus:
        for p in sorted(glob.glob(os.path.join(prof, "aiconfigurator", folder, "comm", "nccl", "*", "nccl_perf.csv"))):
            tables.append(Table("aiconfigurator NCCL all-gather " + label, hw, "check",
                                read_aic_nccl(p, "all_gather"), "all_gather"))
    for label, folder, hw in [("A100", "a100_dgx", "a100-80g"), ("H100", "h100_dgx", "h100-sxm")]:
        p = os.path.join(prof, "vidur", "network", folder, "send_recv.csv")
        if os.path.exists(p):
            tables.append(Table("Vidur DGX send " + label, hw, "check", read_vidur(p, "send_recv"), "send"))
    return tables


def roofline_ns(p, link, n, b, collective="all_reduce"):
    bw = link * p["eff"]
    if collective == "all_gather":  # b = the gathered result; one latency (roofline.cc)
        return p["base_us"] * 1e3 + p["step_us"] * 1e3 + b * (n - 1) / n / bw
    if collective == "send":
        return p["base_us"] * 1e3 + p["step_us"] * 1e3 + b / bw
    steps = 2.0 * (n - 1)
    return p["base_us"] * 1e3 + steps * (p["step_us"] * 1e3 + b / n / bw)


def mape(p, table, pts):
    return sum(abs(roofline_ns(p, table.link, n, b, table.collective) - t) / t for n, b, t in pts) / len(pts)


def small_ratios(p, table, pts):
    """Per GPU count, geometric mean of measured / roofline over messages of at most 64 KiB."""
    out = []
    for g in sorted({n for n, _, _ in pts}):
        r = [math.log(t / roofline_ns(p, table.link, n, b, table.collective))
             for n, b, t in pts if n == g and b <= SMALL_BYTES]
        if r:
            out.append("%.2f" % math.exp(sum(r) / len(r)))
    return " / ".join(out)


def nelder_mead(f, x0, scale, iters=3000):
    n = len(x0)
    simplex = [list(x0)] + [[x0[j] + (scale[j] if j == i else 0) for j in range(n)] for i in range(n)]
    vals = [f(x) for x in simplex]
    for _ in range(iters):
        order = sorted(range(n + 1), key=lambda i: vals[i])
        simplex, vals = [simplex[i] for i in order], [vals[i] for i in order]
        if abs(vals[-1] - vals[0]) < 1e-10:
            break
        c = [sum(x[j] for x in simplex[:-1]) / n for j in range(n)]
        xr = [c[j] + (c[j] - simplex[-1][j]) for j in range(n)]
        fr = f(xr)
        if fr < vals[0]:
            xe = [c[j] + 2 * (c[j] - simplex[-1][j]) for j in range(n)]
            fe = f(xe)
            simplex[-1], vals[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < vals[-2]:
            simplex[-1], vals[-1] = xr, fr
        else:
            xc = [c[j] + 0.5 * (simplex[-1][j] - c[j]) for j in range(n)]
            fc = f(xc)
            if fc < vals[-1]:
                simplex[-1], vals[-1] = xc, fc
            else:
                for i in range(1, n + 1):
                    simplex[i] = [simplex[0][j] + 0.5 * (simplex[i][j] - simplex[0][j]) for j in range(n)]
                    vals[i] = f(simplex[i])
    i = min(range(n + 1), key=lambda k: vals[k])
    return simplex[i]


def to_params(x):
    # base, step >= 0; 0.05 <= efficiency <= 1
    return {"base_us": abs(x[0]), "step_us": abs(x[1]), "eff": min(1.0, max(0.05, abs(x[2])))}


def fit(tables):
    """Least mean (over tables) MAPE on the fit halves; restarts from a few points."""
    obj = lambda x: sum(mape(to_params(x), t, t.fit) for t in tables) / len(tables)
    best = None
    for x0 in ([2.0, 2.0, 0.65], [8.0, 0.5, 0.6], [20.0, 0.1, 0.8]):
        x = nelder_mead(obj, x0, [1.0, 0.5, 0.1])
        x = nelder_mead(obj, x, [0.5, 0.2, 0.05])  # restart: Nelder-Mead stalls
        if best is None or obj(x) < obj(best):
            best = x
    p = to_params(best)
    return {"base_us": round(p["base_us"], 1), "step_us": round(p["step_us"], 2), "eff": round(p["eff"], 2)}


def fmt_params(p):
    return "collective_base_us %.1f, comm_latency_us %.2f, link_efficiency %.2f" % (
        p["base_us"], p["step_us"], p["eff"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=os.environ.get("SERVESIM_DATA_DIR",
                                                         os.path.join(ROOT, "..", "shared", "data")))
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown only")
    args = ap.parse_args()
    tables = load_tables(args.data_dir)
    if len(tables) == 1:
        print("note: only servesim's own table found (no %s/profiles)" % args.data_dir, file=sys.stderr)
    new = fit([t for t in tables if t.group == "nccl"])
    if not args.markdown:
        print("old defaults:    " + fmt_params(OLD))
        print("fitted on NCCL:  " + fmt_params(new) + "  (fit halves of the NCCL tables, equal weight)")
        print()
    print("| table | GPUs | held-out points | old MAPE | new MAPE | own-fit MAPE | measured / old, <= 64 KiB "
          "| measured / new, <= 64 KiB | own fit: base, step, efficiency |")
    print("|---|---|---:|---:|---:|---:|---|---|---|")
    for t in tables:
        own = fit([t]) if t.collective == "all_reduce" else None
        gpus = "/".join(str(n) for n in sorted({p[0] for p in t.points}))
        print("| %s | %s | %d | %.0f %% | %.0f %% | %s | %s | %s | %s |" % (
            t.name, gpus, len(t.held), 100 * mape(OLD, t, t.held), 100 * mape(new, t, t.held),
            "%.0f %%" % (100 * mape(own, t, t.held)) if own else "–",
            small_ratios(OLD, t, t.held), small_ratios(new, t, t.held),
            "%.1f us, %.2f us, %.2f" % (own["base_us"], own["step_us"], own["eff"]) if own else "–"))


if __name__ == "__main__":
    main()
