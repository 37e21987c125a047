"""tools/engine/scheduler.py — the reference engine's scheduler: servesim's `vllm` and `sarathi`
batchers (policies/batching/{vllm,sarathi}.cc, admission.h) over FCFS with recompute preemption
of the newest request, re-implemented in plain Python so that the GPU engine (engine.py) and the
CPU schedule check (check_schedules.py) run the same code.

Pure Python, no torch: it owns requests, the KV block pool (real block ids, so the model's block
tables come from here) and the iteration records; it knows nothing of time except the
timestamps it is handed. Rules, as servesim implements them:
  * a request is rejected at arrival when prompt + output > max_model_len
    ("exceeds_max_model_len"); at the head of the queue when its tokens to prefill exceed the
    prompt limit ("prompt_too_long") or its blocks would leave fewer than the watermark in an
    empty pool ("exceeds_kv_capacity"); it waits while its blocks would leave fewer than the
    watermark (int(0.01 × blocks)) free now. The head blocks the queue.
  * decodes: every decoding request in rank order (request id = arrival order) needs one free
    block to pass its check (vLLM's can_append_slots); while none is free the newest running
    request (decoding, or prefilling) is preempted — its blocks freed, it returns to the front of
    the queue and later prefills prompt + generated tokens again — until one is free or the
    checked request was itself the victim. A request takes a new block when the position it
    writes is the first past its blocks.
  * vllm: admit heads while Σ prompt tokens ≤ max_num_batched_tokens and running + 1 ≤
    max_num_seqs; an iteration with any admission is prefill-only, else decode-only.
  * sarathi: decodes first, then ongoing prefill chunks in admission order, then new heads, each
    chunk min(remaining, τ − used) tokens, decodes counting one token each; a whole prompt's
    blocks are allocated at admission.
"""

from __future__ import annotations

import bisect
from collections import deque

WAITING, PREFILL, DECODE, FINISHED, REJECTED = range(5)


class Request:
    __slots__ = (
        "rid", "trace_id", "client_id", "priority", "arrival_ns", "prompt", "output",
        "generated", "blocks", "phase", "prefilled", "target", "preemptions", "first_token_ns",
        "last_token_ns", "admitted_ns", "finish_ns", "max_tbt_ns", "reject_reason", "cached",
    )

    def __init__(self, rid, arrival_ns, prompt, output, trace_id=None, client_id=0, priority=0):
        self.rid = rid
        self.trace_id = rid if trace_id is None else trace_id
        self.client_id = client_id
        self.priority = priority
        self.arrival_ns = arrival_ns
        self.prompt = prompt
        self.output = output
        self.generated = 0
        self.blocks = []  # block ids, in order of position
        self.phase = WAITING
        self.prefilled = 0
        self.target = 0
        self.preemptions = 0
        self.first_token_ns = -1
        self.last_token_ns = -1
        self.admitted_ns = -1
        self.finish_ns = -1
        self.max_tbt_ns = 0
        self.reject_reason = None
        self.cached = 0


class BlockPool:
    """KV blocks 1..total (block 0 is the model's scratch block for padded graph entries)."""

    def __init__(self, total_blocks):
        self.total = total_blocks
        self.free_ids = list(range(total_blocks, 0, -1))  # pop() hands out 1, 2, ...

    @property
    def free(self):
        return len(self.free_ids)

    @property
    def used(self):
        return self.total - len(self.free_ids)

    def allocate(self, n):
        if n > len(self.free_ids):
            raise RuntimeError(f"allocate {n} blocks with {len(self.free_ids)} free")
        return [self.free_ids.pop() for _ in range(n)]

    def release(self, ids):
        # Freed blocks are reused last-freed first, as vLLM's free list does.
        self.free_ids.extend(reversed(ids))


class Segment:
    __slots__ = ("req", "start", "tokens")

    def __init__(self, req, start, tokens):
        self.req = req
        self.start = start  # prior context: tokens of this request already in the cache
        self.tokens = tokens


class Batch:
    __slots__ = ("segments", "decodes", "prefill_tokens", "preempted", "kv_blocks_used",
                 "running")

    def __init__(self):
        self.segments = []
        self.decodes = []
        self.prefill_tokens = 0
        self.preempted = 0
        self.kv_blocks_used = 0
        self.running = 0

    def empty(self):
        return not self.segments and not self.decodes


def blocks_for(tokens, block_size):
    return (tokens + block_size - 1) // block_size


