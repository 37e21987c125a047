// sim/cli/cmd_export.cc — `servesim export DB --table T [--format csv|jsonl] [--runs FILTER]
// [-o FILE]`: one table (or view) of a results database as CSV (header row; NULL empty) or JSON
// lines (NULL as null, numbers as numbers), to a file or stdout.
#include <sqlite3.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "sim/cli/commands.h"
#include "sim/config/errors.h"
#include "sim/core/output_file.h"
#include "sim/metrics/results_db.h"

namespace po = boost::program_options;

namespace servesim::cli {
int cmd_export(const Args& args) {
  po::options_description opts(
      "servesim export DB --table T [options]\n\n"
      "Writes one table or view of a results database (e.g. requests, summary, run_overview)\n"
      "as CSV or JSON lines.\nOptions");
  std::string db_path, table, format = "csv", runs, out_path;
  opts.add_options()("help,h", "show this help")("table,t", po::value<std::string>(&table),
                                                 "table or view to export")(
      "format,f", po::value<std::string>(&format)->default_value("csv"), "csv | jsonl")(
      "runs", po::value<std::string>(&runs),
      "only rows of runs matching this SQL condition on the runs table")(
      "output,o", po::value<std::string>(&out_path), "output file (default: stdout)")(
      "db", po::value<std::string>(&db_path), "results database");
  po::positional_options_description pos;
  pos.add("db", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts
              << "\nExample:\n  servesim export results.db --table requests -f jsonl -o r.jsonl\n";
    return 0;
  }
  if (db_path.empty()) throw UsageError("missing the results database");
  if (table.empty()) throw UsageError("give the table: --table T");
  if (format != "csv" && format != "jsonl")
    throw UsageError("--format '" + format + "': expected csv or jsonl");
  if (!std::filesystem::exists(db_path)) throw UsageError("no such database '" + db_path + "'");
  ResultsDb db(db_path, /*read_only=*/true);
  const auto known = db.rows(
      "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND "
      "name = " +
      sql_quoted(table));
  if (known.empty()) {
    std::string names;
    for (const auto& r : db.rows("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                 "ORDER BY name"))
      names += (names.empty() ? "" : ", ") + r[0];
    throw UsageError("--table '" + table + "': no such table or view (there are: " + names + ")");
  }
  bool has_run_id = false;
  for (const auto& c : db.rows("PRAGMA table_info(" + sql_quoted(table) + ")"))
    has_run_id = has_run_id || c[1] == "run_id";
  std::string sql = "SELECT * FROM \"" + table + "\"";
  if (!runs.empty()) {
    if (!has_run_id) throw UsageError("--runs: table '" + table + "' has no run_id column");
    sql += " WHERE run_id IN (SELECT run_id FROM runs WHERE " + runs + ")";
  }
  OutputFile file(out_path.empty() ? "-" : out_path, "-o", /*allow_stdout=*/true);
  std::string chunk;  // buffered, written 1 MiB at a time
  auto flush = [&] {
    if (!chunk.empty() && std::fwrite(chunk.data(), 1, chunk.size(), file.get()) != chunk.size())
      throw OutputError("-o: write error on '" + out_path + "'");
    chunk.clear();
  };
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
    throw UsageError(std::string("--runs: ") + sqlite3_errmsg(db.handle()));
  const int n = sqlite3_column_count(st);
  std::vector<std::string> names;
  for (int c = 0; c < n; ++c) names.emplace_back(sqlite3_column_name(st, c));
  std::ostringstream out;
  if (format == "csv") {
    for (int c = 0; c < n; ++c)
      out << (c ? "," : "") << csv_cell(names[static_cast<std::size_t>(c)]);
    out << "\n";
  }
  std::size_t rows = 0;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (format == "jsonl") out << "{";
    for (int c = 0; c < n; ++c) {
      const int type = sqlite3_column_type(st, c);
      const char* t = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
      const std::string text = t ? t : "";
      if (format == "csv") {
        out << (c ? "," : "") << (type == SQLITE_NULL ? "" : csv_cell(text));
      } else {
        out << (c ? ", " : "") << json_string(names[static_cast<std::size_t>(c)]) << ": ";
        if (type == SQLITE_NULL) {
          out << "null";
        } else if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
          char buf[40];
          if (type == SQLITE_INTEGER) {
            std::snprintf(buf, sizeof buf, "%lld",
                          static_cast<long long>(sqlite3_column_int64(st, c)));
          } else {
            std::snprintf(buf, sizeof buf, "%.17g", sqlite3_column_double(st, c));
          }
          out << buf;
        } else {
          out << json_string(text);
        }
      }
    }
    out << (format == "jsonl" ? "}\n" : "\n");
    ++rows;
    if (out.tellp() > (1 << 20)) {
      chunk = out.str();
      out.str("");
      flush();
    }
  }
  const std::string err = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db.handle());
  sqlite3_finalize(st);
  if (!err.empty()) throw OutputError("export: " + err);
  chunk = out.str();
  flush();
  file.commit();
  if (!out_path.empty())
    std::fprintf(stderr, "export: %zu row(s) of %s → %s\n", rows, table.c_str(), out_path.c_str());
  return 0;
}

}  // namespace servesim::cli
