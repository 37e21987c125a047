// sim/metrics/sqlite_sink.h — writes one run into a results database (schema version 5; tables
// and columns in the README, "Results database"). The whole run is one transaction: rows become
// visible at end_run(); a run that fails is rolled back and leaves no request, iteration or
// summary rows (earlier runs in the same file are untouched), only a `runs` row with
// status 'failed' and the error (record_failure). Several runs may share a database; every
// table carries run_id. A run holds the file's write lock from begin_run to end_run: another run
// into the same file waits for it — without a timeout, saying so on stderr once — and that wait
// is reported apart (lock_wait_s) so it never counts in the run's wall time. A database of another
// schema version is refused, never mixed. Statements are prepared once; every bind and step is
// checked.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sim/config/errors.h"
#include "sim/metrics/fairness.h"
#include "sim/metrics/request_metrics.h"
#include "sim/world/observer.h"

struct sqlite3;
struct sqlite3_stmt;

namespace servesim {

// The results database cannot be opened/written (bad path, not a database, other schema).
struct RunInfo {
  std::string scenario;
  std::string scenario_yaml;  // the fully resolved scenario
  std::uint64_t seed = 0;
  std::string version;
  std::string started_at;  // ISO 8601 UTC
  // The resolved value (YAML text) of every key set from outside the file (--set, sweeps).
  std::vector<std::pair<std::string, std::string>> params;
};

// One row of the `instances` table.
struct InstanceRow {
  InstanceId instance = 0;
  std::string pool;
  std::string role;
  std::string hardware;
  std::string model;
  int tensor_parallel = 1;
  int pipeline_parallel = 1;
  std::int64_t kv_blocks = 0;
  TimeNs started_ns = -1;  // −1: never active
  TimeNs stopped_ns = -1;  // −1: still running at the end
  int node = 0;            // topology node of its first device
};

inline constexpr int kResultsSchemaVersion = 5;

// The indexes on run_id of the big tables (IF NOT EXISTS): made when a file holds a second run,
// by end_run and by merge.
extern const char* const kRunIdIndexesSql;

class SqliteSink {
 public:
  // Opens or creates `path` and its tables. Throws OutputError naming the path.
  explicit SqliteSink(const std::string& path);
  ~SqliteSink();
  SqliteSink(const SqliteSink&) = delete;
  SqliteSink& operator=(const SqliteSink&) = delete;

  // Starts the run's transaction and inserts its `runs` and `run_params` rows. Returns run_id.
  std::int64_t begin_run(const RunInfo& info);
  // `m` is null for a rejected request.
  void add_request(const RequestState& r, const RequestMetrics* m);
  void add_iteration(const IterationRecord& it);
  void add_samples(TimeNs now, std::span<const InstanceLoad> loads);
  void add_instance(const InstanceRow& row);
  void add_transfer(const TransferRecord& t);
  void add_migration(const MigrationRecord& m);
  void add_link(const std::string& name, const std::string& kind, double gbps, double bytes,
                double busy_s);
  void add_summary(const std::string& scope, const std::string& metric, double value);
  void add_client_service(const std::vector<FairnessMeter::WindowRow>& rows);
  // Completes the `runs` row and commits.
  void end_run(double wall_s);
  // Rolls the run back (no-op when no run is open).
  void abort_run() noexcept;
  // After a failure: rolls back whatever the run wrote, then records it as a failed run (its
  // `runs` row with the error, and its run_params) in a transaction of its own. Never throws;
  // returns the run_id written, or 0 when even that failed.
  // Seconds spent waiting for another writer's lock (not part of a run's wall time).
  double lock_wait_s() const { return lock_wait_s_; }
  std::int64_t record_failure(const RunInfo& info, double wall_s,
                              const std::string& error) noexcept;
  std::int64_t run_id() const { return run_id_; }
  const std::string& path() const { return path_; }

