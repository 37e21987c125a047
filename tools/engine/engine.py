#!/usr/bin/env python3
"""tools/engine/engine.py — the reference serving engine: replays the requests of a servesim run
in real time on one GPU (arrivals by wall clock) with the same scheduler as servesim's `vllm` or
`sarathi` batcher (scheduler.py) over a real model (model.py), and writes the run into a servesim
results database (results.py) — `requests` and `iterations` as servesim writes them, plus
`engine_steps` with each iteration's host and GPU time.

  python3 tools/engine/engine.py --run NAME=REQS.db[,batcher=sarathi][,kv_blocks=N]... \
      [--run ...] [--out-dir DIR] [--model models/llm/llama-3-8b.yaml] [--self-check-only]

REQS.db is a servesim run of the scenario being reproduced (its last run): its requests
(arrival, prompt and output tokens) are replayed, its scenario text and KV block count (unless
kv_blocks is given) are carried into DIR/NAME.db so that validate_e2e.py can simulate exactly the same run. Outputs are
as long as the trace says (the engine ignores end-of-sequence, as benchmark replays do).

The loop is synchronous, as vLLM 0.4/0.5's: schedule, prepare inputs, run the model, read the
sampled tokens back, apply the outcome; an idle engine sleeps until the next arrival."""

import argparse
import itertools
import os
import sqlite3
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import model as mdl  # noqa: E402
import paged_attention  # noqa: E402
import results  # noqa: E402
import scheduler as sched  # noqa: E402
import virtual  # noqa: E402


def rel_err(a, b):
    a, b = a.float(), b.float()
    return float((a - b).norm() / b.norm().clamp_min(1e-12))


