// sim/metrics/merge.cc — see merge.h.
#include "sim/metrics/merge.h"

#include <sqlite3.h>

#include "sim/core/output_file.h"
#include "sim/metrics/results_db.h"
#include "sim/metrics/sqlite_sink.h"

namespace servesim {
namespace {

// Copies the rows `select` yields into `insert` (same columns), putting `run_id` into column
// `run_id_column` (-1: none).
void copy_rows(sqlite3* from, sqlite3* to, const std::string& select, const std::string& insert,
               int run_id_column, std::int64_t run_id, const std::string& what) {
  sqlite3_stmt* in = nullptr;
  sqlite3_stmt* out = nullptr;
  auto fail = [&](sqlite3* db) {
    const std::string msg = sqlite3_errmsg(db);
    sqlite3_finalize(in);
    sqlite3_finalize(out);
    throw OutputError(what + ": " + msg);
  };
  if (sqlite3_prepare_v2(from, select.c_str(), -1, &in, nullptr) != SQLITE_OK) fail(from);
  if (sqlite3_prepare_v2(to, insert.c_str(), -1, &out, nullptr) != SQLITE_OK) fail(to);
  int rc;
  while ((rc = sqlite3_step(in)) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(in); ++c) {
      const int b = c == run_id_column
                        ? sqlite3_bind_int64(out, c + 1, run_id)
                        : sqlite3_bind_value(out, c + 1, sqlite3_column_value(in, c));
      if (b != SQLITE_OK) fail(to);
    }
    if (sqlite3_step(out) != SQLITE_DONE) fail(to);
    sqlite3_reset(out);
  }
  if (rc != SQLITE_DONE) fail(from);
  sqlite3_finalize(in);
  sqlite3_finalize(out);
}

}  // namespace

std::vector<std::int64_t> merge_results(const std::string& out_path,
                                        const std::vector<std::string>& inputs,
                                        const MergeOptions& options) {
  checked_output_path(out_path, "merge output");
  { SqliteSink create(out_path); }  // creates the output's schema, or checks its version
  ResultsDb out(out_path);
  // The tables that carry run_id, with their columns, from the output's schema.
  struct Table {
    std::string name;
    std::size_t columns = 0;
    int run_id_column = -1;
  };
  std::vector<Table> tables;
  for (const auto& t :
       out.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
    if (t[0] == "run_sources") continue;
    Table table{t[0], 0, -1};
    for (const auto& c : out.rows("PRAGMA table_info(" + t[0] + ")")) {
      if (c[1] == "run_id") table.run_id_column = static_cast<int>(table.columns);
      ++table.columns;
    }
    if (table.run_id_column >= 0) tables.push_back(table);
  }
  std::vector<std::int64_t> ids;
  out.exec("BEGIN IMMEDIATE");
  try {
    for (const std::string& input : inputs) {
      ResultsDb in(input);
      const auto objects = in.rows("SELECT count(*) FROM sqlite_master");
      if (objects.empty() || objects[0][0] == "0") {
        throw OutputError("'" + input + "' is not a servesim results database (it is empty)");
      }
      const auto version = in.rows("PRAGMA user_version");
      if (version.empty() || version[0][0] != std::to_string(kResultsSchemaVersion)) {
        throw OutputError("'" + input + "' has results schema version " +
                          (version.empty() ? "?" : version[0][0]) +
                          "; this servesim merges version " +
                          std::to_string(kResultsSchemaVersion) +
                          " only (rerun it, or merge with the servesim that wrote it)");
      }
      for (const auto& run : in.rows("SELECT run_id FROM runs ORDER BY run_id")) {
        const std::string old_id = run[0];
        if (options.resume && !out.rows("SELECT 1 FROM run_sources WHERE source = " +
                                        sql_quoted(input) + " AND source_run_id = " + old_id)
                                   .empty()) {
          continue;
        }
        const std::int64_t new_id =
            std::stoll(out.rows("SELECT COALESCE(MAX(run_id), 0) + 1 FROM runs")[0][0]);
        for (const Table& t : tables) {
          std::string placeholders;
          for (std::size_t c = 0; c < t.columns; ++c) placeholders += c ? ",?" : "?";
          copy_rows(in.handle(), out.handle(),
                    "SELECT * FROM " + t.name + " WHERE run_id = " + old_id,
                    "INSERT INTO " + t.name + " VALUES (" + placeholders + ")", t.run_id_column,
                    new_id, "merging '" + input + "' into '" + out_path + "'");
        }
        out.exec("INSERT INTO run_sources VALUES (" + std::to_string(new_id) + ", " +
                 sql_quoted(input) + ", " + old_id + ")");
        ids.push_back(new_id);
      }
    }
    if (std::stoll(out.rows("SELECT count(*) FROM runs")[0][0]) > 1) out.exec(kRunIdIndexesSql);
    out.exec("COMMIT");
  } catch (...) {
    try {
      out.exec("ROLLBACK");
    } catch (...) {
    }
    throw;
  }
  return ids;
}

}  // namespace servesim
