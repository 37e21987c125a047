"""tools/engine/paged_attention.py — decode attention over a paged KV cache (Triton), vLLM's
paged-attention v2 scheme: one program per (sequence, KV head, context partition of
SPLIT_TOKENS); the query heads sharing a KV head are computed together (grouped-query), K/V are
read through the sequence's block table a few blocks at a time, never padded to the longest
context; a second kernel merges the partitions by their log-sum-exp. Programs whose partition
starts past the sequence's context exit at once, so one launch shape serves every batch (what a
CUDA graph needs).

  decode(q [B, H, D], k_cache/v_cache [blocks, block, KVH, D], tables [B, max blocks] int32,
         ctx [B] int32, scale, splits) -> [B, H, D]"""

import torch
import triton
import triton.language as tl

SPLIT_TOKENS = 512


def num_splits(max_len):
    return (max_len + SPLIT_TOKENS - 1) // SPLIT_TOKENS


@triton.jit
def _partial_kernel(Q, K, V, TABLES, CTX, ACC, M, L, scale,
                    s_qb, s_qh, s_kb, s_kp, s_kh, s_tb, s_ab, s_ah, s_as, s_mb, s_mh,
                    GROUP: tl.constexpr, GROUP_PAD: tl.constexpr, D: tl.constexpr,
                    PAGE: tl.constexpr, BLOCK_N: tl.constexpr, SPLIT: tl.constexpr):
    b = tl.program_id(0)
    kvh = tl.program_id(1)
    sp = tl.program_id(2)
    ctx = tl.load(CTX + b)
    start = sp * SPLIT
    if start < ctx:
        end = tl.minimum(ctx, start + SPLIT)
        g = tl.arange(0, GROUP_PAD)
        d = tl.arange(0, D)
        heads = kvh * GROUP + g
        gmask = g < GROUP
        q = tl.load(Q + b * s_qb + heads[:, None] * s_qh + d[None, :], mask=gmask[:, None],
                    other=0.0)
        m_i = tl.full([GROUP_PAD], float("-inf"), tl.float32)
        l_i = tl.zeros([GROUP_PAD], tl.float32)
        acc = tl.zeros([GROUP_PAD, D], tl.float32)
        n = tl.arange(0, BLOCK_N)
        for t0 in range(start, end, BLOCK_N):
            offs = t0 + n
            mask = offs < end
            page = tl.load(TABLES + b * s_tb + offs // PAGE, mask=mask, other=0)
            base = page.to(tl.int64) * s_kb + (offs % PAGE) * s_kp + kvh * s_kh
            k = tl.load(K + base[:, None] + d[None, :], mask=mask[:, None], other=0.0)
            s = tl.dot(q, tl.trans(k)) * scale
            s = tl.where(mask[None, :], s, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(s, 1))
            p = tl.exp(s - m_new[:, None])
            alpha = tl.exp(m_i - m_new)
            v = tl.load(V + base[:, None] + d[None, :], mask=mask[:, None], other=0.0)
            acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
            l_i = l_i * alpha + tl.sum(p, 1)
            m_i = m_new
        out = ACC + b * s_ab + heads[:, None] * s_ah + sp * s_as + d[None, :]
        tl.store(out, acc, mask=gmask[:, None])
        tl.store(M + b * s_mb + heads * s_mh + sp, m_i, mask=gmask)
        tl.store(L + b * s_mb + heads * s_mh + sp, l_i, mask=gmask)


@triton.jit
def _merge_kernel(ACC, M, L, CTX, OUT, s_ab, s_ah, s_as, s_mb, s_mh, s_ob, s_oh,
                  D: tl.constexpr, SPLITS_PAD: tl.constexpr, SPLIT: tl.constexpr):
    b = tl.program_id(0)
    h = tl.program_id(1)
    ctx = tl.load(CTX + b)
    used = (ctx + SPLIT - 1) // SPLIT
    sp = tl.arange(0, SPLITS_PAD)
    d = tl.arange(0, D)
    live = sp < used
    m = tl.load(M + b * s_mb + h * s_mh + sp, mask=live, other=float("-inf"))
    l_ = tl.load(L + b * s_mb + h * s_mh + sp, mask=live, other=0.0)
    m_max = tl.max(m, 0)
    m_max = tl.where(used > 0, m_max, 0.0)
    w = tl.where(live, tl.exp(m - m_max), 0.0)
    acc = tl.load(ACC + b * s_ab + h * s_ah + sp[:, None] * s_as + d[None, :],
                  mask=live[:, None], other=0.0)
    num = tl.sum(acc * w[:, None], 0)
    den = tl.sum(l_ * w, 0)
    den = tl.where(den > 0, den, 1.0)
    tl.store(OUT + b * s_ob + h * s_oh + d, (num / den).to(OUT.dtype.element_ty))


def decode(q, k_cache, v_cache, tables, ctx, scale, splits):
    B, H, D = q.shape
    KVH = k_cache.shape[2]
    page = k_cache.shape[1]
    group = H // KVH
    acc = torch.empty((B, H, splits, D), device=q.device, dtype=torch.float32)
    m = torch.empty((B, H, splits), device=q.device, dtype=torch.float32)
    l_ = torch.empty((B, H, splits), device=q.device, dtype=torch.float32)
    out = torch.empty_like(q)
    q = q.contiguous()
    _partial_kernel[(B, KVH, splits)](
        q, k_cache, v_cache, tables, ctx, acc, m, l_, scale,
        q.stride(0), q.stride(1), k_cache.stride(0), k_cache.stride(1), k_cache.stride(2),
        tables.stride(0), acc.stride(0), acc.stride(1), acc.stride(2), m.stride(0), m.stride(1),
        GROUP=group, GROUP_PAD=max(16, triton.next_power_of_2(group)), D=D, PAGE=page,
        BLOCK_N=64, SPLIT=SPLIT_TOKENS, num_warps=4, num_stages=2)
    _merge_kernel[(B, H)](
        acc, m, l_, ctx, out, acc.stride(0), acc.stride(1), acc.stride(2), m.stride(0),
        m.stride(1), out.stride(0), out.stride(1), D=D,
        SPLITS_PAD=max(2, triton.next_power_of_2(splits)), SPLIT=SPLIT_TOKENS, num_warps=4)
    return out


def reference(q, k_cache, v_cache, tables, ctx, scale):
    """float32 reference, one sequence at a time."""
    B, H, D = q.shape
    KVH = k_cache.shape[2]
    page = k_cache.shape[1]
    out = torch.zeros_like(q, dtype=torch.float32)
    for b in range(B):
        n = int(ctx[b])
        if n == 0:
            continue
        pos = torch.arange(n, device=q.device)
        blocks = tables[b, pos // page].long()
        k = k_cache[blocks, pos % page].float()  # [n, KVH, D]
        v = v_cache[blocks, pos % page].float()
        k = k.repeat_interleave(H // KVH, dim=1)
        v = v.repeat_interleave(H // KVH, dim=1)
        s = torch.einsum("hd,nhd->hn", q[b].float(), k) * scale
        out[b] = torch.einsum("hn,nhd->hd", s.softmax(-1), v)
    return out
