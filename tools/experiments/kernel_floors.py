#!/usr/bin/env python3
"""tools/experiments/kernel_floors.py — the roofline's small-kernel floors against measured tables.

The roofline (models/cost/roofline.cc) prices a kernel as max(FLOPs / (peak x efficiency),
bytes / (bandwidth x memory efficiency), floor) — floors gemm_min_kernel_us and
attention_min_kernel_us (default: min_kernel_us), plus attention_per_sequence_us per sequence
of an attention call; a block's four elementwise kernels (2 add_norm, rope, act) together take
at least 4 x min_kernel_us. This script finds the measured points where that max is decided by
the floor — the roofline without floor predicts at most 1 us (half the old 2 us floor) — and
prints what they measured:
  * NVIDIA aiconfigurator (vLLM) GEMM (bf16) and attention tables (bf16 KV, no sliding window)
    on A100 / H100 / H200: count, min, median, p90 of the floor-bound points; for attention also
    a least-squares line a + b x batch over them (per-call floor and per-sequence cost);
  * servesim's own kernel profiles (models/calibration/{h100,h200}-sxm_*.json): the same for
    GEMM and attention, and the elementwise kernels of one block at 1 and 8 tokens
    (2 x add_rms_norm + rope_cache + act) against 4 x min_kernel_us;
  * Vidur's mlp.csv (A100, H100): the unfused elementwise kernels of one block at 1 token.

Python 3 standard library only. Usage:
  tools/experiments/kernel_floors.py [--data-dir ../shared/data]
"""
import argparse
import collections
import csv
import glob
import json
import os
import re

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FLOOR_BOUND_NS = 1000.0
GEMM_EFF, ATTN_EFF, MEM_EFF = 0.75, 0.55, 0.85  # RooflineParams defaults


def hw_spec(hardware):
    with open(os.path.join(ROOT, "models", "hardware", hardware + ".yaml")) as f:
        text = f.read()
    get = lambda key: float(re.search(r"^%s:\s*([0-9.]+)" % key, text, re.M).group(1))
    # FLOP per ns, bytes per ns
    return {"flops": get("bf16_tflops") * 1e3, "bw": get("memory_bandwidth_gbps")}


def gemm_ns(hw, m, n, k):
    return max(2.0 * m * n * k / (hw["flops"] * GEMM_EFF), (m * k + k * n + m * n) * 2 / (hw["bw"] * MEM_EFF))


def attn_ns(hw, q, kv, hd, batch, tokens, prior, decode):
    if decode:  # one new token attending to `prior` tokens (current included)
        flops = 4.0 * hd * q * prior * batch
        nbytes = batch * (prior * 2.0 * kv * hd * 2 + 2.0 * q * hd * 2)
    else:
        pairs = tokens * prior + tokens * (tokens + 1) / 2
        flops = 4.0 * hd * q * pairs * batch
        nbytes = batch * (2.0 * tokens * q * hd * 2 + (prior + tokens) * 2.0 * kv * hd * 2)
    return max(flops / (hw["flops"] * ATTN_EFF), nbytes / (hw["bw"] * MEM_EFF))


def quantile(xs, q):
    xs = sorted(xs)
    pos = q * (len(xs) - 1)
    i = int(pos)
    return xs[i] if i + 1 >= len(xs) else xs[i] + (xs[i + 1] - xs[i]) * (pos - i)


