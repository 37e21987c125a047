#!/usr/bin/env python3
"""tools/experiments/vtc_measured.py — the VTC artifact's measured runs, in servesim's metrics.

Reads fair_bench/<SCHEDULER>/all_results_real.jsonl files (what the artifact measured on an A10G,
stored under ../shared/data/traces/vtc_lmsys_real/) and prints one Markdown row per file with the
same figures servesim writes to its summary, computed the same way (sim/metrics/fairness.h):
service w_p*input + w_q*output spread uniformly over [first token, finish], buckets of window/10,
the horizon at the last arrival; accumulated difference max_u A_u - min_u A_u at bucket ends;
windowed difference max_j min(max_k y_k - y_j, d_j - y_j) per tumbling window; Jain's index of
service over the max-min fair share. An independent implementation: it also checks servesim's.

Usage: vtc_measured.py FILE... [--window 60]
"""
import json
import sys


def metrics(responses, window_s=60.0, w_p=1.0, w_q=2.0):
    bucket = window_s / 10
    clients = sorted({r["adapter_dir"] for r in responses})
    horizon = max(r["req_time"] for r in responses)
    n_buckets = int(horizon / bucket) + 10 + 1
    service = {c: [0.0] * n_buckets for c in clients}
    demand = {c: [0.0] * n_buckets for c in clients}
    for r in responses:
        c = r["adapter_dir"]
        s = w_p * r["prompt_len"] + w_q * r["output_len"]
        demand[c][int(r["req_time"] / bucket)] += s
        if r["first_token_latency"] < 0:  # aborted
            continue
        a = r["req_time"] + r["first_token_latency"]
        b = r["req_time"] + r["request_latency"]
        if b <= a:
            i = int(b / bucket)
            if i < n_buckets:
                service[c][i] += s
            continue
        i = int(a / bucket)
        while i * bucket < b and i < n_buckets:
            lo, hi = max(a, i * bucket), min(b, (i + 1) * bucket)
            service[c][i] += s * (hi - lo) / (b - a)
            i += 1
    full = int(horizon / bucket)
    acc = {c: 0.0 for c in clients}
    acc_max = 0.0
    for i in range(full):
        for c in clients:
            acc[c] += service[c][i]
        acc_max = max(acc_max, max(acc.values()) - min(acc.values()))
    win_max, win_sum = 0.0, 0.0
    for w in range(full // 10 + 1):
        y = {c: sum(service[c][w * 10:(w + 1) * 10]) / window_s for c in clients}
        d = {c: sum(demand[c][w * 10:(w + 1) * 10]) / window_s for c in clients}
        top = max(y.values())
        diff = max(0.0, max(min(top - y[c], d[c] - y[c]) for c in clients))
        win_max = max(win_max, diff)
        win_sum += diff
    frac = (horizon - full * bucket) / bucket
    got = {c: sum(service[c][:full]) + service[c][full] * frac for c in clients}
    want = {c: sum(demand[c]) for c in clients}
    total, left = sum(got.values()), sum(got.values())
    fair = {}
    order = sorted(clients, key=lambda c: want[c])
    for k, c in enumerate(order):
        fair[c] = min(want[c], left / (len(order) - k))
        left -= fair[c]
    xs = [got[c] / fair[c] for c in clients if fair[c] > 0]
    jain = sum(xs) ** 2 / (len(xs) * sum(x * x for x in xs)) if xs else 1.0
    return acc_max, win_max, win_sum / (full // 10 + 1), jain


def main(argv):
    window = 60.0
    files = []
    it = iter(argv)
    for a in it:
        if a == "--window":
            window = float(next(it))
        else:
            files.append(a)
    for path in files:
        with open(path) as f:
            doc = json.loads(f.readline())
        res = doc["result"]
        rs = res["responses"]
        done = [r for r in rs if r["first_token_latency"] >= 0]
        acc_max, win_max, win_mean, jain = metrics(rs, window)
        ttft = sum(r["first_token_latency"] for r in done) / len(done)
        e2e = sum(r["request_latency"] for r in done) / len(done)
        name = path.split("/")[-2] if "/" in path else path
        print(f"| {name} (measured) | {res['throughput']:.2f} | {ttft:.1f} | {e2e:.1f} | "
              f"{acc_max:.0f} | {win_max:.1f} | {win_mean:.1f} | {jain:.3f} | "
              f"{len(rs) - len(done)} |")


if __name__ == "__main__":
    main(sys.argv[1:])