class Scheduler:
    """One instance: queue, running set, KV pool. `schedule()` forms a batch, `complete()` applies
    its outcome. Subclasses choose the batch."""

    def __init__(self, total_blocks, block_size=16, max_num_seqs=256, token_budget=None,
                 max_model_len=8192, watermark=0.01):
        self.block_size = block_size
        self.pool = BlockPool(total_blocks)
        self.max_num_seqs = max_num_seqs
        self.max_model_len = max_model_len
        self.watermark_blocks = int(watermark * total_blocks)
        self.token_budget = token_budget
        self.prompt_limit = max_model_len
        self.waiting = deque()
        self.running = []  # ascending rid
        self.running_ids = []
        self.ongoing = []  # prefilling requests, admission order
        self.done = []  # finished or rejected, in the order they left

    # ------------------------------------------------------------------ arrivals, leaving
    def arrive(self, r, now_ns):
        if r.prompt + r.output > self.max_model_len:
            self._reject(r, "exceeds_max_model_len", now_ns)
        else:
            self.waiting.append(r)

    def arrive_until(self, pending, nxt, now_ns):
        """Admits pending[nxt:] (sorted by arrival) up to `now_ns` into the queue, each at its
        own arrival time; returns the index of the first request still to come."""
        while nxt < len(pending) and pending[nxt].arrival_ns <= now_ns:
            self.arrive(pending[nxt], pending[nxt].arrival_ns)
            nxt += 1
        return nxt

    def _reject(self, r, reason, now_ns):
        r.phase = REJECTED
        r.reject_reason = reason
        r.finish_ns = now_ns
        self.done.append(r)

    def has_work(self):
        return bool(self.waiting or self.running)

    def _running_insert(self, r):
        i = bisect.bisect_left(self.running_ids, r.rid)
        self.running_ids.insert(i, r.rid)
        self.running.insert(i, r)

    def _running_erase(self, r):
        i = bisect.bisect_left(self.running_ids, r.rid)
        assert self.running[i] is r
        del self.running_ids[i]
        del self.running[i]

    # ------------------------------------------------------------------ admission
    def _head_fits(self, now_ns):
        while self.waiting:
            r = self.waiting[0]
            n = r.prompt + r.generated
            if n > self.prompt_limit:
                self.waiting.popleft()
                self._reject(r, "prompt_too_long", now_ns)
                continue
            need = blocks_for(n, self.block_size)
            if self.pool.total - need < self.watermark_blocks:
                self.waiting.popleft()
                self._reject(r, "exceeds_kv_capacity", now_ns)
                continue
            return self.pool.free - need >= self.watermark_blocks
        return False

    def _admit_head(self, batch, max_chunk, now_ns):
        r = self.waiting.popleft()
        n = r.prompt + r.generated
        r.blocks = self.pool.allocate(blocks_for(n, self.block_size))
        r.phase = PREFILL
        r.target = n
        r.prefilled = 0
        if r.admitted_ns < 0:
            r.admitted_ns = now_ns
        self._running_insert(r)
        self.ongoing.append(r)
        chunk = min(n, max_chunk)
        self._add_segment(batch, r, chunk)
        return chunk

    @staticmethod
    def _add_segment(batch, r, tokens):
        batch.segments.append(Segment(r, r.prefilled, tokens))
        batch.prefill_tokens += tokens

    # ------------------------------------------------------------------ decodes, preemption
    def _preempt_newest(self, batch):
        victim = self.running[-1]
        batch.preempted += 1
        victim.preemptions += 1
        if victim.phase == PREFILL:
            self.ongoing.remove(victim)
            for i, s in enumerate(batch.segments):
                if s.req is victim:
                    batch.prefill_tokens -= s.tokens
                    del batch.segments[i]
                    break
            victim.prefilled = 0
        self.pool.release(victim.blocks)
        victim.blocks = []
        self._running_erase(victim)
        victim.phase = WAITING
        self.waiting.appendleft(victim)
        return victim

    def _schedule_decodes(self, batch):
        members = [r for r in self.running if r.phase == DECODE]
        i = 0
        while i < len(members):
            r = members[i]
            gone = False
            while self.pool.free == 0:
                victim = self._preempt_newest(batch)
                if victim is r:
                    gone = True
                    break
                if victim.phase == WAITING and members and members[-1] is victim:
                    members.pop()
            if gone:
                del members[i:]
                break
            if r.prompt + r.generated - 1 == len(r.blocks) * self.block_size:
                r.blocks.extend(self.pool.allocate(1))
            i += 1
        batch.decodes = members

    # ------------------------------------------------------------------ the cycle
    def schedule(self, now_ns):
        batch = Batch()
        self._form(batch, now_ns)
        batch.kv_blocks_used = self.pool.used
        batch.running = len(self.running)
        return batch

    def complete(self, batch, now_ns):
        """Applies a finished iteration at `now_ns`: decode tokens, prefill progress, finishes."""
        for r in batch.decodes:
            r.generated += 1
            gap = now_ns - r.last_token_ns
            if gap > r.max_tbt_ns:
                r.max_tbt_ns = gap
            r.last_token_ns = now_ns
            if r.generated == r.output:
                self._finish(r, now_ns)
        for s in batch.segments:
            r = s.req
            r.prefilled += s.tokens
            if r.prefilled == r.target:
                self.ongoing.remove(r)
                r.generated += 1
                if r.first_token_ns < 0:
                    r.first_token_ns = now_ns
                else:
                    gap = now_ns - r.last_token_ns
                    if gap > r.max_tbt_ns:
                        r.max_tbt_ns = gap
                r.last_token_ns = now_ns
                if r.generated >= r.output:
                    self._finish(r, now_ns)
                else:
                    r.phase = DECODE

    def _finish(self, r, now_ns):
        r.phase = FINISHED
        r.finish_ns = now_ns
        self.pool.release(r.blocks)
        r.blocks = []
        self._running_erase(r)
        self.done.append(r)

    def check_idle(self):
        """Invariant at the end of a run: every block is back in the pool."""
        if self.pool.free != self.pool.total or self.running or self.waiting:
            raise RuntimeError(
                f"scheduler not idle: {self.pool.free}/{self.pool.total} blocks free, "
                f"{len(self.running)} running, {len(self.waiting)} waiting")


