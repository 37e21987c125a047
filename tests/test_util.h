// tests/test_util.h — helpers shared by the tests: temporary folders, running the servesim
// binary, building scenarios from YAML text, and reading result databases.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "sim/config/config.h"
#include "sim/scenario/runner.h"

namespace servesim::testing {

// A fresh folder under the system temp dir, removed at destruction.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("servesim_") +
                       (info ? info->test_suite_name() + std::string("_") + info->name() : "t");
    path_ = std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name), std::ios::binary) << text;
    return file(name);
  }

 private:
  std::filesystem::path path_;
};

// True when `s` contains `part`.
inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line from the source root, stdout and stderr together.
inline CliResult run_cli_shell(const std::string& command) {
  const std::string cmd = std::string("cd '") + SERVESIM_SOURCE_DIR + "' && " + command + " 2>&1";
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs build/servesim with `args` (a shell-quoted string) from the source root.
inline CliResult run_cli(const std::string& args) {
  return run_cli_shell(std::string("'") + SERVESIM_BINARY + "' " + args);
}

inline std::shared_ptr<ConfigTree> parse_yaml(const std::string& yaml,
                                              const std::string& name = "test.yaml") {
  return ConfigTree::parse(yaml, name);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Rows of a query as tab-separated text, one line per row (NULL as "NULL", reals as %.9g).
inline std::string query(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "<cannot open " + db_path + ">";
  }
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    out = std::string("<error: ") + sqlite3_errmsg(db) + ">";
  } else {
    while (sqlite3_step(st) == SQLITE_ROW) {
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        if (c) out += '\t';
        switch (sqlite3_column_type(st, c)) {
          case SQLITE_NULL:
            out += "NULL";
            break;
          case SQLITE_INTEGER:
            out += std::to_string(sqlite3_column_int64(st, c));
            break;
          case SQLITE_FLOAT: {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.9g", sqlite3_column_double(st, c));
            out += buf;
            break;
          }
          default:
            out += reinterpret_cast<const char*>(sqlite3_column_text(st, c));
            break;
        }
      }
      out += '\n';
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// A cost model for hand-checked timing: every prefill iteration 10 ms, every decode 5 ms.
inline constexpr const char* kFixedCostYaml =
    "  cost_model: {impl: polynomial, prefill_a_ms: 10, prefill_b_ms: 0, prefill_c_ms: 0, "
    "pipeline_overhead: false,\n"
    "               decode_a_ms: 5, decode_b_ms: 0, decode_c_ms: 0, decode_large_batch: 100000}\n";

// The configuration error that building the scenario `yaml` (nothing is run or written)
// raises, or "<no error>".
inline std::string config_error(const std::string& yaml) {
  try {
    auto tree = parse_yaml(yaml);
    RunOptions opt;
    opt.build_only = true;
    run_scenario(*tree, opt);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

// Runs a scenario given as YAML text into `db`, quietly, with extra observers.
inline RunOutcome run_yaml(const std::string& yaml, const std::string& db,
                           std::vector<Observer*> observers = {}) {
  auto tree = parse_yaml(yaml);
  tree->set("output.path", YAML::Node(db));
  RunOptions opt;
  opt.quiet = true;
  opt.extra_observers = std::move(observers);
  return run_scenario(*tree, opt);
}

}  // namespace servesim::testing
