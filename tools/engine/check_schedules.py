#!/usr/bin/env python3
"""tools/engine/check_schedules.py — checks on the CPU that the reference engine schedules exactly
as servesim does: for each case (vllm and sarathi, with and without memory pressure) it runs
servesim with the `polynomial` cost model, replays the same requests through the engine's
scheduler in virtual time with the same cost function (virtual.py), writes the engine's results
database through the engine's writer, and compares iteration by iteration (start, duration,
prefill/decode tokens, prefills, batch size, KV blocks in use) and request by request (first
token, finish, preemptions, status, reason). Any difference is printed and the exit status is 1.

  python3 tools/engine/check_schedules.py --servesim build/servesim [--keep DIR]
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import results  # noqa: E402
import scheduler as sched  # noqa: E402
import virtual  # noqa: E402

COST = dict(impl="polynomial", prefill_a_ms=3.0, prefill_b_ms=0.02, prefill_c_ms=1.0e-6,
            decode_a_ms=6.0, decode_b_ms=2.0e-4, decode_c_ms=0.05, decode_large_batch=64,
            decode_large_a_ms=5.0, decode_large_b_ms=2.5e-4, decode_large_c_ms=0.06,
            pipeline_overhead=False)

CASES = [
    # name, batcher, kv blocks (0: from memory), requests, rate
    ("vllm", dict(impl="vllm", max_num_seqs=64), 0, 400, 12.0),
    ("vllm-pressure", dict(impl="vllm", max_num_seqs=64, max_num_batched_tokens=8192), 600, 300,
     14.0),
    ("sarathi", dict(impl="sarathi", chunk_size=256, max_num_seqs=64), 0, 400, 12.0),
    ("sarathi-pressure", dict(impl="sarathi", chunk_size=512, max_num_seqs=128), 600, 300, 14.0),
]


def yaml_flow(d):
    return "{" + ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}"
                           for k, v in d.items()) + "}"


def scenario(name, batcher, blocks, n, rate):
    kv = dict(block_size=16)
    if blocks:
        kv["num_blocks"] = blocks
    return f"""name: engine-check-{name}
seed: 7
workload:
  impl: synthetic
  num_requests: {n}
  arrival: {{impl: poisson, rate_per_s: {rate}}}
  prompt_tokens: {{impl: lognormal, mean: 900, cv: 1.0, max: 3000}}
  output_tokens: {{impl: lognormal, mean: 120, cv: 1.0, max: 800}}
cluster:
  instances: 1
  hardware: h200-sxm
  model: llama-3-8b
  kv_cache: {yaml_flow(kv)}
  cost_model: {yaml_flow(COST)}
policies:
  router: {{impl: round_robin}}
  batcher: {yaml_flow(batcher)}
output:
  iterations: true