 private:
  void exec(const char* sql);
  sqlite3_stmt* prepare(const char* sql);
  // A one-off statement, finalized when it goes out of scope.
  struct Finalize {
    void operator()(sqlite3_stmt* st) const;
  };
  using Statement = std::unique_ptr<sqlite3_stmt, Finalize>;
  Statement prepare_once(const char* sql);
  std::int64_t query_int(const char* sql);  // the first column of the first row
  void step_reset(sqlite3_stmt* st);
  void check_bind(int rc);
  void bind_int(sqlite3_stmt* st, int i, std::int64_t v);
  void bind_real(sqlite3_stmt* st, int i, double v);
  void bind_text(sqlite3_stmt* st, int i, const std::string& v);
  void bind_static_text(sqlite3_stmt* st, int i, const char* v);  // v outlives the statement's step
  void bind_null(sqlite3_stmt* st, int i);
  std::int64_t insert_run_row(const RunInfo& info, const char* status);
  // Request rows wait in a staging buffer and are inserted kRequestBatch at a time by one
  // multi-row statement (same rows, same order; the per-statement overhead is paid once).
  struct RequestRow {
    std::int64_t request_id, trace_id, client_id, priority;
    double arrival_s;
    std::int32_t prompt_tokens, output_tokens, cached_tokens;
    InstanceId first_instance_id, instance_id;
    TimeNs first_token_ns, finish_ns;
    bool finished;
    RequestMetrics metrics;
    std::int32_t preemptions, migrations;
    const char* reject_reason;
    InstanceId prefill_instance_id, decode_instance_id;  // −1: NULL
    double kv_transfer_s, bridge_wait_s;                 // < 0: NULL
  };
  static constexpr int kRequestColumns = 26;
  static constexpr std::size_t kRequestBatch = 32;
  // What a statement's parameter holds now: bindings survive sqlite3_reset, so a parameter
  // already holding the value (run_id, zero counts, NULLs, the status text) is not bound again.
  struct Bound {
    enum Kind : std::uint8_t { kUnset, kInt, kReal, kNull, kStaticText } kind = kUnset;
    std::uint64_t bits = 0;  // the int64, the double's bits, or the text's address
  };
  void memo_int(sqlite3_stmt* st, int i, std::int64_t v, Bound& b);
  void memo_real(sqlite3_stmt* st, int i, double v, Bound& b);  // NaN: NULL
  void memo_null(sqlite3_stmt* st, int i, Bound& b);
  void memo_static_text(sqlite3_stmt* st, int i, const char* v, Bound& b);
  // memo: the statement's Bound for parameters base + 1 .. base + kRequestColumns.
  void bind_request(sqlite3_stmt* st, int base, const RequestRow& row, Bound* memo);
  void flush_requests();
  // Transfer rows (one per KV hand-off in a disaggregated run) are staged and inserted the
  // same way, kTransferBatch at a time.
  static constexpr int kTransferColumns = 8;
  static constexpr std::size_t kTransferBatch = 32;
  void bind_transfer(sqlite3_stmt* st, int base, const TransferRecord& t);
  void flush_transfers();
  // Iteration rows (one per batch when output.iterations is on), likewise.
  static constexpr int kIterationColumns = 10;
  static constexpr std::size_t kIterationBatch = 32;
  void bind_iteration(sqlite3_stmt* st, int base, const IterationRecord& row);
  void flush_iterations();
  [[noreturn]] void fail(const std::string& what);

  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_request_ = nullptr;             // one row
  sqlite3_stmt* insert_requests_ = nullptr;            // kRequestBatch rows
  std::vector<Bound> request_bound_, requests_bound_;  // their parameters' values
  static int on_busy(void* self, int attempt);
  double lock_wait_s_ = 0;
  sqlite3_stmt* insert_transfer_ = nullptr;   // one row; prepared at the first flush
  sqlite3_stmt* insert_transfers_ = nullptr;  // kTransferBatch rows; prepared at the first batch
  std::vector<TransferRecord> transfer_rows_;
  sqlite3_stmt* insert_migration_ = nullptr;  // prepared at the first migration
  std::vector<RequestRow> request_rows_;
  sqlite3_stmt* insert_iteration_ = nullptr;   // one row
  sqlite3_stmt* insert_iterations_ = nullptr;  // kIterationBatch rows; prepared at the first batch
  std::vector<IterationRecord> iteration_rows_;
  sqlite3_stmt* insert_sample_ = nullptr;
  sqlite3_stmt* insert_summary_ = nullptr;
  std::int64_t run_id_ = 0;
  bool in_run_ = false;
};

}  // namespace servesim
