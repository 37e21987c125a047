// sim/metrics/sqlite_sink.cc — the results database writer; schema below is documented in the
// README ("Results database"). Keep the two in step and bump kResultsSchemaVersion on change.
#include "sim/metrics/sqlite_sink.h"

#include <sqlite3.h>

#include <filesystem>
#include <system_error>

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
  status        TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
  run_id        INTEGER NOT NULL,
  request_id    INTEGER NOT NULL,
  trace_id      INTEGER NOT NULL,
  client_id     INTEGER NOT NULL,
  arrival_s     REAL    NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cached_tokens INTEGER NOT NULL,
  instance_id   INTEGER,
  first_token_s REAL,
  finish_s      REAL,
  ttft_s        REAL,
  tpot_s        REAL,
  e2e_s         REAL,
  max_tbt_s     REAL,
  sched_delay_s REAL,
  preemptions   INTEGER NOT NULL,
  migrations    INTEGER NOT NULL,
  status        TEXT    NOT NULL,
  reject_reason TEXT
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
CREATE TABLE IF NOT EXISTS summary (
  run_id INTEGER NOT NULL,
  metric TEXT    NOT NULL,
  value  REAL,
  PRIMARY KEY (run_id, metric)
) WITHOUT ROWID;
)sql";

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
  if (sqlite3_step(st) != SQLITE_DONE) fail("insert");
  sqlite3_reset(st);
}

SqliteSink::SqliteSink(const std::string& path) : path_(path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);  // a failure surfaces as the open error below
  }
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "cannot allocate";
    sqlite3_close(db_);
    db_ = nullptr;
    throw OutputError("cannot open results database '" + path + "': " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, 60000);
    int version = -1;
    {
      sqlite3_stmt* st = prepare("PRAGMA user_version");
      if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
      sqlite3_finalize(st);
    }
    sqlite3_stmt* st = prepare("SELECT count(*) FROM sqlite_master");
    int objects = 0;
    if (sqlite3_step(st) == SQLITE_ROW) objects = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (objects > 0 && version != kResultsSchemaVersion) {
      throw OutputError("results database '" + path + "' has schema version " + std::to_string(version) +
                        "; this servesim writes version " + std::to_string(kResultsSchemaVersion) +
                        " (use a new file)");
    }
    if (objects == 0) {
      exec("BEGIN IMMEDIATE");
      exec(kSchema);
      exec(("PRAGMA user_version = " + std::to_string(kResultsSchemaVersion)).c_str());
      exec("COMMIT");
    }
    exec("PRAGMA cache_size = -65536");
    insert_request_ = prepare(
        "INSERT INTO requests VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)");
    insert_iteration_ = prepare("INSERT INTO iterations VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
    insert_summary_ = prepare("INSERT INTO summary VALUES (?1,?2,?3)");
  } catch (...) {
    sqlite3_finalize(insert_request_);
    sqlite3_finalize(insert_iteration_);
    sqlite3_finalize(insert_summary_);
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteSink::~SqliteSink() {
  abort_run();
  sqlite3_finalize(insert_request_);
  sqlite3_finalize(insert_iteration_);
  sqlite3_finalize(insert_summary_);
  sqlite3_close(db_);
}

std::int64_t SqliteSink::begin_run(const RunInfo& info) {
  exec("BEGIN IMMEDIATE");
  in_run_ = true;
  sqlite3_stmt* st = prepare("SELECT COALESCE(MAX(run_id), 0) + 1 FROM runs");
  if (sqlite3_step(st) != SQLITE_ROW) {
    sqlite3_finalize(st);
    fail("allocate run_id");
  }
  run_id_ = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  st = prepare("INSERT INTO runs VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, 'running')");
  sqlite3_bind_int64(st, 1, run_id_);
  sqlite3_bind_text(st, 2, info.scenario.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, info.scenario_yaml.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 4, static_cast<sqlite3_int64>(info.seed));
  sqlite3_bind_text(st, 5, info.version.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 6, info.started_at.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) fail("insert run");
  return run_id_;
}

void SqliteSink::add_request(const RequestState& r) {
  sqlite3_stmt* st = insert_request_;
  const bool finished = r.phase == RequestPhase::kFinished;
  const Request& q = r.req;
  sqlite3_bind_int64(st, 1, run_id_);
  sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(r.request_id));
  sqlite3_bind_int64(st, 3, static_cast<sqlite3_int64>(q.trace_id));
  sqlite3_bind_int64(st, 4, q.client_id);
  sqlite3_bind_double(st, 5, ns_to_s(q.arrival_ns));
  sqlite3_bind_int(st, 6, q.prompt_tokens);
  sqlite3_bind_int(st, 7, q.output_tokens);
  sqlite3_bind_int(st, 8, r.cached_tokens);
  if (r.instance_id >= 0) sqlite3_bind_int(st, 9, r.instance_id); else sqlite3_bind_null(st, 9);
  if (finished) {
    const double ttft = ns_to_s(r.first_token_ns - q.arrival_ns);
    const double tpot = q.output_tokens > 1 ? ns_to_s(r.last_token_ns - r.first_token_ns) / (q.output_tokens - 1) : 0.0;
    sqlite3_bind_double(st, 10, ns_to_s(r.first_token_ns));
    sqlite3_bind_double(st, 11, ns_to_s(r.finish_ns));
    sqlite3_bind_double(st, 12, ttft);
    sqlite3_bind_double(st, 13, tpot);
    sqlite3_bind_double(st, 14, ns_to_s(r.last_token_ns - q.arrival_ns));
    sqlite3_bind_double(st, 15, ns_to_s(r.max_tbt_ns));
    sqlite3_bind_double(st, 16, ns_to_s(r.admitted_ns - q.arrival_ns));
  } else {
    for (int i = 10; i <= 16; ++i) sqlite3_bind_null(st, i);
    if (r.first_token_ns >= 0) sqlite3_bind_double(st, 10, ns_to_s(r.first_token_ns));
    if (r.finish_ns >= 0) sqlite3_bind_double(st, 11, ns_to_s(r.finish_ns));
  }
  sqlite3_bind_int(st, 17, r.preemptions);
  sqlite3_bind_int(st, 18, r.migrations);
  sqlite3_bind_text(st, 19, finished ? "finished" : "rejected", -1, SQLITE_STATIC);
  if (r.reject_reason) sqlite3_bind_text(st, 20, r.reject_reason, -1, SQLITE_STATIC); else sqlite3_bind_null(st, 20);
  step_reset(st);
}

