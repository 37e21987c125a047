"""tools/engine/results.py — writes an engine run into a servesim results database: the same
schema (read from sim/metrics/sqlite_sink.cc, so the two cannot drift apart), one `runs` row whose
run_params say `source=engine`, its `instances`, `requests` and `iterations` rows, and one table of
its own, `engine_steps`, with each iteration's host/GPU time split (the data the host-overhead
fit reads). Also reads the requests of a servesim run (the input the engine replays)."""

from __future__ import annotations

import datetime
import os
import re
import sqlite3

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ENGINE_STEPS_DDL = """
CREATE TABLE IF NOT EXISTS engine_steps (
  run_id        INTEGER NOT NULL,
  iteration     INTEGER NOT NULL,
  kind          TEXT    NOT NULL,  -- prefill | decode | mixed
  graph         INTEGER NOT NULL,  -- 1: replayed a CUDA graph (decode-only), 0: eager
  padded_batch  INTEGER NOT NULL,  -- the graph's captured batch size (0 when eager)
  num_seqs      INTEGER NOT NULL,
  tokens        INTEGER NOT NULL,
  context_tokens INTEGER NOT NULL, -- Σ context attended (prior + new) over the batch
  segments      TEXT    NOT NULL,  -- prefill chunks as new@prior;... ('' when none)
  schedule_s    REAL    NOT NULL,  -- host: forming the batch
  prepare_s     REAL    NOT NULL,  -- host: inputs, block tables, copies issued
  gpu_s         REAL    NOT NULL,  -- device: CUDA events around the forward + sampling
  total_s       REAL    NOT NULL   -- wall: schedule start to outputs processed
);
"""


def servesim_schema():
    """(DDL, user_version) of the results database, from the C++ writer's source."""
    src = open(os.path.join(ROOT, "sim/metrics/sqlite_sink.cc"), encoding="utf-8").read()
    m = re.search(r'kSchema = R"sql\((.*?)\)sql"', src, re.S)
    hdr = open(os.path.join(ROOT, "sim/metrics/sqlite_sink.h"), encoding="utf-8").read()
    v = re.search(r"kResultsSchemaVersion = (\d+);", hdr)
    if not m or not v:
        raise RuntimeError("cannot find the results schema in sim/metrics/sqlite_sink.{cc,h}")
    return m.group(1), int(v.group(1))


def read_requests(db_path, run_id=None):
    """(scenario_yaml, rows) of a servesim run: rows of (request_id, trace_id, client_id,
    priority, arrival_s, prompt_tokens, output_tokens) in request order."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        if run_id is None:
            run_id = con.execute("SELECT MAX(run_id) FROM runs WHERE status='ok'").fetchone()[0]
        if run_id is None:
            raise RuntimeError(f"{db_path}: no finished run")
        yaml_text = con.execute("SELECT scenario_yaml FROM runs WHERE run_id=?",
                                (run_id,)).fetchone()[0]
        rows = con.execute(
            "SELECT request_id, trace_id, client_id, priority, arrival_s, prompt_tokens, "
            "output_tokens FROM requests WHERE run_id=? ORDER BY request_id", (run_id,)).fetchall()
    finally:
        con.close()
    return yaml_text, rows


def run_params(source, batcher, kv_blocks, **extra):
    """The run_params of an engine (or virtual) run: what validate_e2e.py needs to simulate the
    same run — the batcher's keys and the KV block count — plus free-form `extra`."""
    params = {"source": source, "cluster.kv_cache.num_blocks": kv_blocks}
    params.update({f"policies.batcher.{k}": v for k, v in batcher.items()})
    params.update(extra)
    return params


def ns_to_s(ns):
    return ns * 1e-9


def write_run(path, *, scenario, scenario_yaml, seed, params, instance, requests, iterations,
              steps, wall_s, started_at=None):
    """Writes one run (run_id = next free id). `requests`: scheduler.Request objects;
    `iterations`: dicts with the iterations table's columns (times in ns); `steps`: dicts with
    engine_steps columns (seconds). Everything in one transaction."""
    ddl, version = servesim_schema()
    con = sqlite3.connect(path)
    try:
        have = con.execute("PRAGMA user_version").fetchone()[0]
        if have not in (0, version):
            raise RuntimeError(f"{path}: results schema v{have}, this engine writes v{version}")
        con.executescript(ddl + ENGINE_STEPS_DDL)
        con.execute(f"PRAGMA user_version = {version}")
        with con:
            run_id = con.execute("SELECT COALESCE(MAX(run_id), 0) + 1 FROM runs").fetchone()[0]
            started = started_at or datetime.datetime.now(datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
            con.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,NULL)",
                        (run_id, scenario, scenario_yaml, seed, params.get("engine_version",
                                                                           "engine"),
                         started, wall_s, "ok"))
            con.executemany("INSERT INTO run_params VALUES (?,?,?)",
                            [(run_id, k, str(v)) for k, v in sorted(params.items())])
            con.execute("INSERT INTO instances VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (run_id, 0, "default", "colocated", instance["hardware"],
                         instance["model"], instance.get("tensor_parallel", 1), 1,
                         instance.get("tensor_parallel", 1), instance["kv_blocks"], 0.0, None, 0))
            rows = []
            for r in sorted(requests, key=lambda q: q.rid):
                fin = r.phase == 3  # FINISHED
                arrival = ns_to_s(r.arrival_ns)
                if fin:
                    ttft = ns_to_s(r.first_token_ns - r.arrival_ns)
                    tpot = (ns_to_s(r.last_token_ns - r.first_token_ns) / (r.output - 1)
                            if r.output > 1 else 0.0)
                    e2e = ns_to_s(r.last_token_ns - r.arrival_ns)
                    tbt = ns_to_s(r.max_tbt_ns)
                    delay = ns_to_s(r.admitted_ns - r.arrival_ns)
                else:
                    ttft = tpot = e2e = tbt = delay = None
                inst = 0 if r.admitted_ns >= 0 or fin else None
                rows.append((run_id, r.rid, r.trace_id, r.client_id, r.priority, arrival,
                             r.prompt, r.output, r.cached, inst, inst,
                             ns_to_s(r.first_token_ns) if r.first_token_ns >= 0 else None,
                             ns_to_s(r.finish_ns) if r.finish_ns >= 0 else None,
                             ttft, tpot, e2e, tbt, delay, r.preemptions, 0,
                             "finished" if fin else "rejected", r.reject_reason,
                             0 if r.first_token_ns >= 0 else None, None, None, None))
            con.executemany("INSERT INTO requests VALUES (" + ",".join("?" * 26) + ")", rows)
            con.executemany(
                "INSERT INTO iterations VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(run_id, 0, i["iteration"], ns_to_s(i["start_ns"]), ns_to_s(i["duration_ns"]),
                  i["prefill_tokens"], i["decode_tokens"], i["num_prefills"], i["batch_size"],
                  i["kv_blocks_used"]) for i in iterations])
            con.executemany(
                "INSERT INTO engine_steps VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(run_id, s["iteration"], s["kind"], s["graph"], s["padded_batch"],
                  s["num_seqs"], s["tokens"], s["context_tokens"], s["segments"], s["schedule_s"],
                  s["prepare_s"], s["gpu_s"], s["total_s"]) for s in steps])
    finally:
        con.close()
    return run_id
