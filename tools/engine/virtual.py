"""tools/engine/virtual.py — runs the engine's scheduler in virtual time, each iteration priced by
a cost function instead of a GPU: the CPU half of the engine, used to check that its schedules
are servesim's (check_schedules.py). The loop is the engine's (engine.py) with the clock
replaced: arrivals up to the current time join the queue, a batch forms, time advances by the
iteration's cost, the batch completes; an idle engine waits for the next arrival."""

from __future__ import annotations

import math

from scheduler import Request


class Polynomial:
    """servesim's `polynomial` cost model (models/cost/polynomial.cc) with pipeline_overhead off:
    prefill a + b·Σl + c·Σl², decode a + b·Σctx + c·B (ms; the large-batch coefficients from
    `decode_large_batch`, default 95, on), summed; rounded to ns as std::llround does."""

    def __init__(self, cfg):
        g = cfg.get
        self.pa, self.pb, self.pc = g("prefill_a_ms", 18.10), g("prefill_b_ms", 0.1019), g(
            "prefill_c_ms", 7.12e-6)
        self.da, self.db, self.dc = g("decode_a_ms", 19.93), g("decode_b_ms", 6.27e-4), g(
            "decode_c_ms", 0.0385)
        self.large = g("decode_large_batch", 95)
        self.la, self.lb, self.lc = g("decode_large_a_ms", 7.17), g("decode_large_b_ms",
                                                                     5.80e-4), g(
            "decode_large_c_ms", 0.158)

    def duration_ns(self, batch):
        prefill_ms = decode_ms = 0.0
        if batch.segments:
            s = sq = 0.0
            for seg in batch.segments:
                s += seg.tokens
                sq += float(seg.tokens) * seg.tokens
            prefill_ms = self.pa + self.pb * s + self.pc * sq + 0.0
        if batch.decodes:
            b = float(len(batch.decodes))
            ctx = float(sum(r.prompt + r.generated for r in batch.decodes))
            if len(batch.decodes) >= self.large:
                decode_ms = self.la + self.lb * ctx + self.lc * b
            else:
                decode_ms = self.da + self.db * ctx + self.dc * b
        ns = (prefill_ms + decode_ms) * 1e6
        return max(1, int(math.floor(ns + 0.5)))


def requests_from_rows(rows):
    return [Request(rid, round(arrival_s * 1e9), prompt, output, trace_id=trace_id,
                    client_id=client, priority=prio)
            for rid, trace_id, client, prio, arrival_s, prompt, output in rows]


def run(scheduler, requests, cost):
    """Returns (iterations, requests): iteration dicts as results.write_run takes them."""
    pending = sorted(requests, key=lambda r: (r.arrival_ns, r.rid))
    now = 0
    nxt = 0
    iterations = []
    while True:
        nxt = scheduler.arrive_until(pending, nxt, now)
        if not scheduler.has_work():
            if nxt == len(pending):
                break
            now = pending[nxt].arrival_ns
            continue
        batch = scheduler.schedule(now)
        if batch.empty():
            if batch.preempted > 0:
                continue  # everything was preempted: form the next batch at once
            if nxt == len(pending):
                raise RuntimeError("scheduler stalled with work left and no arrivals")
            now = pending[nxt].arrival_ns
            continue
        duration = cost.duration_ns(batch)
        iterations.append(dict(
            iteration=len(iterations), start_ns=now, duration_ns=duration,
            prefill_tokens=batch.prefill_tokens, decode_tokens=len(batch.decodes),
            num_prefills=len(batch.segments),
            batch_size=len(batch.segments) + len(batch.decodes),
            kv_blocks_used=batch.kv_blocks_used))
        now += duration
        # Arrivals during the iteration join before the outcome is applied, as in servesim
        # (arrivals at the completion instant go first there too).
        nxt = scheduler.arrive_until(pending, nxt, now)
        scheduler.complete(batch, now)
    scheduler.check_idle()
    return iterations, requests