void SqliteSink::add_iteration(const IterationRecord& it) {
  sqlite3_stmt* st = insert_iteration_;
  sqlite3_bind_int64(st, 1, run_id_);
  sqlite3_bind_int(st, 2, it.instance_id);
  sqlite3_bind_int64(st, 3, it.iteration);
  sqlite3_bind_double(st, 4, ns_to_s(it.start_ns));
  sqlite3_bind_double(st, 5, ns_to_s(it.duration_ns));
  sqlite3_bind_int64(st, 6, it.prefill_tokens);
  sqlite3_bind_int64(st, 7, it.decode_tokens);
  sqlite3_bind_int64(st, 8, it.num_prefills);
  sqlite3_bind_int64(st, 9, it.batch_size);
  sqlite3_bind_int64(st, 10, it.kv_blocks_used);
  step_reset(st);
}

void SqliteSink::add_summary(const std::string& metric, double value) {
  sqlite3_stmt* st = insert_summary_;
  sqlite3_bind_int64(st, 1, run_id_);
  sqlite3_bind_text(st, 2, metric.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_double(st, 3, value);
  step_reset(st);
}

void SqliteSink::end_run(const std::string& status, double wall_s) {
  sqlite3_stmt* st = prepare("UPDATE runs SET wall_s = ?1, status = ?2 WHERE run_id = ?3");
  sqlite3_bind_double(st, 1, wall_s);
  sqlite3_bind_text(st, 2, status.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 3, run_id_);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) fail("update run");
  exec("COMMIT");
  in_run_ = false;
}

void SqliteSink::abort_run() noexcept {
  if (!in_run_ || !db_) return;
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  in_run_ = false;
}

}  // namespace servesim