def line(points):
    """Least-squares t = a + b x over (x, t)."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    mt = sum(t for _, t in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (t - mt) for x, t in points) / sxx if sxx > 0 else 0.0
    return mt - b * mx, b


def row(source, gpu, kind, pts):
    """pts: (roofline without floor ns, measured ns, batch)."""
    bound = [(m, b) for r, m, b in pts if r <= FLOOR_BOUND_NS]
    if not bound:
        print("| %s | %s | %s | %d | 0 | – | – | – | – |" % (source, gpu, kind, len(pts)))
        return
    us = [m / 1e3 for m, _ in bound]
    fit = "–"
    if kind.startswith("attention") and len({b for _, b in bound}) > 1:
        a, b = line([(b, m / 1e3) for m, b in bound])
        fit = "%.1f + %.3f x batch" % (a, b)
    print("| %s | %s | %s | %d | %d | %.1f | %.1f | %.1f | %s |" % (
        source, gpu, kind, len(pts), len(bound), min(us), quantile(us, 0.5), quantile(us, 0.9), fit))


def aiconfigurator(prof):
    for gpu, folder, hw_name in [("A100", "a100_sxm", "a100-80g"), ("H100", "h100_sxm", "h100-sxm"),
                                 ("H200", "h200_sxm", "h200-sxm")]:
        hw = hw_spec(hw_name)
        base = os.path.join(prof, "aiconfigurator", folder)
        for p in sorted(glob.glob(os.path.join(base, "gemm", "*", "*", "gemm_perf.csv"))):
            pts = []
            with open(p) as f:
                for r in csv.DictReader(f):
                    if r["gemm_dtype"] in ("bfloat16", "float16"):
                        m, n, k = int(r["m"]), int(r["n"]), int(r["k"])
                        pts.append((gemm_ns(hw, m, n, k), float(r["latency"]) * 1e6, m))
            row("aiconfigurator", gpu, "gemm", pts)
        for kind in ("context", "generation"):
            for p in sorted(glob.glob(os.path.join(base, "attention", "*", "*", kind + "_attention_perf.csv"))):
                pts = []
                with open(p) as f:
                    for r in csv.DictReader(f):
                        if r["kv_cache_dtype"] not in ("bfloat16", "float16") or r.get("window_size", "0") != "0":
                            continue
                        q, kv, hd = int(r["num_heads"]), int(r["num_key_value_heads"]), int(r["head_dim"])
                        bs, isl, step = int(r["batch_size"]), int(r["isl"]), int(r["step"])
                        if kind == "context":
                            t = attn_ns(hw, q, kv, hd, bs, isl, step, False)
                        else:
                            t = attn_ns(hw, q, kv, hd, bs, 1, isl + step, True)
                        pts.append((t, float(r["latency"]) * 1e6, bs))
                row("aiconfigurator", gpu, "attention_" + ("prefill" if kind == "context" else "decode"), pts)


def servesim_profiles():
    blocks = []
    for path in sorted(glob.glob(os.path.join(ROOT, "models", "calibration", "h[12]00-sxm_*.json"))):
        if path.endswith(".calibration.json"):
            continue
        with open(path) as f:
            prof = json.load(f)
        hw = hw_spec(os.path.basename(path).split("_")[0])
        sh = prof["shard"]
        q, kv, hd = sh["heads"], sh["kv_heads"], sh["head_dim"]
        name = os.path.basename(path)[: -len(".json")]
        gemm, pre, dec = [], [], []
        elem = collections.defaultdict(dict)
        for op in prof["ops"]:
            s, t = op["shape"], op["median_ms"] * 1e6
            if op["op"].startswith("gemm_"):
                gemm.append((gemm_ns(hw, s["m"], s["n"], s["k"]), t, s["m"]))
            elif op["op"] == "attn_prefill":
                pre.append((attn_ns(hw, q, kv, hd, s["batch"], s["tokens"] / s["batch"], s.get("prior", 0), False),
                            t, s["batch"]))
            elif op["op"] == "attn_decode":
                dec.append((attn_ns(hw, q, kv, hd, s["batch"], 1, s["context"], True), t, s["batch"]))
            elif op["op"] in ("add_rms_norm", "rope_cache", "act"):
                elem[s["tokens"]][op["op"]] = t
        row("servesim", name, "gemm", gemm)
        row("servesim", name, "attention_prefill", pre)
        row("servesim", name, "attention_decode", dec)
        for tokens in (1, 8):
            e = elem.get(tokens, {})
            if len(e) == 3:
                blocks.append((name, tokens, e["add_rms_norm"] / 1e3, e["rope_cache"] / 1e3, e["act"] / 1e3,
                               (2 * e["add_rms_norm"] + e["rope_cache"] + e["act"]) / 1e3))
    return blocks


def vidur_blocks(prof):
    """Vidur's unfused elementwise kernels of one block at 1 token, per GPU: (GPU, rows, min and
    median block = input + post-attention layernorm + 2 residual adds + rope + act, min kernel)."""
    out = []
    for gpu in ("a100", "h100"):
        blocks, kernels = [], []
        for p in sorted(glob.glob(os.path.join(prof, "vidur", "compute", gpu, "*", "*", "mlp.csv"))):
            with open(p) as f:
                for r in csv.DictReader(f):
                    if int(r["num_tokens"]) != 1 or not r.get("time_stats.post_attention_layernorm.median"):
                        continue  # phi-2: parallel attention, one layernorm
                    t = {k: float(r["time_stats.%s.median" % k]) * 1e3 for k in
                         ("input_layernorm", "post_attention_layernorm", "add", "attn_rope", "mlp_act")}
                    blocks.append(t["input_layernorm"] + t["post_attention_layernorm"] + 2 * t["add"] +
                                  t["attn_rope"] + t["mlp_act"])
                    kernels.extend(t.values())
        if blocks:
            out.append((gpu.upper(), len(blocks), min(blocks), quantile(blocks, 0.5), min(kernels)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=os.environ.get("SERVESIM_DATA_DIR",
                                                         os.path.join(ROOT, "..", "shared", "data")))
    args = ap.parse_args()
    print("Floor-bound points: the roofline without floor predicts <= %.1f us (default efficiencies)." %
          (FLOOR_BOUND_NS / 1e3))
    print()
    print("| source | GPU / profile | op class | points | floor-bound | min us | median us | p90 us "
          "| floor-bound fit, us |")
    print("|---|---|---|---:|---:|---:|---:|---:|---|")
    aiconfigurator(os.path.join(args.data_dir, "profiles"))
    blocks = servesim_profiles()
    print()
    print("Elementwise kernels of one block (servesim profiles), us:")
    print()
    print("| profile | tokens | add_rms_norm | rope_cache | act | block (2 add_rms_norm + rope + act) |")
    print("|---|---:|---:|---:|---:|---:|")
    for b in blocks:
        print("| %s | %d | %.2f | %.2f | %.2f | %.1f |" % b)
    print()
    print("Vidur's elementwise kernels (unfused, eager; 1 us resolution) of one block at 1 token, us:")
    print()
    print("| GPU | rows (model x TP) | block min | block median | shortest kernel |")
    print("|---|---:|---:|---:|---:|")
    for v in vidur_blocks(os.path.join(args.data_dir, "profiles")):
        print("| %s | %d | %.0f | %.0f | %.0f |" % v)


if __name__ == "__main__":
    main()
