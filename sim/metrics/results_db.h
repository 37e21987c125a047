// sim/metrics/results_db.h — a thin handle on a results database for the tools that read or
// copy whole runs (merge, sweep resume, report, export): open (read-only or read-write), run
// SQL, get rows as text cells. Errors become OutputError naming the file. Not for the hot path
// (SqliteSink writes runs with prepared statements).
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sim/metrics/sqlite_sink.h"

namespace servesim {

class ResultsDb {
 public:
  explicit ResultsDb(const std::string& path, bool read_only = false) : path_(path) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
      throw UsageError("'" + path + "' is not a regular file (not a results database)");
    const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      const std::string msg = db_ ? sqlite3_errmsg(db_) : "cannot allocate";
      sqlite3_close(db_);
      throw OutputError("cannot open results database '" + path + "': " + msg);
    }
    sqlite3_busy_timeout(db_, 60000);
  }
  ~ResultsDb() { sqlite3_close(db_); }
  ResultsDb(const ResultsDb&) = delete;
  ResultsDb& operator=(const ResultsDb&) = delete;
  sqlite3* handle() { return db_; }
  const std::string& path() const { return path_; }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw OutputError("results database '" + path_ + "': " + msg);
    }
  }
  // Rows of a query, each a vector of text cells (NULL as "").
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      throw OutputError("results database '" + path_ + "': " + sqlite3_errmsg(db_) +
                        " (in: " + sql.substr(0, 200) + ")");
    }
    std::vector<std::vector<std::string>> out;
    int rc = SQLITE_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const unsigned char* t = sqlite3_column_text(st, c);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      out.push_back(std::move(row));
    }
    const std::string msg = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    if (!msg.empty()) throw OutputError("results database '" + path_ + "': " + msg);
    return out;
  }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

// `s` as a CSV cell (quoted when it holds a comma, quote or line break).
inline std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// `s` as a JSON string literal.
inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[(c >> 4) & 0xf];
          out += hex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// `s` as an SQL string literal.
inline std::string sql_quoted(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

}  // namespace servesim
