// sim/metrics/sqlite_sink.cc — the results database writer; the schema below is documented in
// the README ("Results database"). Keep the two in step and bump kResultsSchemaVersion on change.
#include "sim/metrics/sqlite_sink.h"

#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <thread>

namespace servesim {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  run_id        INTEGER PRIMARY KEY,
  scenario      TEXT    NOT NULL,
  scenario_yaml TEXT    NOT NULL,
  seed          INTEGER NOT NULL,
  version       TEXT    NOT NULL,
  started_at    TEXT    NOT NULL,
  wall_s        REAL,
  status        TEXT    NOT NULL,
  error         TEXT
);
CREATE TABLE IF NOT EXISTS run_params (
  run_id INTEGER NOT NULL,
  key    TEXT    NOT NULL,
  value  TEXT    NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS instances (
  run_id            INTEGER NOT NULL,
  instance_id       INTEGER NOT NULL,
  pool              TEXT    NOT NULL,
  role              TEXT    NOT NULL,
  hardware          TEXT    NOT NULL,
  model             TEXT    NOT NULL,
  tensor_parallel   INTEGER NOT NULL,
  pipeline_parallel INTEGER NOT NULL,
  devices           INTEGER NOT NULL,
  kv_blocks         INTEGER NOT NULL,
  started_s         REAL,
  stopped_s         REAL,
  node              INTEGER NOT NULL,
  PRIMARY KEY (run_id, instance_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS requests (
  run_id            INTEGER NOT NULL,
  request_id        INTEGER NOT NULL,
  trace_id          INTEGER NOT NULL,
  client_id         INTEGER NOT NULL,
  priority          INTEGER NOT NULL,
  arrival_s         REAL    NOT NULL,
  prompt_tokens     INTEGER NOT NULL,
  output_tokens     INTEGER NOT NULL,
  cached_tokens     INTEGER NOT NULL,
  first_instance_id INTEGER,
  instance_id       INTEGER,
  first_token_s     REAL,
  finish_s          REAL,
  ttft_s            REAL,
  tpot_s            REAL,
  e2e_s             REAL,
  max_tbt_s         REAL,
  sched_delay_s     REAL,
  preemptions       INTEGER NOT NULL,
  migrations        INTEGER NOT NULL,
  status            TEXT    NOT NULL,
  reject_reason     TEXT,
  prefill_instance_id INTEGER,
  decode_instance_id  INTEGER,
  kv_transfer_s       REAL,
  bridge_wait_s       REAL
);
CREATE TABLE IF NOT EXISTS run_sources (
  run_id        INTEGER NOT NULL PRIMARY KEY,
  source        TEXT    NOT NULL,
  source_run_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transfers (
  run_id       INTEGER NOT NULL,
  request_id   INTEGER NOT NULL,
  kind         TEXT    NOT NULL,
  src_instance INTEGER NOT NULL,
  dst_instance INTEGER NOT NULL,
  bytes        REAL    NOT NULL,
  start_s      REAL    NOT NULL,
  end_s        REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS migrations (
  run_id       INTEGER NOT NULL,
  request_id   INTEGER NOT NULL,
  src_instance INTEGER NOT NULL,
  dst_instance INTEGER NOT NULL,
  mode         TEXT    NOT NULL,
  start_s      REAL    NOT NULL,
  end_s        REAL    NOT NULL,
  stages       INTEGER NOT NULL,
  blocks       INTEGER NOT NULL,
  tokens       INTEGER NOT NULL,
  downtime_s   REAL,
  outcome      TEXT    NOT NULL,
  abort_reason TEXT
);
CREATE TABLE IF NOT EXISTS links (
  run_id  INTEGER NOT NULL,
  link    TEXT    NOT NULL,
  kind    TEXT    NOT NULL,
  gbps    REAL    NOT NULL,
  bytes   REAL    NOT NULL,
  busy_s  REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS iterations (
  run_id         INTEGER NOT NULL,
  instance_id    INTEGER NOT NULL,
  iteration      INTEGER NOT NULL,
  start_s        REAL    NOT NULL,
  duration_s     REAL    NOT NULL,
  prefill_tokens INTEGER NOT NULL,
  decode_tokens  INTEGER NOT NULL,
  num_prefills   INTEGER NOT NULL,
  batch_size     INTEGER NOT NULL,
  kv_blocks_used INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS instance_samples (
  run_id                INTEGER NOT NULL,
  time_s                REAL    NOT NULL,
  instance_id           INTEGER NOT NULL,
  state                 TEXT    NOT NULL,
  waiting               INTEGER NOT NULL,
  running               INTEGER NOT NULL,
  decoding              INTEGER NOT NULL,
  swapped               INTEGER NOT NULL,
  handoff               INTEGER NOT NULL,
  free_kv_blocks        INTEGER NOT NULL,
  total_kv_blocks       INTEGER NOT NULL,
  queued_prefill_tokens INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS client_service (
  run_id         INTEGER NOT NULL,
  client_id      INTEGER NOT NULL,
  window_start_s REAL    NOT NULL,
  input_tokens   REAL    NOT NULL,
  output_tokens  REAL    NOT NULL,
  service        REAL    NOT NULL,
  demand         REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS summary (
  run_id INTEGER NOT NULL,
  scope  TEXT    NOT NULL,
  metric TEXT    NOT NULL,
  value  REAL,
  PRIMARY KEY (run_id, scope, metric)
) WITHOUT ROWID;
CREATE VIEW IF NOT EXISTS run_overview AS
SELECT r.run_id, r.scenario, r.seed, r.status, r.wall_s,
  (SELECT group_concat(key || '=' || value, ' ')
     FROM (SELECT key, value FROM run_params p WHERE p.run_id = r.run_id ORDER BY key)) AS params,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'requests_completed') AS requests_completed,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'requests_rejected') AS requests_rejected,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'throughput_req_s') AS throughput_req_s,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'throughput_tok_s') AS throughput_tok_s,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'ttft_p50_s') AS ttft_p50_s,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'ttft_p99_s') AS ttft_p99_s,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'tpot_p50_s') AS tpot_p50_s,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'tpot_p99_s') AS tpot_p99_s,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'e2e_p50_s') AS e2e_p50_s,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'e2e_p99_s') AS e2e_p99_s,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'slo_attainment') AS slo_attainment,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'preemptions') AS preemptions,
  (SELECT value FROM summary s WHERE s.run_id = r.run_id AND s.scope = 'run' AND s.metric = 'makespan_s') AS makespan_s
