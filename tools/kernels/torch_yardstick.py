#!/usr/bin/env python3
"""tools/kernels/torch_yardstick.py -- PyTorch as a yardstick for the kernel module.

Times torch.nn.functional.scaled_dot_product_attention (flash backend only) on the same
attention grid as `servesim-kernels attn-bench` (prefill: causal, 16384 tokens per call
at sequence 1k..8k; decode: one query per sequence, batch {1,4,16,64,256} x context
{256,1k,4k,8k}), with 32 query / 8 KV heads and head_dim 128, plus the machine's two
ceilings (device-to-device copy bandwidth, 8192^3 bf16 matmul). Timing mirrors the C++
driver: eager warm-up, the rotations captured in one CUDA graph, CUDA events around each
replay, per-call time = replay time / rotations, rotations chosen so that the inputs of
one replay exceed 2 x L2. Writes one JSON document (--out).
"""
import argparse
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

HEADS, KV_HEADS, HEAD_DIM = 32, 8, 128


def l2_bytes():
    props = torch.cuda.get_device_properties(0)
    return int(getattr(props, "L2_cache_size", 50 << 20))


def rotations_for(set_bytes, cap=64):
    return int(max(1, min(cap, 2 * l2_bytes() // max(1, set_bytes) + 1)))


def summarize(samples):
    a = np.asarray(samples, dtype=np.float64)
    return {
        "median_ms": float(np.percentile(a, 50)),
        "p10_ms": float(np.percentile(a, 10)),
        "p90_ms": float(np.percentile(a, 90)),
        "min_ms": float(a.min()),
        "samples": int(a.size),
    }


def time_graph(calls, warmup=3, iters=20):
    """calls: one zero-argument callable per rotation."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for c in calls:
            c()
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for c in calls:
            c()
    for _ in range(warmup):
        graph.replay()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for i in range(iters):
        starts[i].record()
        graph.replay()
        ends[i].record()
    torch.cuda.synchronize()
    out = summarize([s.elapsed_time(e) / len(calls) for s, e in zip(starts, ends)])
    del graph
    return out


def sdpa_call(q, k, v, causal, gqa_mode):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    def run():
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            if gqa_mode == "native":
                return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    return run


def make_qkv(batch, q_len, kv_len, gqa_mode):
    # Model layout [B, S, H, D], viewed as [B, H, S, D] for SDPA (no copy).
    q = torch.empty(batch, q_len, HEADS, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
    kv_heads = KV_HEADS if gqa_mode == "native" else HEADS
    k = torch.empty(batch, kv_len, kv_heads, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
    v = torch.empty_like(k)
    for t in (q, k, v):
        t.uniform_(-1.0, 1.0)
    return q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)


def detect_gqa_mode():
    try:
        q, k, v = make_qkv(1, 16, 16, "native")
        sdpa_call(q, k, v, True, "native")()
        torch.cuda.synchronize()
        return "native"
    except Exception as e:  # older torch or no GQA in the flash backend
        print(f"flash SDPA with enable_gqa failed ({e}); K/V expanded to all heads",
              file=sys.stderr)
        return "expanded"


def bench_attention(batch, q_len, kv_len, causal, gqa_mode, iters):
    kv_heads = KV_HEADS if gqa_mode == "native" else HEADS
    set_bytes = 2 * batch * (2 * q_len * HEADS + 2 * kv_len * kv_heads) * HEAD_DIM
    rot = rotations_for(set_bytes)
    sets = [make_qkv(batch, q_len, kv_len, gqa_mode) for _ in range(rot)]
    res = time_graph([sdpa_call(q, k, v, causal, gqa_mode) for q, k, v in sets], iters=iters)
    del sets
    torch.cuda.empty_cache()
    res["rotations"] = rot
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--out", required=True)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()

    torch.manual_seed(0)
    props = torch.cuda.get_device_properties(0)
    doc = {
        "format": "servesim-torch-yardstick",
        "version": 1,
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda,
        "device": {"name": props.name, "sm_count": props.multi_processor_count,
                   "l2_bytes": l2_bytes(), "memory_bytes": props.total_memory},
        "heads": HEADS, "kv_heads": KV_HEADS, "head_dim": HEAD_DIM,
    }
    gqa_mode = detect_gqa_mode()
    doc["gqa"] = gqa_mode

    # Ceilings.
    n_copy = (1 << 20) if args.quick else (1 << 30)  # bf16 elements: 2 GiB
    src = torch.empty(n_copy, device="cuda", dtype=torch.bfloat16).uniform_(-1, 1)
    dst = torch.empty_like(src)
    c = time_graph([lambda: dst.copy_(src)], iters=args.iters)
    c["bytes"] = 2 * 2 * n_copy
    c["gb_s"] = c["bytes"] / (c["median_ms"] * 1e6)
    del src, dst
    n = 1024 if args.quick else 8192
    a = torch.empty(n, n, device="cuda", dtype=torch.bfloat16).uniform_(-1, 1)
    b = torch.empty(n, n, device="cuda", dtype=torch.bfloat16).uniform_(-1, 1)
    g = time_graph([lambda: torch.matmul(a, b)], iters=args.iters)
    g["flops"] = 2.0 * n ** 3
    g["tflop_s"] = g["flops"] / (g["median_ms"] * 1e9)
    del a, b
    torch.cuda.empty_cache()
    doc["ceilings"] = {"copy_d2d": c, "gemm_bf16": g}
    print(f"torch ceilings: copy {c['gb_s']:.0f} GB/s, bf16 gemm {g['tflop_s']:.0f} TFLOP/s",
          file=sys.stderr)

    total = 64 if args.quick else 16384
    seqs = [16, 32] if args.quick else [1024, 2048, 4096, 8192]
    prefill = []
    for s in seqs:
        batch = total // s
        r = bench_attention(batch, s, s, True, gqa_mode, args.iters)
        r.update({"seq": s, "batch": batch, "tokens": batch * s,
                  "flops": 4.0 * batch * HEADS * HEAD_DIM * s * (s + 1) / 2})
        r["tflop_s"] = r["flops"] / (r["median_ms"] * 1e9)
        prefill.append(r)
        print(f"torch prefill seq={s} batch={batch}: {r['median_ms']:.3f} ms "
              f"({r['tflop_s']:.0f} TFLOP/s)", file=sys.stderr)
    doc["prefill"] = prefill

    batches = [1, 2] if args.quick else [1, 4, 16, 64, 256]
    contexts = [17, 40] if args.quick else [256, 1024, 4096, 8192]
    decode = []
    for bsz in batches:
        for ctx in contexts:
            r = bench_attention(bsz, 1, ctx, False, gqa_mode, args.iters)
            r.update({"batch": bsz, "context": ctx,
                      "bytes": 2.0 * bsz * ctx * KV_HEADS * HEAD_DIM * 2})
            r["gb_s"] = r["bytes"] / (r["median_ms"] * 1e6)
            decode.append(r)
            print(f"torch decode batch={bsz} ctx={ctx}: {r['median_ms']:.4f} ms", file=sys.stderr)
    doc["decode"] = decode

    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
