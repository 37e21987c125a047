// sim/metrics/sqlite_sink.h — writes one run into a results database (schema in the README).
// The whole run is one transaction: rows become visible at end_run(); a run that fails is rolled
// back and leaves no rows (earlier runs in the same file are untouched). Several runs may share
// a database; every table carries run_id. Statements are prepared once.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "sim/world/observer.h"

struct sqlite3;
struct sqlite3_stmt;

namespace servesim {

// The results database cannot be opened/written (bad path, not a database, other schema).
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunInfo {
  std::string scenario;
  std::string scenario_yaml;  // the fully resolved scenario
  std::uint64_t seed = 0;
  std::string version;
  std::string started_at;     // ISO 8601 UTC
};

inline constexpr int kResultsSchemaVersion = 1;

class SqliteSink {
 public:
  // Opens or creates `path` and its tables. Throws OutputError naming the path.
  explicit SqliteSink(const std::string& path);
  ~SqliteSink();
  SqliteSink(const SqliteSink&) = delete;
  SqliteSink& operator=(const SqliteSink&) = delete;

  // Starts the run's transaction and inserts its `runs` row. Returns run_id.
  std::int64_t begin_run(const RunInfo& info);
  void add_request(const RequestState& r);
  void add_iteration(const IterationRecord& it);
  void add_summary(const std::string& metric, double value);
  // Completes the `runs` row and commits.
  void end_run(const std::string& status, double wall_s);
  // Rolls the run back (no-op when no run is open).
  void abort_run() noexcept;
  std::int64_t run_id() const { return run_id_; }
  const std::string& path() const { return path_; }

 private:
  void exec(const char* sql);
  sqlite3_stmt* prepare(const char* sql);
  void step_reset(sqlite3_stmt* st);
  [[noreturn]] void fail(const std::string& what);

  std::string path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_request_ = nullptr;
  sqlite3_stmt* insert_iteration_ = nullptr;
  sqlite3_stmt* insert_summary_ = nullptr;
  std::int64_t run_id_ = 0;
  bool in_run_ = false;
};

}  // namespace servesim
