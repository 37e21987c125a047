"""tools/engine/model.py — the reference engine's model: a llama-architecture decoder with random
bf16 weights on one GPU (timing does not depend on weight values), a paged KV cache, and the
kernels a production engine uses:
  * GEMMs through cuBLAS (torch.nn.functional.linear), QKV and gate/up fused as vLLM fuses them;
  * prefill attention: FlashAttention-2's variable-length kernel as PyTorch ships it (one call
    over all prompts/chunks of the batch, causal, grouped-query; a chunk with prior context reads
    that context gathered from the paged cache);
  * decode attention: paged_attention.py, a split-K Triton kernel reading K/V through block
    tables (vLLM's paged-attention v2 scheme), never padded to the longest context;
  * RMSNorm, rotary embedding, SiLU·mul as PyTorch kernels; greedy sampling (argmax over the LM
    head's logits of each sequence's last position);
  * decode-only batches run as CUDA graphs captured for vLLM's batch sizes (1, 2, 4, 8, 16, …,
    max_num_seqs in steps of 8), padded up; prefill and mixed batches run eagerly, as vLLM does.
Block 0 of the cache is scratch: padded graph entries write there and read nothing."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

import paged_attention


def read_model_yaml(path):
    """The few keys of models/llm/*.yaml the engine needs (flat `key: value` lines)."""
    cfg = {}
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if ":" in line:
            k, v = (s.strip() for s in line.split(":", 1))
            cfg[k] = v.strip('"')
    need = ["num_layers", "hidden_size", "num_attention_heads", "num_kv_heads", "head_dim",
            "ffn_size", "vocab_size", "max_context_tokens"]
    missing = [k for k in need if k not in cfg]
    if missing:
        raise ValueError(f"{path}: missing {', '.join(missing)}")
    return {k: int(cfg[k]) for k in need} | {"name": cfg.get("name", path)}


def capture_sizes(max_num_seqs):
    sizes = [1, 2, 4] + list(range(8, max_num_seqs + 1, 8))
    return [s for s in sizes if s <= max_num_seqs] or [1]


class VarlenFlash:
    """FlashAttention-2 variable-length forward through PyTorch's bindings: the aten op
    (`_flash_attention_forward`) or, where a PyTorch has it, `torch.nn.attention.varlen`. Which
    one, and whether grouped-query heads go in natively, is settled by the self-check against a
    reference before any replay (engine.py)."""

    def __init__(self):
        self.gqa_native = True
        self.prior_ok = True  # False: chunks with prior context go through sdpa_prior()
        self.api = "aten"

    def __call__(self, q, k, v, cu_q, cu_k, max_q, max_k, scale):
        if not self.gqa_native and k.shape[1] != q.shape[1]:
            rep = q.shape[1] // k.shape[1]
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        if self.api == "varlen":
            from torch.nn.attention.varlen import varlen_attn
            return varlen_attn(q, k, v, cu_q, cu_k, max_q, max_k, is_causal=True, scale=scale)
        out = torch.ops.aten._flash_attention_forward(
            q, k, v, cu_q, cu_k, max_q, max_k, 0.0, True, False, scale=scale)
        return out[0]


def sdpa_prior(q, k, v, cu_q, cu_k, scale):
    """Fallback for chunks with prior context (one SDPA call per segment, bottom-right causal
    mask); used only if the varlen kernel's causal alignment fails the self-check."""
    outs = []
    rep = q.shape[1] // k.shape[1]
    for i in range(len(cu_q) - 1):
        qi = q[cu_q[i]:cu_q[i + 1]].transpose(0, 1).unsqueeze(0)
        ki = k[cu_k[i]:cu_k[i + 1]].repeat_interleave(rep, 1).transpose(0, 1).unsqueeze(0)
        vi = v[cu_k[i]:cu_k[i + 1]].repeat_interleave(rep, 1).transpose(0, 1).unsqueeze(0)
        nq, nk = qi.shape[2], ki.shape[2]
        mask = torch.ones(nq, nk, device=q.device, dtype=torch.bool).tril(nk - nq)
        outs.append(F.scaled_dot_product_attention(qi, ki, vi, attn_mask=mask, scale=scale)[0]
                    .transpose(0, 1))
    return torch.cat(outs)


class Llama:
    def __init__(self, cfg, num_blocks, block_size=16, max_num_seqs=256, device="cuda",
                 seed=0):
        self.cfg = cfg
        self.L = cfg["num_layers"]
        self.hidden = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.KVH = cfg["num_kv_heads"]
        self.D = cfg["head_dim"]
        self.ffn = cfg["ffn_size"]
        self.vocab = cfg["vocab_size"]
        self.max_len = cfg["max_context_tokens"]
        self.block_size = block_size
        self.max_blocks_per_seq = (self.max_len + block_size - 1) // block_size
        self.scale = 1.0 / math.sqrt(self.D)
        self.device = device
        g = torch.Generator(device=device).manual_seed(seed)
        bf = torch.bfloat16

        def w(*shape):
            return (torch.randn(*shape, generator=g, device=device, dtype=torch.float32) *
                    0.02).to(bf)

        self.embed = w(self.vocab, self.hidden)
        self.lm_head = w(self.vocab, self.hidden)
        self.final_norm = torch.ones(self.hidden, device=device, dtype=bf)
        qkv_out = (self.H + 2 * self.KVH) * self.D
        self.layers = []
        for _ in range(self.L):
            self.layers.append(dict(
                in_norm=torch.ones(self.hidden, device=device, dtype=bf),
                wqkv=w(qkv_out, self.hidden), wo=w(self.hidden, self.H * self.D),
                post_norm=torch.ones(self.hidden, device=device, dtype=bf),
                w_gate_up=w(2 * self.ffn, self.hidden), w_down=w(self.hidden, self.ffn)))
        # KV cache: one tensor per layer and K/V, [blocks + 1 scratch, block, kv heads, dim].
        self.num_blocks = num_blocks
        shape = (num_blocks + 1, block_size, self.KVH, self.D)
        self.k_cache = [torch.zeros(shape, device=device, dtype=bf) for _ in range(self.L)]
        self.v_cache = [torch.zeros(shape, device=device, dtype=bf) for _ in range(self.L)]
        inv = 1.0 / (500000.0 ** (torch.arange(0, self.D, 2, device=device,
                                                 dtype=torch.float32) / self.D))
        t = torch.arange(self.max_len + 1, device=device, dtype=torch.float32)
        freqs = torch.outer(t, inv)
        self.cos = freqs.cos()
        self.sin = freqs.sin()
        self.flash = VarlenFlash()
        self.splits = paged_attention.num_splits(self.max_len)
        self.graphs = {}
        self.max_num_seqs = max_num_seqs

    # ------------------------------------------------------------------ pieces
    def _rope(self, x, pos):
        # x [T, heads, D], rotate-half layout
        cos = self.cos[pos].unsqueeze(1)
        sin = self.sin[pos].unsqueeze(1)
        x1, x2 = x.float().chunk(2, dim=-1)
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1).to(x.dtype)

    def _layer(self, i, x, pos, slots, attend):
        p = self.layers[i]
        h = F.rms_norm(x, (self.hidden,), p["in_norm"], 1e-5)
        qkv = F.linear(h, p["wqkv"])
        q, k, v = qkv.split([self.H * self.D, self.KVH * self.D, self.KVH * self.D], dim=-1)
        q = self._rope(q.view(-1, self.H, self.D), pos)
        k = self._rope(k.view(-1, self.KVH, self.D), pos)
        v = v.view(-1, self.KVH, self.D)
        kf = self.k_cache[i].view(-1, self.KVH, self.D)
        vf = self.v_cache[i].view(-1, self.KVH, self.D)
        kf.index_copy_(0, slots, k)
        vf.index_copy_(0, slots, v)
        a = attend(i, q, k, v)
        x = x + F.linear(a.reshape(-1, self.H * self.D), p["wo"])
        h = F.rms_norm(x, (self.hidden,), p["post_norm"], 1e-5)
        gu = F.linear(h, p["w_gate_up"])
        gate, up = gu.chunk(2, dim=-1)
        return x + F.linear(F.silu(gate) * up, p["w_down"])

    def _logits_argmax(self, x, rows):
        h = F.rms_norm(x.index_select(0, rows), (self.hidden,), self.final_norm, 1e-5)
        return F.linear(h, self.lm_head).argmax(dim=-1)

    # ------------------------------------------------------------------ eager (prefill, mixed)
    def forward_eager(self, inp):
        """inp: dict of device tensors — tokens, pos, slots [T]; prefill part: cu_q, cu_k,
        max_q, max_k, ctx_slots (None when no chunk has prior context), n_prefill_tokens;
        decode part: dec_tables [B, max blocks], dec_ctx [B]; rows: positions to sample."""
        npf = inp["n_prefill_tokens"]
        nd = inp["n_decodes"]

        def attend(i, q, k, v):
            outs = []
            if npf:
                qp, kp, vp = q[:npf], k[:npf], v[:npf]
                if inp["ctx_slots"] is not None:
                    kp = self.k_cache[i].view(-1, self.KVH, self.D).index_select(0,
                                                                                inp["ctx_slots"])
                    vp = self.v_cache[i].view(-1, self.KVH, self.D).index_select(0,
                                                                                inp["ctx_slots"])
                if inp["ctx_slots"] is not None and not self.flash.prior_ok:
                    outs.append(sdpa_prior(qp, kp, vp, inp["cu_q_host"], inp["cu_k_host"],
                                           self.scale))
                else:
                    outs.append(self.flash(qp, kp, vp, inp["cu_q"], inp["cu_k"], inp["max_q"],
                                           inp["max_k"], self.scale))
            if nd:
                outs.append(paged_attention.decode(
                    q[npf:], self.k_cache[i], self.v_cache[i], inp["dec_tables"],
                    inp["dec_ctx"], self.scale, self.splits))
            return outs[0] if len(outs) == 1 else torch.cat(outs, dim=0)

        x = self.embed.index_select(0, inp["tokens"])
        for i in range(self.L):
            x = self._layer(i, x, inp["pos"], inp["slots"], attend)
        return self._logits_argmax(x, inp["rows"])

    # ------------------------------------------------------------------ decode graphs
    def _decode_body(self, s):
        def attend(i, q, k, v):
            return paged_attention.decode(q, self.k_cache[i], self.v_cache[i], s["tables"],
                                          s["ctx"], self.scale, self.splits)

        x = self.embed.index_select(0, s["tokens"])
        for i in range(self.L):
            x = self._layer(i, x, s["pos"], s["slots"], attend)
        s["out"] = self._logits_argmax(x, s["rows"])

    def capture(self, sizes):
        pool = None
        for b in sorted(sizes, reverse=True):
            dev = self.device
            s = dict(tokens=torch.zeros(b, dtype=torch.long, device=dev),
                     pos=torch.zeros(b, dtype=torch.long, device=dev),
                     slots=torch.zeros(b, dtype=torch.long, device=dev),
                     tables=torch.zeros(b, self.max_blocks_per_seq, dtype=torch.int32,
                                        device=dev),
                     ctx=torch.zeros(b, dtype=torch.int32, device=dev),
                     rows=torch.arange(b, dtype=torch.long, device=dev))
            for _ in range(2):  # warm up (Triton compiles) outside the graph
                self._decode_body(s)
            torch.cuda.synchronize()
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g, pool=pool):
                self._decode_body(s)
            pool = g.pool()
            s["graph"] = g
            self.graphs[b] = s
        torch.cuda.synchronize()

    def padded_size(self, n):
        for b in sorted(self.graphs):
            if b >= n:
                return b
        return 0

    def forward_decode_graph(self, b, host):
        """host: pinned CPU tensors tokens/pos/slots [n], tables [n, ≤ max blocks], ctx [n]; the
        rest of the padded batch is zero (scratch block, no context)."""
        s = self.graphs[b]
        n = host["tokens"].shape[0]
        for key in ("tokens", "pos", "slots", "ctx"):
            if n < b:
                s[key][n:].zero_()  # padded entries: no context, writes go to scratch block 0
            s[key][:n].copy_(host[key], non_blocking=True)
        # Only the columns in use: entries past a sequence's context are never read.
        s["tables"][:n, :host["tables"].shape[1]].copy_(host["tables"], non_blocking=True)
        s["graph"].replay()
        return s["out"][:n]