FROM runs r;
)sql";

// "INSERT INTO <table> VALUES (?,…),(?,…)…": `rows` rows of `columns` parameters each.
std::string multi_row_insert(const char* table, int columns, std::size_t rows) {
  std::string one = "(?";
  for (int c = 1; c < columns; ++c) one += ",?";
  one += ")";
  std::string sql = "INSERT INTO ";
  sql += table;
  sql += " VALUES ";
  sql += one;
  for (std::size_t r = 1; r < rows; ++r) {
    sql += ",";
    sql += one;
  }
  return sql;
}

}  // namespace

void SqliteSink::fail(const std::string& what) {
  const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
  throw OutputError("results database '" + path_ + "': " + what + ": " + msg);
}

void SqliteSink::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw OutputError("results database '" + path_ + "': " + msg);
  }
}

sqlite3_stmt* SqliteSink::prepare(const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) fail("prepare");
  return st;
}

void SqliteSink::step_reset(sqlite3_stmt* st) {
  if (sqlite3_step(st) != SQLITE_DONE) {
    sqlite3_reset(st);
    fail("insert");
  }
  sqlite3_reset(st);
}

void SqliteSink::check_bind(int rc) {
  if (rc != SQLITE_OK) fail("bind");
}
void SqliteSink::bind_int(sqlite3_stmt* st, int i, std::int64_t v) {
  check_bind(sqlite3_bind_int64(st, i, v));
}
void SqliteSink::bind_real(sqlite3_stmt* st, int i, double v) {
  // An undefined metric (NaN) is NULL, explicitly.
  check_bind(std::isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v));
}
void SqliteSink::bind_text(sqlite3_stmt* st, int i, const std::string& v) {
  check_bind(sqlite3_bind_text(st, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
}
void SqliteSink::bind_static_text(sqlite3_stmt* st, int i, const char* v) {
  check_bind(sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC));
}
void SqliteSink::bind_null(sqlite3_stmt* st, int i) { check_bind(sqlite3_bind_null(st, i)); }
void SqliteSink::memo_int(sqlite3_stmt* st, int i, std::int64_t v, Bound& b) {
  const auto bits = static_cast<std::uint64_t>(v);
  if (b.kind == Bound::kInt && b.bits == bits) return;
  b.kind = Bound::kUnset;  // until the bind succeeds
  bind_int(st, i, v);
  b = Bound{Bound::kInt, bits};
}
void SqliteSink::memo_real(sqlite3_stmt* st, int i, double v, Bound& b) {
  if (std::isnan(v)) return memo_null(st, i, b);
  const auto bits = std::bit_cast<std::uint64_t>(v);
  if (b.kind == Bound::kReal && b.bits == bits) return;
  b.kind = Bound::kUnset;
  bind_real(st, i, v);
  b = Bound{Bound::kReal, bits};
}
void SqliteSink::memo_null(sqlite3_stmt* st, int i, Bound& b) {
  if (b.kind == Bound::kNull) return;
  b.kind = Bound::kUnset;
  bind_null(st, i);
  b = Bound{Bound::kNull, 0};
}
void SqliteSink::memo_static_text(sqlite3_stmt* st, int i, const char* v, Bound& b) {
  const auto bits = reinterpret_cast<std::uintptr_t>(v);
  if (b.kind == Bound::kStaticText && b.bits == bits) return;
  b.kind = Bound::kUnset;
  bind_static_text(st, i, v);
  b = Bound{Bound::kStaticText, bits};
}

SqliteSink::SqliteSink(const std::string& path) : path_(path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);  // a failure surfaces as the open error below
  }
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "cannot allocate";
    sqlite3_close(db_);
    db_ = nullptr;
    throw OutputError("cannot open results database '" + path + "': " + msg);
  }
  try {
    // Another run holding the file's write lock: wait for it, visibly and without a timeout
    // (the time waited is not the simulation's: lock_wait_s()).
    sqlite3_busy_handler(db_, &SqliteSink::on_busy, this);
    const int version = static_cast<int>(query_int("PRAGMA user_version"));
    const std::int64_t objects = query_int("SELECT count(*) FROM sqlite_master");
    if (objects > 0 && version != kResultsSchemaVersion) {
      throw OutputError("results database '" + path + "' has schema version " +
                        std::to_string(version) + "; this servesim writes version " +
                        std::to_string(kResultsSchemaVersion) +
                        " and never mixes versions in one file: write to a new file");
    }
    if (objects == 0) {
      exec("BEGIN IMMEDIATE");
      exec(kSchema);
      exec(("PRAGMA user_version = " + std::to_string(kResultsSchemaVersion)).c_str());
      exec("COMMIT");
    }
    exec("PRAGMA cache_size = -65536");
    insert_request_ = prepare(multi_row_insert("requests", kRequestColumns, 1).c_str());
    insert_requests_ =
        prepare(multi_row_insert("requests", kRequestColumns, kRequestBatch).c_str());
    request_rows_.reserve(kRequestBatch);
    request_bound_.resize(kRequestColumns);
    requests_bound_.resize(kRequestBatch * kRequestColumns);
    insert_iteration_ = prepare("INSERT INTO iterations VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
    insert_sample_ =
        prepare("INSERT INTO instance_samples VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
    insert_summary_ = prepare("INSERT INTO summary VALUES (?1,?2,?3,?4)");
  } catch (...) {
    sqlite3_finalize(insert_request_);
    sqlite3_finalize(insert_requests_);
    sqlite3_finalize(insert_iteration_);
    sqlite3_finalize(insert_sample_);
    sqlite3_finalize(insert_summary_);
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteSink::~SqliteSink() {
  abort_run();
  sqlite3_finalize(insert_request_);
  sqlite3_finalize(insert_requests_);
  sqlite3_finalize(insert_transfer_);
  sqlite3_finalize(insert_transfers_);
  sqlite3_finalize(insert_iterations_);
  sqlite3_finalize(insert_migration_);
  sqlite3_finalize(insert_iteration_);
  sqlite3_finalize(insert_sample_);
  sqlite3_finalize(insert_summary_);
  sqlite3_close(db_);
}

void SqliteSink::Finalize::operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }

SqliteSink::Statement SqliteSink::prepare_once(const char* sql) { return Statement(prepare(sql)); }

std::int64_t SqliteSink::query_int(const char* sql) {
  const Statement st = prepare_once(sql);
  if (sqlite3_step(st.get()) != SQLITE_ROW) fail(sql);
  return sqlite3_column_int64(st.get(), 0);
}

std::int64_t SqliteSink::insert_run_row(const RunInfo& info, const char* status) {
  const std::int64_t run_id = query_int("SELECT COALESCE(MAX(run_id), 0) + 1 FROM runs");
  const Statement run =
      prepare_once("INSERT INTO runs VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, NULL)");
  bind_int(run.get(), 1, run_id);
  bind_text(run.get(), 2, info.scenario);
  bind_text(run.get(), 3, info.scenario_yaml);
  bind_int(run.get(), 4, static_cast<std::int64_t>(info.seed));
  bind_text(run.get(), 5, info.version);
  bind_text(run.get(), 6, info.started_at);
  bind_static_text(run.get(), 7, status);
  step_reset(run.get());
  const Statement param = prepare_once("INSERT INTO run_params VALUES (?1, ?2, ?3)");
  for (const auto& [key, value] : info.params) {
    bind_int(param.get(), 1, run_id);
    bind_text(param.get(), 2, key);
    bind_text(param.get(), 3, value);
    step_reset(param.get());
  }
  return run_id;
}

int SqliteSink::on_busy(void* self, int attempt) {
  auto* sink = static_cast<SqliteSink*>(self);
  if (attempt == 0) {
    std::fprintf(stderr,
                 "servesim: waiting for the write lock of '%s' (another run is writing it)...\n",
                 sink->path_.c_str());
  }
  const int ms = std::min(200, 5 * (attempt + 1));
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  sink->lock_wait_s_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return 1;  // try again, for as long as it takes
}

std::int64_t SqliteSink::begin_run(const RunInfo& info) {
  exec("BEGIN IMMEDIATE");
  in_run_ = true;
  run_id_ = insert_run_row(info, "running");
  return run_id_;
}

void SqliteSink::add_request(const RequestState& r, const RequestMetrics* m) {
  RequestRow& row = request_rows_.emplace_back();
  const Request& q = r.req;
  row.request_id = static_cast<std::int64_t>(r.request_id);
  row.trace_id = static_cast<std::int64_t>(q.trace_id);
  row.client_id = q.client_id;
  row.priority = q.priority;
  row.arrival_s = ns_to_s(q.arrival_ns);
  row.prompt_tokens = q.prompt_tokens;
  row.output_tokens = q.output_tokens;
  row.cached_tokens = r.cached_tokens;
  row.first_instance_id = r.first_instance_id;
  row.instance_id = r.instance_id;
  row.first_token_ns = r.first_token_ns;
  row.finish_ns = r.finish_ns;
  row.finished = m != nullptr;
  if (m) row.metrics = *m;
  row.preemptions = r.preemptions;
  row.migrations = r.migrations;
  row.reject_reason = r.reject_reason;
  row.prefill_instance_id = r.prefill_instance_id;
  row.decode_instance_id = r.req.output_tokens > 1 && m ? r.instance_id : -1;
  row.kv_transfer_s = r.handoff_end_ns >= 0 ? ns_to_s(r.handoff_end_ns - r.handoff_start_ns) : -1;
  row.bridge_wait_s =
      r.handoff_start_ns >= 0 ? ns_to_s(r.handoff_start_ns - r.prefill_done_ns) : -1;
  if (request_rows_.size() == kRequestBatch) flush_requests();
}

void SqliteSink::bind_request(sqlite3_stmt* st, int base, const RequestRow& row, Bound* memo) {
  memo_int(st, base + 1, run_id_, memo[0]);
  memo_int(st, base + 2, row.request_id, memo[1]);
  memo_int(st, base + 3, row.trace_id, memo[2]);
  memo_int(st, base + 4, row.client_id, memo[3]);
  memo_int(st, base + 5, row.priority, memo[4]);
  memo_real(st, base + 6, row.arrival_s, memo[5]);
  memo_int(st, base + 7, row.prompt_tokens, memo[6]);
  memo_int(st, base + 8, row.output_tokens, memo[7]);
  memo_int(st, base + 9, row.cached_tokens, memo[8]);
  if (row.first_instance_id >= 0)
    memo_int(st, base + 10, row.first_instance_id, memo[9]);
  else
    memo_null(st, base + 10, memo[9]);
  if (row.instance_id >= 0)
    memo_int(st, base + 11, row.instance_id, memo[10]);
  else
    memo_null(st, base + 11, memo[10]);
  if (row.first_token_ns >= 0)
    memo_real(st, base + 12, ns_to_s(row.first_token_ns), memo[11]);
  else
    memo_null(st, base + 12, memo[11]);
  if (row.finish_ns >= 0)
    memo_real(st, base + 13, ns_to_s(row.finish_ns), memo[12]);
  else
    memo_null(st, base + 13, memo[12]);
  if (row.finished) {
    memo_real(st, base + 14, row.metrics.ttft_s, memo[13]);
    memo_real(st, base + 15, row.metrics.tpot_s, memo[14]);
    memo_real(st, base + 16, row.metrics.e2e_s, memo[15]);
    memo_real(st, base + 17, row.metrics.max_tbt_s, memo[16]);
    memo_real(st, base + 18, row.metrics.sched_delay_s, memo[17]);
  } else {
    for (int i = 14; i <= 18; ++i) memo_null(st, base + i, memo[i - 1]);
  }
  memo_int(st, base + 19, row.preemptions, memo[18]);
  memo_int(st, base + 20, row.migrations, memo[19]);
  memo_static_text(st, base + 21, row.finished ? "finished" : "rejected", memo[20]);
  if (row.reject_reason)
    memo_static_text(st, base + 22, row.reject_reason, memo[21]);
  else
    memo_null(st, base + 22, memo[21]);
  auto id_or_null = [&](int i, InstanceId id) {
    if (id >= 0)
      memo_int(st, base + i, id, memo[i - 1]);
    else
      memo_null(st, base + i, memo[i - 1]);
  };
  auto real_or_null = [&](int i, double v) {
    if (v >= 0)
      memo_real(st, base + i, v, memo[i - 1]);
    else
      memo_null(st, base + i, memo[i - 1]);
  };
  id_or_null(23, row.prefill_instance_id);
  id_or_null(24, row.decode_instance_id);
  real_or_null(25, row.kv_transfer_s);
  real_or_null(26, row.bridge_wait_s);
}

void SqliteSink::flush_requests() {
  if (request_rows_.size() == kRequestBatch) {
    for (std::size_t i = 0; i < request_rows_.size(); ++i) {
      bind_request(insert_requests_, static_cast<int>(i) * kRequestColumns, request_rows_[i],
                   &requests_bound_[i * kRequestColumns]);
    }
    step_reset(insert_requests_);
  } else {
    for (const RequestRow& row : request_rows_) {
      bind_request(insert_request_, 0, row, request_bound_.data());
      step_reset(insert_request_);
    }
  }
  request_rows_.clear();
}

void SqliteSink::add_iteration(const IterationRecord& it) {
  iteration_rows_.push_back(it);
  if (iteration_rows_.size() == kIterationBatch) flush_iterations();
}

void SqliteSink::bind_iteration(sqlite3_stmt* st, int base, const IterationRecord& row) {
  bind_int(st, base + 1, run_id_);
  bind_int(st, base + 2, row.instance_id);
  bind_int(st, base + 3, row.iteration);
  bind_real(st, base + 4, ns_to_s(row.start_ns));
  bind_real(st, base + 5, ns_to_s(row.duration_ns));
  bind_int(st, base + 6, row.prefill_tokens);
  bind_int(st, base + 7, row.decode_tokens);
  bind_int(st, base + 8, row.num_prefills);
  bind_int(st, base + 9, row.batch_size);
  bind_int(st, base + 10, row.kv_blocks_used);
}

void SqliteSink::flush_iterations() {
  if (iteration_rows_.size() == kIterationBatch) {
    if (!insert_iterations_) {
      insert_iterations_ =
          prepare(multi_row_insert("iterations", kIterationColumns, kIterationBatch).c_str());
    }
    for (std::size_t i = 0; i < iteration_rows_.size(); ++i) {
      bind_iteration(insert_iterations_, static_cast<int>(i) * kIterationColumns,
                     iteration_rows_[i]);
    }
    step_reset(insert_iterations_);
  } else {
    for (const IterationRecord& row : iteration_rows_) {
      bind_iteration(insert_iteration_, 0, row);
      step_reset(insert_iteration_);
    }
  }
  iteration_rows_.clear();
}

void SqliteSink::add_samples(TimeNs now, std::span<const InstanceLoad> loads) {
  sqlite3_stmt* st = insert_sample_;
  for (const InstanceLoad& l : loads) {
    bind_int(st, 1, run_id_);
    bind_real(st, 2, ns_to_s(now));
    bind_int(st, 3, l.instance);
    bind_static_text(st, 4, to_string(l.state));
    bind_int(st, 5, l.waiting);
    bind_int(st, 6, l.running);
    bind_int(st, 7, l.decoding);
    bind_int(st, 8, l.swapped);
    bind_int(st, 9, l.handoff);
    bind_int(st, 10, l.kv_free_blocks);
    bind_int(st, 11, l.kv_total_blocks);
    bind_int(st, 12, l.queued_prefill_tokens);
    step_reset(st);
  }
}

void SqliteSink::add_client_service(const std::vector<FairnessMeter::WindowRow>& rows) {
  const Statement statement =
      prepare_once("INSERT INTO client_service VALUES (?1,?2,?3,?4,?5,?6,?7)");
  sqlite3_stmt* st = statement.get();
  for (const FairnessMeter::WindowRow& row : rows) {
    bind_int(st, 1, run_id_);
    bind_int(st, 2, row.client);
    bind_real(st, 3, row.window_start_s);
    bind_real(st, 4, row.input_tokens);
    bind_real(st, 5, row.output_tokens);
    bind_real(st, 6, row.service);
    bind_real(st, 7, row.demand);
    step_reset(st);
  }
}

void SqliteSink::add_instance(const InstanceRow& row) {
  const Statement statement =
      prepare_once("INSERT INTO instances VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
  sqlite3_stmt* st = statement.get();
  bind_int(st, 1, run_id_);
  bind_int(st, 2, row.instance);
  bind_text(st, 3, row.pool);
  bind_text(st, 4, row.role);
  bind_text(st, 5, row.hardware);
  bind_text(st, 6, row.model);
  bind_int(st, 7, row.tensor_parallel);
  bind_int(st, 8, row.pipeline_parallel);
  bind_int(st, 9, static_cast<std::int64_t>(row.tensor_parallel) * row.pipeline_parallel);
  bind_int(st, 10, row.kv_blocks);
  if (row.started_ns >= 0) {
    bind_real(st, 11, ns_to_s(row.started_ns));
  } else {
    bind_null(st, 11);
  }
  if (row.stopped_ns >= 0) {
    bind_real(st, 12, ns_to_s(row.stopped_ns));
  } else {
    bind_null(st, 12);
  }
  bind_int(st, 13, row.node);
  step_reset(st);
}

void SqliteSink::add_transfer(const TransferRecord& t) {
  transfer_rows_.push_back(t);
  if (transfer_rows_.size() == kTransferBatch) flush_transfers();
}

void SqliteSink::bind_transfer(sqlite3_stmt* st, int base, const TransferRecord& t) {
  bind_int(st, base + 1, run_id_);
  bind_int(st, base + 2, static_cast<std::int64_t>(t.request_id));
  bind_static_text(st, base + 3, t.kind);  // a static string (TransferRecord::kind)
  bind_int(st, base + 4, t.src);
  bind_int(st, base + 5, t.dst);
  bind_real(st, base + 6, t.bytes);
  bind_real(st, base + 7, ns_to_s(t.start_ns));
  bind_real(st, base + 8, ns_to_s(t.end_ns));
}

void SqliteSink::flush_transfers() {
  if (transfer_rows_.size() == kTransferBatch) {
    if (!insert_transfers_) {
      insert_transfers_ =
          prepare(multi_row_insert("transfers", kTransferColumns, kTransferBatch).c_str());
    }
    for (std::size_t i = 0; i < transfer_rows_.size(); ++i) {
      bind_transfer(insert_transfers_, static_cast<int>(i) * kTransferColumns, transfer_rows_[i]);
    }
    step_reset(insert_transfers_);
  } else if (!transfer_rows_.empty()) {
    if (!insert_transfer_)
      insert_transfer_ = prepare("INSERT INTO transfers VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
    for (const TransferRecord& t : transfer_rows_) {
      bind_transfer(insert_transfer_, 0, t);
      step_reset(insert_transfer_);
    }
  }
  transfer_rows_.clear();
}

void SqliteSink::add_migration(const MigrationRecord& m) {
  if (!insert_migration_) {
    insert_migration_ =
        prepare("INSERT INTO migrations VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
  }
  sqlite3_stmt* st = insert_migration_;
  bind_int(st, 1, run_id_);
  bind_int(st, 2, static_cast<std::int64_t>(m.request_id));
  bind_int(st, 3, m.src);
  bind_int(st, 4, m.dst);
  bind_static_text(st, 5, m.mode);
  bind_real(st, 6, ns_to_s(m.start_ns));
  bind_real(st, 7, ns_to_s(m.end_ns));
  bind_int(st, 8, m.stages);
  bind_int(st, 9, m.blocks);
  bind_int(st, 10, m.tokens);
  if (m.downtime_ns >= 0) {
    bind_real(st, 11, ns_to_s(m.downtime_ns));
  } else {
    bind_null(st, 11);
  }
  bind_static_text(st, 12, m.outcome);
  if (m.reason) {
    bind_static_text(st, 13, m.reason);
  } else {
    bind_null(st, 13);
  }
  step_reset(st);
}

void SqliteSink::add_link(const std::string& name, const std::string& kind, double gbps,
                          double bytes, double busy_s) {
  const Statement st = prepare_once("INSERT INTO links VALUES (?1,?2,?3,?4,?5,?6)");
  bind_int(st.get(), 1, run_id_);
  bind_text(st.get(), 2, name);
  bind_text(st.get(), 3, kind);
  bind_real(st.get(), 4, gbps);
  bind_real(st.get(), 5, bytes);
  bind_real(st.get(), 6, busy_s);
  step_reset(st.get());
}

void SqliteSink::add_summary(const std::string& scope, const std::string& metric, double value) {
  sqlite3_stmt* st = insert_summary_;
  bind_int(st, 1, run_id_);
  bind_text(st, 2, scope);
  bind_text(st, 3, metric);
  bind_real(st, 4, value);
  step_reset(st);
}

const char* const kRunIdIndexesSql =
    "CREATE INDEX IF NOT EXISTS requests_run ON requests (run_id);"
    "CREATE INDEX IF NOT EXISTS iterations_run ON iterations (run_id);"
    "CREATE INDEX IF NOT EXISTS instance_samples_run ON instance_samples (run_id);"
    "CREATE INDEX IF NOT EXISTS transfers_run ON transfers (run_id);"
    "CREATE INDEX IF NOT EXISTS migrations_run ON migrations (run_id);"
    "CREATE INDEX IF NOT EXISTS client_service_run ON client_service (run_id);";

void SqliteSink::end_run(double wall_s) {
  flush_requests();
  flush_transfers();
  flush_iterations();
  const Statement st = prepare_once("UPDATE runs SET wall_s = ?1, status = 'ok' WHERE run_id = ?2");
  bind_real(st.get(), 1, wall_s);
  bind_int(st.get(), 2, run_id_);
  step_reset(st.get());
  // Indexes on run_id for the big tables, made once a file holds a second run (in a file of one
  // run, `WHERE run_id = ?` selects every row anyway, so an index would only cost its build:
  // ~7% of a 1M-request run). From then on later runs' inserts maintain them.
  if (query_int("SELECT count(*) FROM runs") > 1) exec(kRunIdIndexesSql);
  exec("COMMIT");
  in_run_ = false;
}

void SqliteSink::abort_run() noexcept {
  request_rows_.clear();
  transfer_rows_.clear();
  iteration_rows_.clear();
  if (!in_run_ || !db_) return;
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  in_run_ = false;
}

std::int64_t SqliteSink::record_failure(const RunInfo& info, double wall_s,
                                        const std::string& error) noexcept {
  abort_run();
  if (!db_) return 0;
  try {
    exec("BEGIN IMMEDIATE");
    const std::int64_t run_id = insert_run_row(info, "failed");
    const Statement st = prepare_once("UPDATE runs SET wall_s = ?1, error = ?2 WHERE run_id = ?3");
    bind_real(st.get(), 1, wall_s);
    bind_text(st.get(), 2, error);
    bind_int(st.get(), 3, run_id);
    step_reset(st.get());
    exec("COMMIT");
    return run_id;
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return 0;
  }
}

}  // namespace servesim
