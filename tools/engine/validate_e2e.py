#!/usr/bin/env python3
"""tools/engine/validate_e2e.py — truth vs simulation, end to end: for every engine run in the
given databases, runs servesim on the same scenario, requests, batcher and KV blocks (from the
run's scenario text and run_params), then prints the engine's and the simulator's TTFT, TPOT and
E2E percentiles, throughput and preemptions with relative errors. The same percentile code reads
both databases' request rows, so the two sides are computed alike.

  python3 tools/engine/validate_e2e.py ENGINE.db [ENGINE2.db ...] [--set KEY=VALUE ...]
      [--label NAME] [--json OUT.json] [--servesim build/servesim] [--keep DIR]

--set applies to the simulated run (e.g. --set 'cluster.cost_model={impl: roofline}'); several
--label/--set groups are not supported: run the script once per cost model. Exit status 1 when a
run's requests differ from the simulator's (the scenario no longer produces them)."""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# The figures judged against the target (issue 15): mean |error| <= 10%, worst <= 30%.
JUDGED = ["ttft_p50", "ttft_p99", "tpot_p50", "tpot_p99", "e2e_p50", "e2e_p99", "throughput"]
SHOWN = ["ttft_p50", "ttft_p90", "ttft_p99", "tpot_p50", "tpot_p90", "tpot_p99", "e2e_p50",
         "e2e_p90", "e2e_p99", "throughput", "preemptions"]


def percentile(values, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    v = sorted(values)
    x = (len(v) - 1) * q
    lo = int(x)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (x - lo)


def metrics(db, run_id):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT ttft_s, tpot_s, e2e_s, output_tokens, arrival_s, finish_s, preemptions "
            "FROM requests WHERE run_id=? AND status='finished'", (run_id,)).fetchall()
        first = con.execute("SELECT MIN(arrival_s) FROM requests WHERE run_id=?",
                            (run_id,)).fetchone()[0]
    finally:
        con.close()
    out = {}
    ttft = [r[0] for r in rows]
    tpot = [r[1] for r in rows if r[3] > 1]
    e2e = [r[2] for r in rows]
    for name, vals in (("ttft", ttft), ("tpot", tpot), ("e2e", e2e)):
        for q in (50, 90, 99):
            out[f"{name}_p{q}"] = percentile(vals, q / 100)
    span = max(r[5] for r in rows) - first if rows else 0
    out["throughput"] = len(rows) / span if span > 0 else None
    out["preemptions"] = sum(r[6] for r in rows)
    out["completed"] = len(rows)
    return out


def request_keys(db, run_id):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT request_id, ROUND(arrival_s, 6), prompt_tokens, output_tokens "
                           "FROM requests WHERE run_id=? ORDER BY request_id",
                           (run_id,)).fetchall()
    finally:
        con.close()


def engine_runs(db, source="engine"):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        runs = []
        for run_id, scenario, yaml_text in con.execute(
                "SELECT run_id, scenario, scenario_yaml FROM runs WHERE status='ok' "
                "ORDER BY run_id"):
            params = dict(con.execute("SELECT key, value FROM run_params WHERE run_id=?",
                                      (run_id,)))
            if params.get("source") != source:
                continue
            # The engine records the card it ran on; the scenario names the card it was made
            # for. Where they differ (an H100 was lent for an H200 scenario), the simulated run
            # uses the engine's card: its hardware entry and its measured profile.
            ran_on = con.execute("SELECT hardware FROM instances WHERE run_id=? LIMIT 1",
                                 (run_id,)).fetchone()
            for hw in ("h200-sxm", "h100-sxm"):
                if ran_on and hw != ran_on[0] and f"hardware: {hw}" in yaml_text:
                    print(f"{scenario}: ran on {ran_on[0]}, the scenario names {hw}: simulated "
                          f"on {ran_on[0]} with its profile", file=sys.stderr)
                    yaml_text = yaml_text.replace(hw, ran_on[0])
            runs.append((run_id, scenario, yaml_text, params))
        return runs
    finally:
        con.close()


def simulate(servesim, yaml_text, params, extra_sets, work, name):
    path = os.path.join(work, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(yaml_text)
    sim_db = os.path.join(work, f"{name}.sim.db")
    if os.path.exists(sim_db):
        os.remove(sim_db)
    batcher = {k.split(".", 2)[2]: v for k, v in params.items()
               if k.startswith("policies.batcher.")}
    sets = ["cluster.kv_cache.num_blocks=" + params["cluster.kv_cache.num_blocks"],
            "policies.batcher={" + ", ".join(f"{k}: {v}" for k, v in sorted(batcher.items())) +
            "}", "output.iterations=true"] + list(extra_sets)
    cmd = [servesim, "run", path, "-o", sim_db, "--quiet"]
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd, check=True, cwd=ROOT)
    return sim_db


def rel(sim, truth):
    if sim is None or truth is None or truth == 0:
        return None
    return (sim - truth) / truth


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("engine_dbs", nargs="+")
    ap.add_argument("--set", action="append", default=[], dest="sets")
    ap.add_argument("--label", default="simulated")
    ap.add_argument("--json")
    ap.add_argument("--servesim", default=os.path.join(ROOT, "build/servesim"))
    ap.add_argument("--keep")
    ap.add_argument("--source", default="engine",
                    help="which runs to check (run_params source; 'virtual' for the CPU check)")
    args = ap.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="validate-e2e-")
    os.makedirs(work, exist_ok=True)
    report = []
    failed = False
    judged_errs = []
    for db in args.engine_dbs:
        for run_id, scenario, yaml_text, params in engine_runs(db, args.source):
            name = f"{os.path.splitext(os.path.basename(db))[0]}-{run_id}"
            sim_db = simulate(args.servesim, yaml_text, params, args.sets, work, name)
            if request_keys(db, run_id) != request_keys(sim_db, 1):
                print(f"{name}: the simulated requests differ from the engine's — the scenario "
                      "or trace changed since the engine ran", file=sys.stderr)
                failed = True
                continue
            truth, sim = metrics(db, run_id), metrics(sim_db, 1)
            errs = {k: rel(sim[k], truth[k]) for k in SHOWN}
            report.append(dict(run=name, scenario=scenario, label=args.label, truth=truth,
                               sim=sim, rel_err=errs))
            print(f"\n{name} ({scenario}, {params.get('policies.batcher.impl')}, "
                  f"{params['cluster.kv_cache.num_blocks']} KV blocks, {truth['completed']} "
                  f"requests) — engine vs {args.label}")
            print(f"  {'metric':12s} {'engine':>10s} {'sim':>10s} {'error':>8s}")
            for k in SHOWN:
                t, s_, e = truth[k], sim[k], errs[k]
                fmt = (lambda x: "-" if x is None else (f"{x:.0f}" if k == "preemptions" else
                                                          f"{x:.4f}"))
                print(f"  {k:12s} {fmt(t):>10s} {fmt(s_):>10s} "
                      f"{'-' if e is None else f'{e * 100:+.1f}%':>8s}")
            judged_errs += [abs(errs[k]) for k in JUDGED if errs[k] is not None]
    if judged_errs:
        mean = sum(judged_errs) / len(judged_errs)
        print(f"\n{args.label}: mean |error| {mean * 100:.1f}%, worst {max(judged_errs) * 100:.1f}% "
              f"over {len(judged_errs)} figures (TTFT/TPOT/E2E P50+P99, throughput)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