"""


def rows(db, sql):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def columns(db, table):
    return [(c[1], c[2]) for c in rows(db, f"PRAGMA table_info({table})")]


def compare(name, sim_db, eng_db):
    bad = []
    for table in ("runs", "run_params", "instances", "requests", "iterations"):
        if columns(sim_db, table) != columns(eng_db, table):
            bad.append(f"table {table}: columns differ")
    if rows(sim_db, "PRAGMA user_version") != rows(eng_db, "PRAGMA user_version"):
        bad.append("user_version differs")
    it_sql = ("SELECT iteration, CAST(ROUND(start_s*1e9) AS INTEGER), "
              "CAST(ROUND(duration_s*1e9) AS INTEGER), prefill_tokens, decode_tokens, "
              "num_prefills, batch_size, kv_blocks_used FROM iterations ORDER BY iteration")
    a, b = rows(sim_db, it_sql), rows(eng_db, it_sql)
    if len(a) != len(b):
        bad.append(f"iterations: servesim {len(a)}, engine {len(b)}")
    for x, y in zip(a, b):
        if x != y:
            bad.append(f"first differing iteration: servesim {x} engine {y}")
            break
    rq_sql = ("SELECT request_id, CAST(ROUND(first_token_s*1e9) AS INTEGER), "
              "CAST(ROUND(finish_s*1e9) AS INTEGER), preemptions, status, reject_reason, "
              "ttft_s, tpot_s, e2e_s, max_tbt_s, sched_delay_s FROM requests ORDER BY request_id")
    a, b = rows(sim_db, rq_sql), rows(eng_db, rq_sql)
    diff = [(x, y) for x, y in zip(a, b) if x != y]
    if len(a) != len(b) or diff:
        bad.append(f"requests: {len(diff)} of {len(a)} differ" +
                   (f"; first: servesim {diff[0][0]} engine {diff[0][1]}" if diff else ""))
    pre = rows(eng_db, "SELECT SUM(preemptions), COUNT(*) FROM requests")[0]
    its = rows(eng_db, "SELECT COUNT(*), SUM(num_prefills > 0 AND decode_tokens > 0) "
                       "FROM iterations")[0]
    status = "ok" if not bad else "DIFFERENT"
    print(f"{name:18s} {status}: {its[0]} iterations ({its[1]} mixed), {pre[1]} requests, "
          f"{pre[0]} preemptions")
    for line in bad:
        print("   ", line)
    return not bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servesim", default=os.path.join(results.ROOT, "build/servesim"))
    ap.add_argument("--keep", help="keep the databases in this folder")
    args = ap.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="engine-check-")
    os.makedirs(work, exist_ok=True)
    ok = True
    need_pressure = 0
    for name, batcher, blocks, n, rate in CASES:
        yaml_path = os.path.join(work, f"{name}.yaml")
        with open(yaml_path, "w") as f:
            f.write(scenario(name, batcher, blocks, n, rate))
        sim_db = os.path.join(work, f"{name}.sim.db")
        eng_db = os.path.join(work, f"{name}.engine.db")
        for p in (sim_db, eng_db):
            if os.path.exists(p):
                os.remove(p)
        subprocess.run([args.servesim, "run", yaml_path, "-o", sim_db, "--quiet"], check=True)
        yaml_text, req_rows = results.read_requests(sim_db)
        total_blocks = rows(sim_db, "SELECT kv_blocks FROM instances")[0][0]
        s = sched.make_scheduler(batcher, total_blocks, block_size=16, max_model_len=8192)
        reqs = virtual.requests_from_rows(req_rows)
        iterations, reqs = virtual.run(s, reqs, virtual.Polynomial(COST))
        params = results.run_params("virtual", batcher, total_blocks)
        results.write_run(eng_db, scenario=f"engine-check-{name}", scenario_yaml=yaml_text,
                          seed=7, params=params,
                          instance=dict(hardware="h200-sxm", model="llama-3-8b",
                                        kv_blocks=total_blocks),
                          requests=reqs, iterations=iterations, steps=[], wall_s=0.0)
        ok &= compare(name, sim_db, eng_db)
        if "pressure" in name:
            need_pressure += rows(eng_db, "SELECT SUM(preemptions) FROM requests")[0][0] > 0
    # validate_e2e.py on the virtual runs with the same cost function must find no error at all.
    cost = "{" + ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}"
                           for k, v in COST.items()) + "}"
    out_json = os.path.join(work, "validate.json")
    subprocess.run([sys.executable, os.path.join(HERE, "validate_e2e.py"), "--source", "virtual",
                    "--servesim", args.servesim, "--set", f"cluster.cost_model={cost}",
                    "--json", out_json, "--keep", os.path.join(work, "validate")] +
                   [os.path.join(work, f"{c[0]}.engine.db") for c in CASES],
                   check=True, stdout=subprocess.DEVNULL)

    checked = json.load(open(out_json))
    nonzero = [(r["run"], k, e) for r in checked for k, e in r["rel_err"].items()
               if e is not None and e != 0]
    if len(checked) != len(CASES) or nonzero:
        print(f"validate_e2e on the virtual runs: {len(checked)} runs, errors {nonzero[:3]}")
        ok = False
    else:
        print(f"validate_e2e on the virtual runs: {len(checked)} runs, every error 0")
    if need_pressure < 2:
        print("the memory-pressure cases preempted nothing: they no longer test preemption")
        ok = False
    print("schedules identical" if ok else "SCHEDULES DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