def self_check(m):
    """Checks both attention paths against float32 references on fresh random data."""
    dev = m.device
    torch.manual_seed(1)
    H, KVH, D, page = m.H, m.KVH, m.D, m.block_size
    nb = 600
    kc = torch.randn(nb, page, KVH, D, device=dev, dtype=torch.bfloat16)
    vc = torch.randn(nb, page, KVH, D, device=dev, dtype=torch.bfloat16)
    ctx = torch.tensor([1, 17, 513, 0, 3000, 64], device=dev, dtype=torch.int32)
    tables = torch.zeros(len(ctx), m.max_blocks_per_seq, device=dev, dtype=torch.int32)
    perm = torch.randperm(nb - 1, device=dev) + 1
    for b in range(len(ctx)):
        need = (int(ctx[b]) + page - 1) // page
        tables[b, :need] = perm[b * 40: b * 40 + need] if need <= 40 else perm[:need]
    q = torch.randn(len(ctx), H, D, device=dev, dtype=torch.bfloat16)
    out = paged_attention.decode(q, kc, vc, tables, ctx, m.scale, m.splits)
    ref = paged_attention.reference(q, kc, vc, tables, ctx, m.scale)
    e_dec = rel_err(out, ref)
    # Varlen prefill: two prompts and one chunk with 300 tokens of prior context.
    lens_q = [37, 200, 64]
    lens_k = [37, 200, 364]
    cu_q = torch.tensor([0] + list(itertools.accumulate(lens_q)), device=dev, dtype=torch.int32)
    cu_k = torch.tensor([0] + list(itertools.accumulate(lens_k)), device=dev, dtype=torch.int32)
    qv = torch.randn(sum(lens_q), H, D, device=dev, dtype=torch.bfloat16)
    kv = torch.randn(sum(lens_k), KVH, D, device=dev, dtype=torch.bfloat16)
    vv = torch.randn(sum(lens_k), KVH, D, device=dev, dtype=torch.bfloat16)

    def ref_prefill():
        outs = []
        for i in range(3):
            qi = qv[cu_q[i]:cu_q[i + 1]].float().transpose(0, 1)
            ki = kv[cu_k[i]:cu_k[i + 1]].float().repeat_interleave(H // KVH, 1).transpose(0, 1)
            vi = vv[cu_k[i]:cu_k[i + 1]].float().repeat_interleave(H // KVH, 1).transpose(0, 1)
            nq, nk = qi.shape[1], ki.shape[1]
            mask = torch.ones(nq, nk, device=dev, dtype=torch.bool).tril(nk - nq)
            s = (qi @ ki.transpose(1, 2)) * m.scale
            s = s.masked_fill(~mask, float("-inf"))
            outs.append((s.softmax(-1) @ vi).transpose(0, 1))
        return torch.cat(outs)

    r = ref_prefill()
    n_new = int(cu_q[2])  # the first two sequences have no prior context
    e_new = e_prior = None
    for api, native in (("aten", True), ("aten", False), ("varlen", True), ("varlen", False)):
        m.flash.api, m.flash.gqa_native = api, native
        try:
            o = m.flash(qv, kv, vv, cu_q, cu_k, max(lens_q), max(lens_k), m.scale)
            e_new, e_prior = rel_err(o[:n_new], r[:n_new]), rel_err(o[n_new:], r[n_new:])
        except Exception as exc:  # noqa: BLE001 — a binding missing or refusing these shapes
            print(f"flash varlen ({api}, gqa_native={native}) failed: {str(exc)[:200]}")
            e_new = e_prior = None
        if e_new is not None and e_new < 2e-2:
            break
    if e_prior is not None and not e_prior < 2e-2:
        m.flash.prior_ok = False
        o = mdl.sdpa_prior(qv, kv, vv, cu_q.tolist(), cu_k.tolist(), m.scale)
        e_prior = rel_err(o[n_new:], r[n_new:])
    print(f"self-check: paged decode rel err {e_dec:.2e}; varlen prefill rel err {e_new} "
          f"({m.flash.api}, gqa_native={m.flash.gqa_native}), with prior context {e_prior} "
          f"(varlen={m.flash.prior_ok})", flush=True)
    if not (e_dec < 2e-2) or e_new is None or not (e_new < 2e-2) or not (e_prior < 2e-2):
        raise SystemExit("self-check failed: an attention kernel disagrees with its reference")


class Inputs:
    """Builds device inputs for a batch from the scheduler's view (numpy on the host: per
    request, not per token, Python work)."""

    def __init__(self, m):
        self.m = m
        self.bs = m.block_size
        self.vocab = m.vocab
        self.last = {}  # rid -> last sampled token id

    def segment(self, r, start, n):
        """Token ids, positions and cache slots of positions [start, start + n) of `r`."""
        pos = np.arange(start, start + n, dtype=np.int64)
        ids = np.where(pos < r.prompt, (r.rid * 7919 + pos * 31) % self.vocab,
                       (r.rid * 104729 + pos) % self.vocab)
        blocks = np.asarray(r.blocks, dtype=np.int64)
        slots = blocks[pos // self.bs] * self.bs + pos % self.bs
        return ids, pos, slots

    def decode_rows(self, decodes):
        n = len(decodes)
        width = max(len(r.blocks) for r in decodes)
        tables = np.zeros((n, width), dtype=np.int32)
        pos = np.empty(n, dtype=np.int64)
        toks = np.empty(n, dtype=np.int64)
        slots = np.empty(n, dtype=np.int64)
        bs = self.bs
        for i, r in enumerate(decodes):
            p = r.prompt + r.generated - 1
            pos[i] = p
            toks[i] = self.last.get(r.rid, (r.rid * 104729 + p) % self.vocab)
            slots[i] = r.blocks[p // bs] * bs + p % bs
            tables[i, :len(r.blocks)] = r.blocks
        return toks, pos, slots, (pos + 1).astype(np.int32), tables

    def eager(self, batch):
        dev = self.m.device
        ids, pos, slots, rows = [], [], [], []
        cu_q, cu_k, ctx_slots = [0], [0], []
        any_prior = any(s.start > 0 for s in batch.segments)
        for s in batch.segments:
            i, p, sl = self.segment(s.req, s.start, s.tokens)
            ids.append(i)
            pos.append(p)
            slots.append(sl)
            cu_q.append(cu_q[-1] + s.tokens)
            cu_k.append(cu_k[-1] + s.start + s.tokens)
            rows.append(cu_q[-1] - 1)
            if any_prior:
                ctx_slots.append(self.segment(s.req, 0, s.start + s.tokens)[2]
                                 if s.start else sl)
        npf = cu_q[-1]
        inp = dict(n_prefill_tokens=npf, n_decodes=len(batch.decodes))
        if batch.decodes:
            dt, dp, ds, dc, tables = self.decode_rows(batch.decodes)
            rows.extend(range(npf, npf + len(dt)))
            ids.append(dt)
            pos.append(dp)
            slots.append(ds)
            inp["dec_ctx"] = torch.from_numpy(dc).to(dev)
            inp["dec_tables"] = torch.from_numpy(tables).to(dev)

        def cat(parts):
            return torch.from_numpy(np.concatenate(parts)).to(dev)

        inp["tokens"], inp["pos"], inp["slots"] = cat(ids), cat(pos), cat(slots)
        inp["rows"] = torch.tensor(rows, dtype=torch.long, device=dev)
        if batch.segments:
            inp["cu_q"] = torch.tensor(cu_q, dtype=torch.int32, device=dev)
            inp["cu_k"] = torch.tensor(cu_k, dtype=torch.int32, device=dev)
            inp["cu_q_host"], inp["cu_k_host"] = cu_q, cu_k
            inp["max_q"] = max(s.tokens for s in batch.segments)
            inp["max_k"] = max(s.start + s.tokens for s in batch.segments)
            inp["ctx_slots"] = cat(ctx_slots) if any_prior else None
        return inp

    def graph(self, decodes):
        toks, pos, slots, ctx, tables = self.decode_rows(decodes)
        return dict(tokens=torch.from_numpy(toks).pin_memory(),
                    pos=torch.from_numpy(pos).pin_memory(),
                    slots=torch.from_numpy(slots).pin_memory(),
                    ctx=torch.from_numpy(ctx).pin_memory(),
                    tables=torch.from_numpy(tables).pin_memory())


def warm_up(m, inputs):
    """Runs eager prefills of several sizes into the scratch block (cuBLAS heuristics, flash
    and Triton compilation) before the clock starts."""

    for n in (16, 128, 512, 2048, 8192):
        r = sched.Request(-1, 0, n, 1)
        r.blocks = [0] * ((n + m.block_size - 1) // m.block_size)
        b = sched.Batch()
        b.segments.append(sched.Segment(r, 0, n))
        for _ in range(2):
            m.forward_eager(inputs.eager(b)).tolist()
    torch.cuda.synchronize()


def device_hardware(default):
    """The catalog name of this card (models/hardware/*.yaml), or `default` when unknown."""
    name = torch.cuda.get_device_name()
    for key, hw in (("H200", "h200-sxm"), ("H100", "h100-sxm")):
        if key in name:
            return hw
    return default


def cache_capacity_blocks(cfg, utilization, block_size=16, reserve_bytes=6 << 30):
    """KV blocks that fit in `utilization` of the card after bf16 weights and a reserve for
    activations, graphs and the allocator."""
    L, hid, H, KVH, D = (cfg[k] for k in ("num_layers", "hidden_size", "num_attention_heads",
                                           "num_kv_heads", "head_dim"))
    weights = 2 * (2 * cfg["vocab_size"] * hid + L * (
        (H + 2 * KVH) * D * hid + hid * H * D + 3 * cfg["ffn_size"] * hid))
    per_block = 2 * L * block_size * KVH * D * 2
    total = torch.cuda.mem_get_info()[1]
    return max(0, int((total * utilization - weights - reserve_bytes) // per_block))


def git_rev():
    try:
        return subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def parse_run(spec):
    """NAME=REQS.db[,batcher=vllm|sarathi][,kv_blocks=N][,max_num_seqs=N][,chunk_size=N]
    [,max_num_batched_tokens=N]"""
    name, _, rest = spec.partition("=")
    parts = rest.split(",")
    run = dict(name=name, requests=parts[0], batcher="vllm")
    for kv in parts[1:]:
        k, _, v = kv.partition("=")
        if k not in ("batcher", "kv_blocks", "max_num_seqs", "chunk_size",
                     "max_num_batched_tokens"):
            raise SystemExit(f"--run {spec}: unknown key {k!r}")
        run[k] = v if k == "batcher" else int(v)
    if not name or not parts[0]:
        raise SystemExit(f"--run {spec}: expected NAME=REQUESTS.db[,key=value...]")
    return run


def replay(m, inputs, run, cfg, out_path, cap_s=None):
    """Replays one run in real time; gives up (RuntimeError) once it has run cap_s seconds."""
    batcher = dict(impl=run["batcher"])
    for k in ("max_num_seqs", "chunk_size", "max_num_batched_tokens"):
        if k in run:
            batcher[k] = run[k]
    yaml_text, rows = results.read_requests(run["requests"])
    con = sqlite3.connect(run["requests"])
    sim_blocks, hardware = con.execute("SELECT kv_blocks, hardware FROM instances ORDER BY "
                                       "run_id DESC LIMIT 1").fetchone()
    con.close()
    blocks = run.get("kv_blocks", sim_blocks)
    if blocks > m.num_blocks:
        print(f"{run['name']}: {blocks} KV blocks asked, this card's cache holds {m.num_blocks}: "
              f"runs with {m.num_blocks} (the simulator is checked with the same)", flush=True)
        blocks = m.num_blocks
    hardware = device_hardware(hardware)
    s = sched.make_scheduler(batcher, blocks, block_size=m.block_size, max_model_len=m.max_len)
    inputs.last.clear()
    reqs = virtual.requests_from_rows(rows)
    pending = sorted(reqs, key=lambda r: (r.arrival_ns, r.rid))
    iterations, steps = [], []
    ev0, ev1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    clock = time.perf_counter_ns
    torch.cuda.synchronize()
    t0 = clock()
    nxt = 0
    wall0 = time.time()
    cap_ns = None if cap_s is None else int(cap_s * 1e9)
    while True:
        now = clock() - t0
        if cap_ns is not None and now > cap_ns:
            raise RuntimeError(f"run {run['name']}: over its {cap_s:.0f} s cap, given up")
        nxt = s.arrive_until(pending, nxt, now)
        if not s.has_work():
            if nxt == len(pending):
                break
            wait = (pending[nxt].arrival_ns - (clock() - t0)) * 1e-9
            if wait > 2e-3:
                time.sleep(wait - 1e-3)
            continue
        t_start = clock() - t0
        batch = s.schedule(t_start)
        t_sched = clock() - t0
        if batch.empty():
            if batch.preempted == 0:
                if nxt == len(pending):
                    raise SystemExit("scheduler stalled with work left and no arrivals")
                time.sleep(max(0.0, (pending[nxt].arrival_ns - (clock() - t0)) * 1e-9))
            continue
        nd, npf = len(batch.decodes), len(batch.segments)
        pad = m.padded_size(nd) if npf == 0 else 0
        if pad:
            host = inputs.graph(batch.decodes)
            t_prep = clock() - t0
            ev0.record()
            out = m.forward_decode_graph(pad, host)
        else:
            inp = inputs.eager(batch)
            t_prep = clock() - t0
            ev0.record()
            out = m.forward_eager(inp)
        ev1.record()
        toks = out.tolist()
        t_end = clock() - t0
        order = [seg.req for seg in batch.segments] + batch.decodes
        for r, t in zip(order, toks):
            inputs.last[r.rid] = t
        s.complete(batch, t_end)
        t_post = clock() - t0
        ctx_tokens = sum(r.prompt + r.generated - 1 for r in batch.decodes) + sum(
            seg.start + seg.tokens for seg in batch.segments)
        iterations.append(dict(
            iteration=len(iterations), start_ns=t_start, duration_ns=t_post - t_start,
            prefill_tokens=batch.prefill_tokens, decode_tokens=nd, num_prefills=npf,
            batch_size=npf + nd, kv_blocks_used=batch.kv_blocks_used))
        steps.append(dict(
            iteration=len(steps), kind="mixed" if npf and nd else ("prefill" if npf else "decode"),
            graph=1 if pad else 0, padded_batch=pad, num_seqs=npf + nd,
            tokens=batch.prefill_tokens + nd, context_tokens=ctx_tokens,
            segments=";".join(f"{seg.tokens}@{seg.start}" for seg in batch.segments),
            schedule_s=(t_sched - t_start) * 1e-9, prepare_s=(t_prep - t_sched) * 1e-9,
            gpu_s=ev0.elapsed_time(ev1) * 1e-3, total_s=(t_post - t_start) * 1e-9))
    wall = time.time() - wall0
    s.check_idle()
    done = [r for r in reqs if r.phase == sched.FINISHED]
    params = results.run_params(
        "engine", batcher, blocks, engine_version=f"engine {git_rev()}",
        **{"engine.device": torch.cuda.get_device_name(), "engine.torch": torch.__version__,
           "engine.graph_sizes": len(m.graphs),
           "engine.requests_db": os.path.basename(run["requests"])})
    run_id = results.write_run(
        out_path, scenario=run["name"], scenario_yaml=yaml_text, seed=0, params=params,
        instance=dict(hardware=hardware, model=cfg["name"], kv_blocks=blocks),
        requests=reqs, iterations=iterations, steps=steps, wall_s=wall)
    pre = sum(r.preemptions for r in reqs)
    print(f"{run['name']}: run {run_id}, {len(done)}/{len(reqs)} finished in {wall:.1f} s, "
          f"{len(iterations)} iterations, {pre} preemptions -> {out_path}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", action="append", default=[], metavar="NAME=REQS.db[,k=v...]",
                    help="a run to replay (repeatable; keys batcher, kv_blocks, max_num_seqs, "
                         "chunk_size, max_num_batched_tokens)")
    ap.add_argument("--out-dir", default=".", help="each run is written to OUT_DIR/NAME.db")
    ap.add_argument("--model", default=os.path.join(results.ROOT, "models/llm/llama-3-8b.yaml"))
    ap.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    ap.add_argument("--max-num-seqs", type=int, default=256, help="largest graph captured")
    ap.add_argument("--self-check-only", action="store_true")
    ap.add_argument("--budget-s", type=float, default=None,
                    help="whole-command time budget: a run that would not fit what is left (its "
                         "last arrival + 15 s) is skipped, and a started run is capped to it")
    args = ap.parse_args()

    cfg = mdl.read_model_yaml(args.model)
    if args.self_check_only:
        self_check(mdl.Llama(cfg, num_blocks=64, max_num_seqs=8))
        return 0
    runs = [parse_run(r) for r in args.run]
    if not runs:
        ap.error("give at least one --run")
    need = 0
    for run in runs:
        con = sqlite3.connect(f"file:{run['requests']}?mode=ro", uri=True)
        need = max(need, run.get("kv_blocks") or con.execute(
            "SELECT kv_blocks FROM instances ORDER BY run_id DESC LIMIT 1").fetchone()[0])
        con.close()
    cap = cache_capacity_blocks(cfg, args.gpu_memory_utilization)
    if need > cap:
        print(f"{need} KV blocks asked, {cap} fit on {torch.cuda.get_device_name()}", flush=True)
        need = cap
    t_setup = time.time()
    m = mdl.Llama(cfg, num_blocks=need, max_num_seqs=args.max_num_seqs)
    self_check(m)
    inputs = Inputs(m)
    warm_up(m, inputs)
    sizes = mdl.capture_sizes(args.max_num_seqs)
    m.capture(sizes)
    free, total = torch.cuda.mem_get_info()
    print(f"setup {time.time() - t_setup:.1f} s: {need} KV blocks, graphs for {len(sizes)} "
          f"batch sizes, {torch.cuda.memory_allocated() / 2**30:.1f} GiB allocated, "
          f"{free / 2**30:.1f} of {total / 2**30:.1f} GiB free", flush=True)
    failed = 0
    for run in runs:
        con = sqlite3.connect(f"file:{run['requests']}?mode=ro", uri=True)
        span_s = con.execute("SELECT MAX(arrival_s) FROM requests").fetchone()[0] + 15
        con.close()
        cap_s = None
        if args.budget_s is not None:
            cap_s = args.budget_s - (time.time() - t_setup)
            if cap_s < span_s:
                print(f"{run['name']}: skipped, {cap_s:.0f} s of budget left and it needs "
                      f"{span_s:.0f} s", flush=True)
                failed += 1
                continue
        try:
            replay(m, inputs, run, cfg, os.path.join(args.out_dir, run["name"] + ".db"), cap_s)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 — one run failing keeps the rest
            print(f"{run['name']}: FAILED: {exc!r}", flush=True)
            traceback.print_exc()
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