class VllmScheduler(Scheduler):
    name = "vllm"

    def __init__(self, total_blocks, max_num_batched_tokens=None, **kw):
        super().__init__(total_blocks, **kw)
        budget = max_num_batched_tokens or max(self.max_model_len, 2048)
        if budget < self.max_num_seqs:
            raise ValueError("max_num_batched_tokens must be >= max_num_seqs")
        self.token_budget = budget
        self.prompt_limit = min(self.max_model_len, budget)

    def _form(self, batch, now_ns):
        tokens = 0
        seqs = len(self.running)
        admitted = False
        while self._head_fits(now_ns):
            r = self.waiting[0]
            n = r.prompt + r.generated
            if tokens + n > self.token_budget or seqs + 1 > self.max_num_seqs:
                break
            self._admit_head(batch, n, now_ns)
            tokens += n
            seqs += 1
            admitted = True
        if admitted:
            return
        self._schedule_decodes(batch)


class SarathiScheduler(Scheduler):
    name = "sarathi"

    def __init__(self, total_blocks, chunk_size=512, **kw):
        kw.setdefault("max_num_seqs", 128)
        super().__init__(total_blocks, **kw)
        if self.max_num_seqs > chunk_size:
            raise ValueError("max_num_seqs must be <= chunk_size")
        self.token_budget = chunk_size

    def _form(self, batch, now_ns):
        self._schedule_decodes(batch)
        used = len(batch.decodes) + batch.prefill_tokens
        for r in list(self.ongoing):
            c = min(r.target - r.prefilled, self.token_budget - used)
            if c <= 0:
                continue
            self._add_segment(batch, r, c)
            used += c
        while used < self.token_budget and self._head_fits(now_ns):
            if len(self.running) >= self.max_num_seqs:
                break
            used += self._admit_head(batch, self.token_budget - used, now_ns)


def make_scheduler(batcher, total_blocks, **kw):
    """batcher: {'impl': 'vllm'|'sarathi', ...servesim keys}."""
    impl = batcher.get("impl", "vllm")
    common = dict(block_size=kw.get("block_size", 16), max_model_len=kw["max_model_len"],
                  watermark=batcher.get("watermark", 0.01))
    if impl == "vllm":
        return VllmScheduler(total_blocks, max_num_seqs=batcher.get("max_num_seqs", 256),
                             max_num_batched_tokens=batcher.get("max_num_batched_tokens"),
                             **common)
    if impl == "sarathi":
        return SarathiScheduler(total_blocks, chunk_size=batcher.get("chunk_size", 512),
                                max_num_seqs=batcher.get("max_num_seqs", 128), **common)
    raise ValueError(f"batcher.impl: the engine implements vllm and sarathi, not {impl!r}")
