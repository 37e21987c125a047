#!/usr/bin/env python3
"""tools/kernels/summarize.py -- the summary table of one device run.

Reads, from the folder given: check.json (servesim-kernels check), ceilings.json
(servesim-kernels ceilings), attn_ours.json (servesim-kernels attn-bench), attn_torch.json
(torch_yardstick.py) and any *_tp*.json profiles; prints Markdown: device and ceilings,
the correctness table, attention beside PyTorch (ratio = ours / torch, target <= 1.5),
and a line per profile. Missing files are reported, not fatal.
"""
import glob
import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"_missing or unreadable: {os.path.basename(path)} ({e})_\n")
        return None


def fmt(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "."
    check = load(os.path.join(d, "check.json"))
    ceil = load(os.path.join(d, "ceilings.json"))
    ours = load(os.path.join(d, "attn_ours.json"))
    torch = load(os.path.join(d, "attn_torch.json"))

    print("# servesim kernel module: device run summary\n")
    dev = (ceil or ours or check or {}).get("device", {})
    if dev:
        print(f"Device: {dev.get('name')} ({dev.get('sm_count')} SMs, SM clock "
              f"{dev.get('sm_clock_mhz')} MHz, memory clock {dev.get('mem_clock_mhz')} MHz, "
              f"L2 {dev.get('l2_bytes', 0) / 2**20:.0f} MiB, memory "
              f"{dev.get('memory_bytes', 0) / 2**30:.1f} GiB, driver {dev.get('driver_version')}, "
              f"CUDA runtime {dev.get('cuda_version')})\n")
    print("## Ceilings\n")
    print("| measure | servesim (cudaMemcpy / cuBLASLt) | PyTorch |")
    print("|---|---|---|")
    copy_ours = ceil.get("copy", {}).get("gb_s") if ceil else None
    gemm_ours = ceil.get("gemm_bf16", {}).get("tflop_s") if ceil else None
    fp8_ours = ceil.get("gemm_fp8", {}).get("tflop_s") if ceil and ceil.get("gemm_fp8") else None
    copy_t = torch["ceilings"]["copy_d2d"]["gb_s"] if torch else None
    gemm_t = torch["ceilings"]["gemm_bf16"]["tflop_s"] if torch else None
    print(f"| device-to-device copy, 2 GiB (GB/s, read + write) | {fmt(copy_ours, 0)} | {fmt(copy_t, 0)} |")
    print(f"| bf16 GEMM 8192^3 (TFLOP/s) | {fmt(gemm_ours, 0)} | {fmt(gemm_t, 0)} |")
    if fp8_ours:
        print(f"| fp8 e4m3 GEMM 8192^3 (TFLOP/s) | {fmt(fp8_ours, 0)} | - |")
    print()

    if check:
        print(f"## Correctness (seed {check.get('seed')}): {check.get('passed')} passed, "
              f"{check.get('failed')} failed\n")
        print("| op | dtype | case | rel. error | tol | pass |")
        print("|---|---|---|---|---|---|")
        for c in check["cases"]:
            err = c.get("rel_err")
            note = "" if c.get("finite", True) else " NON-FINITE"
            if c.get("error"):
                note += " " + c["error"]
            print(f"| {c['op']} | {c['dtype']} | {c['shape']} | "
                  f"{'-' if err is None else f'{err:.2e}'} | {c['tol']:.0e} | "
                  f"{'yes' if c['pass'] else 'NO'}{note} |")
        print()

    if ours and torch:
        print(f"## Attention beside PyTorch SDPA (flash backend, GQA {torch.get('gqa')}, "
              f"torch {torch.get('torch_version')})\n")
        print("Prefill: causal, 32 q / 8 kv heads, head_dim 128, 16384 tokens per call.\n")
        print("Variants: 1 = 64 rows (4 warps x 16), 2 = 128 rows (8 warps x 16), 3 = 128 rows "
              "(4 warps x 32, 64-key tiles), 4 = as 3 with 32-key tiles; auto picks one.\n")
        print("| seq | batch | torch ms | torch TFLOP/s | ours ms (auto) | ours TFLOP/s | "
              "v1 ms | v2 ms | v3 ms | v4 ms | ratio ours/torch | within 1.5x |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        recs = ours["records"]
        for t in torch["prefill"]:
            mine = {r.get("variant", 0): r for r in recs
                    if r["op"] == "attn_prefill" and r["shape"]["context"] == t["seq"]
                    and r["shape"]["batch"] == t["batch"]}
            auto = mine.get(0)
            ratio = auto["median_ms"] / t["median_ms"] if auto else None
            print(f"| {t['seq']} | {t['batch']} | {fmt(t['median_ms'])} | {fmt(t['tflop_s'], 0)} | "
                  f"{fmt(auto and auto['median_ms'])} | {fmt(auto and auto['tflop_s'], 0)} | "
                  + "".join(f"{fmt(mine.get(v, {}).get('median_ms'))} | " for v in (1, 2, 3, 4)) +
                  f"{fmt(ratio, 2)} | {'yes' if ratio is not None and ratio <= 1.5 else 'NO'} |")
        print("\nDecode: one query per sequence, paged KV cache (ours, block 16, random block "
              "order) vs contiguous K/V (torch).\n")
        print("| batch | context | torch ms | ours ms | ours GB/s (KV) | ratio ours/torch | "
              "within 1.5x | our kernel |")
        print("|---|---|---|---|---|---|---|---|")
        for t in torch["decode"]:
            mine = next((r for r in recs if r["op"] == "attn_decode"
                         and r["shape"]["batch"] == t["batch"]
                         and r["shape"]["context"] == t["context"]), None)
            ratio = mine["median_ms"] / t["median_ms"] if mine else None
            kv_gbs = t["bytes"] / (mine["median_ms"] * 1e6) if mine else None
            print(f"| {t['batch']} | {t['context']} | {fmt(t['median_ms'], 4)} | "
                  f"{fmt(mine and mine['median_ms'], 4)} | {fmt(kv_gbs, 0)} | {fmt(ratio, 2)} | "
                  f"{'yes' if ratio is not None and ratio <= 1.5 else 'NO'} | "
                  f"{mine['kernel'] if mine else '-'} |")
        print()

    profiles = sorted(glob.glob(os.path.join(d, "*_tp*.json")))
    if profiles:
        print("## Profiles\n")
        print("| file | model | tp | ops | layers | wall s |")
        print("|---|---|---|---|---|---|")
        for p in profiles:
            doc = load(p)
            if not doc:
                continue
            print(f"| {os.path.basename(p)} | {doc['model']['name']} | {doc['tp']} | "
                  f"{len(doc['ops'])} | {len(doc['layers'])} | {fmt(doc.get('wall_s'), 0)} |")
        print()

    for p in sorted(glob.glob(os.path.join(d, "*_allreduce.json"))):
        doc = load(p)
        if not doc:
            continue
        print(f"## All-reduce ({os.path.basename(p)}: NCCL, in-place bf16 sum, no graphs)\n")
        print("| message bytes | gpus | median ms | p10 ms | p90 ms | bus GB/s |")
        print("|---|---|---|---|---|---|")
        for r in doc["ops"]:
            print(f"| {r['shape']['bytes']} | {r['shape']['gpus']} | {fmt(r['median_ms'], 4)} | "
                  f"{fmt(r['p10_ms'], 4)} | {fmt(r['p90_ms'], 4)} | {fmt(r['gb_s'], 0)} |")
        print()


if __name__ == "__main__":
    main()
