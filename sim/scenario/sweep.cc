// sim/scenario/sweep.cc — see sweep.h.
#include "sim/scenario/sweep.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sim/config/config.h"
#include "sim/config/errors.h"
#include "sim/metrics/merge.h"
#include "sim/metrics/results_db.h"
#include "sim/metrics/sqlite_sink.h"
#include "sim/scenario/runner.h"

extern char** environ;

namespace servesim {
namespace {

namespace fs = std::filesystem;

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// One-line YAML text of a node (flow style for maps and sequences).
std::string yaml_text(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  YAML::Emitter e;
  e << YAML::Flow << node;
  return e.c_str();
}

// Two YAML texts mean the same value: numbers compared as numbers (5 == 5.0), maps and lists
// element by element, other scalars as text.
bool same_value(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) return false;
  if (a.IsScalar()) {
    if (a.Scalar() == b.Scalar()) return true;
    double x = 0, y = 0;
    try {
      x = a.as<double>();
      y = b.as<double>();
    } catch (const YAML::Exception&) {
      return false;
    }
    return x == y || std::abs(x - y) <= 1e-12 * std::max(std::abs(x), std::abs(y));
  }
  if (a.IsSequence()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same_value(a[i], b[i])) return false;
    return true;
  }
  if (a.IsMap()) {
    if (a.size() != b.size()) return false;
    for (const auto& kv : a) {
      const YAML::Node other = b[kv.first.Scalar()];
      if (!other || !same_value(kv.second, other)) return false;
    }
    return true;
  }
  return a.IsNull() == b.IsNull();
}

bool same_text(const std::string& a, const std::string& b) {
  if (a == b) return true;
  try {
    return same_value(YAML::Load(a), YAML::Load(b));
  } catch (const YAML::Exception&) {
    return false;
  }
}

using Params = std::vector<std::pair<std::string, std::string>>;

// The run_params of every finished ('ok') run of a results database (none when it is absent).
std::vector<Params> finished_runs(const std::string& path) {
  std::vector<Params> out;
  if (!fs::exists(path)) return out;
  ResultsDb db(path, /*read_only=*/true);
  std::string last;
  for (const auto& row :
       db.rows("SELECT r.run_id, p.key, p.value FROM runs r LEFT JOIN run_params p USING (run_id) "
               "WHERE r.status = 'ok' ORDER BY r.run_id, p.key")) {
    if (row[0] != last) out.emplace_back(), last = row[0];
    if (!row[1].empty()) out.back().emplace_back(row[1], row[2]);
  }
  return out;
}

bool present(const SweepVariant& v, const std::vector<Params>& runs) {
  for (const Params& p : runs) {
    if (p.size() != v.overrides.size()) continue;
    bool all = true;
    for (const auto& [key, value] : v.overrides) {
      bool found = false;
      for (const auto& [k, val] : p) {
        if (k == key) {
          found = same_text(value, val);
          break;
        }
      }
      if (!found) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string format_s(double s) {
  char buf[32];
  if (s < 90) {
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  } else if (s < 5400) {
    std::snprintf(buf, sizeof buf, "%.0fm%02.0fs", std::floor(s / 60), std::fmod(s, 60));
  } else {
    std::snprintf(buf, sizeof buf, "%.1fh", s / 3600);
  }
  return buf;
}

}  // namespace

std::string SweepVariant::label() const {
  std::string out;
  for (const auto& [k, v] : swept) out += (out.empty() ? "" : " ") + k + "=" + v;
  return out;
}

SweepAxis parse_axis(const std::string& text, const std::string& option) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError(option + " '" + text + "': expected dotted.key=v1,v2,...");
  SweepAxis axis;
  axis.key = trim(text.substr(0, eq));
  int depth = 0;
  char quote = 0;
  std::string cur;
  for (const char c : text.substr(eq + 1)) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      axis.values.push_back(trim(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  axis.values.push_back(trim(cur));
  for (const std::string& v : axis.values) {
    if (v.empty()) throw UsageError(option + " " + axis.key + ": an empty value in '" + text + "'");
  }
  return axis;
}

SweepSpec load_sweep_file(const std::string& path) {
  auto tree = ConfigTree::load_file(path);  // (parses; errors name the file and line)
  const YAML::Node raw = YAML::LoadFile(path);
  ConfigNode root = tree->root();
  if (!raw.IsMap() || !raw["sweep"])
    root.fail("sweep", "a sweep file is a mapping with one key, sweep: {scenario, grid, ...}");
  for (const auto& kv : raw) {
    if (kv.first.Scalar() != "sweep") root.fail(kv.first.Scalar(), "unknown key; expected sweep");
  }
  ConfigNode sweep = root.child("sweep");
  const YAML::Node body = raw["sweep"];
  static const std::set<std::string> known = {"scenario", "grid",      "zip", "seeds",
                                              "repeats",  "seed_base", "set"};
  for (const auto& kv : body) {
    if (!known.count(kv.first.Scalar())) {
      sweep.fail(kv.first.Scalar(),
                 "unknown key; expected scenario, grid, zip, seeds, repeats, seed_base, set");
    }
  }
  SweepSpec spec;
  if (!body["scenario"] || !body["scenario"].IsScalar())
    sweep.fail("scenario", "required: the base scenario file (relative to this file)");
  fs::path p(body["scenario"].Scalar());
  if (p.is_relative()) p = fs::path(path).parent_path() / p;
  spec.scenario = p.lexically_normal().string();
  if (!fs::exists(spec.scenario)) sweep.fail("scenario", "no such file '" + spec.scenario + "'");
  auto read_axes = [&](const char* key, std::vector<SweepAxis>& out) {
    if (!body[key]) return;
    if (!body[key].IsMap()) sweep.fail(key, "expected a mapping of dotted.key: [values]");
    ConfigNode axes = sweep.child(key);
    for (const auto& kv : body[key]) {
      SweepAxis axis;
      axis.key = kv.first.Scalar();
      if (!kv.second.IsSequence() || kv.second.size() == 0)
        axes.fail(axis.key, "expected a non-empty list of values");
      for (const auto& v : kv.second) axis.values.push_back(yaml_text(v));
      out.push_back(std::move(axis));
    }
  };
  read_axes("grid", spec.grid);
  read_axes("zip", spec.zip);
  if (body["seeds"] && body["repeats"]) sweep.fail("repeats", "give seeds or repeats, not both");
  for (const std::int64_t s : sweep.get<std::vector<std::int64_t>>(
           "seeds", {}, "seeds, the innermost axis", InRange(0, 9.2e18)))
    spec.seeds.push_back(std::to_string(s));
  const std::int64_t repeats = sweep.get<std::int64_t>(
      "repeats", 0, "runs per variant, seeds seed_base .. seed_base + repeats - 1",
      InRange(0, 1e6));
  const std::int64_t base =
      sweep.get<std::int64_t>("seed_base", 0, "first seed of repeats", InRange(0, 9.2e18));
  for (std::int64_t i = 0; i < repeats; ++i) spec.seeds.push_back(std::to_string(base + i));
  if (body["set"]) {
    if (!body["set"].IsMap()) sweep.fail("set", "expected a mapping of dotted.key: value");
    for (const auto& kv : body["set"])
      spec.fixed.emplace_back(kv.first.Scalar(), yaml_text(kv.second));
  }
  return spec;
}

std::vector<SweepVariant> enumerate_variants(const SweepSpec& spec) {
  std::set<std::string> keys;
  for (const auto& [k, v] : spec.fixed) keys.insert(k);
  std::size_t zip_len = 0;
  for (const SweepAxis& a : spec.zip) {
    if (zip_len != 0 && a.values.size() != zip_len) {
      throw UsageError("zip axes must have equal lengths: " + a.key + " has " +
                       std::to_string(a.values.size()) + " values, " + spec.zip[0].key + " has " +
                       std::to_string(zip_len));
    }
    zip_len = a.values.size();
  }
  for (const auto* axes : {&spec.grid, &spec.zip}) {
    for (const SweepAxis& a : *axes) {
      if (a.values.empty()) throw UsageError("axis " + a.key + " has no values");
      if (!keys.insert(a.key).second) throw UsageError("key " + a.key + " is swept twice");
      if (a.key == "seed") throw UsageError("sweep seeds with --seeds / seeds:, not as a key");
    }
  }
  // Mixed-radix counting: grid axes (first slowest), then the zip axis, then seeds.
  std::vector<std::size_t> radix;
  for (const SweepAxis& a : spec.grid) radix.push_back(a.values.size());
  if (zip_len > 0) radix.push_back(zip_len);
  const std::size_t seeds = std::max<std::size_t>(1, spec.seeds.size());
  radix.push_back(seeds);
  std::size_t total = 1;
  for (const std::size_t r : radix) total *= r;
  std::vector<SweepVariant> out;
  out.reserve(total);
  std::vector<std::size_t> digit(radix.size(), 0);
  for (std::size_t index = 0; index < total; ++index) {
    SweepVariant v;
    v.index = index;
    v.overrides = spec.fixed;
    std::size_t d = 0;
    for (const SweepAxis& a : spec.grid) v.swept.emplace_back(a.key, a.values[digit[d++]]);
    if (zip_len > 0) {
      for (const SweepAxis& a : spec.zip) v.swept.emplace_back(a.key, a.values[digit[d]]);
      ++d;
    }
    if (!spec.seeds.empty()) v.swept.emplace_back("seed", spec.seeds[digit[d]]);
    for (const auto& s : v.swept) v.overrides.push_back(s);
    out.push_back(std::move(v));
    for (std::size_t k = radix.size(); k-- > 0;) {  // increment, last axis fastest
      if (++digit[k] < radix[k]) break;
      digit[k] = 0;
    }
  }
  return out;
}

void check_keys(const SweepSpec& spec, const std::vector<SweepVariant>& variants) {
  for (const SweepVariant& v : variants) {
    try {
      auto tree = ConfigTree::load_file(spec.scenario);
      for (const auto& [key, value] : v.overrides) {
        if (key == "seed") {
          tree->set("seed", YAML::Load(value));
        } else {
          tree->apply_override(key + "=" + value);
        }
      }
      RunOptions opt;
      opt.build_only = true;
      run_scenario(*tree, opt);
    } catch (const ConfigError& e) {
      const std::string msg = e.what();
      if (msg.find("unknown key") != std::string::npos)
        throw UsageError("variant " + std::to_string(v.index) + " (" + v.label() + "): " + msg);
    } catch (const std::exception&) {  // anything else shows in the variant's own run
    }
  }
}

std::pair<std::size_t, std::size_t> parse_shard(const std::string& text) {
  const std::size_t slash = text.find('/');
  std::size_t i = 0, n = 0;
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    std::size_t used = 0;
    i = std::stoul(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("trailing");
    n = std::stoul(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw UsageError("--shard '" + text + "': expected i/n with 0 <= i < n");
  }
  if (n == 0 || i >= n) throw UsageError("--shard '" + text + "': expected i/n with 0 <= i < n");
  return {i, n};
}

SweepResult run_sweep(const SweepSpec& spec, const std::vector<SweepVariant>& variants,
                      const SweepOptions& options) {
  SweepResult result;
  const std::vector<Params> done =
      options.resume ? finished_runs(options.output) : std::vector<Params>{};
  std::vector<const SweepVariant*> todo;
  for (const SweepVariant& v : variants) {
    if (v.index % options.shard_count != options.shard_index) continue;
    ++result.variants;
    if (options.resume && present(v, done)) {
      ++result.skipped;
      continue;
    }
    todo.push_back(&v);
  }
  const fs::path shards = fs::path(options.output + ".shards");
  std::error_code ec;
  fs::create_directories(shards, ec);
  if (ec) throw OutputError("cannot create '" + shards.string() + "': " + ec.message());

  struct Child {
    const SweepVariant* v;
    std::string db, log;
  };
  std::map<pid_t, Child> running;
  std::vector<std::string> shard_dbs(todo.size());
  std::size_t next = 0, finished = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto show = [&] {
    if (!options.progress) return;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double eta = finished > 0 ? el / static_cast<double>(finished) *
                                          static_cast<double>(todo.size() - finished)
                                    : 0;
    std::fprintf(stderr, "\rsweep: %zu/%zu variants done, %zu failed, %s elapsed, ETA %s   ",
                 finished, todo.size(), result.failed, format_s(el).c_str(),
                 finished > 0 ? format_s(eta).c_str() : "?");
    std::fflush(stderr);
  };
  std::map<const SweepVariant*, std::size_t> slot;
  for (std::size_t i = 0; i < todo.size(); ++i) slot[todo[i]] = i;

  auto launch = [&](const SweepVariant* v) {
    Child c{v, (shards / ("v" + std::to_string(v->index) + ".db")).string(),
            (shards / ("v" + std::to_string(v->index) + ".log")).string()};
    fs::remove(c.db, ec);
    std::vector<std::string> argv = {options.binary, "run", spec.scenario, "-o", c.db, "--quiet"};
    for (const std::string& a : options.run_args) argv.push_back(a);
    for (const auto& [key, value] : v->overrides) {
      if (key == "seed") {
        argv.push_back("--seed");
        argv.push_back(value);
      } else {
        argv.push_back("--set");
        argv.push_back(key + "=" + value);
      }
    }
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, c.log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, options.binary.c_str(), &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw OutputError("cannot start '" + options.binary + "': " + std::strerror(rc));
    running.emplace(pid, std::move(c));
  };

  // A variant that left no run behind (it could not start: a bad value, exit 2) gets a failed
  // run written here, with its overrides and the child's message.
  auto record_unstarted = [&](const Child& c, int status) {
    bool has_run = false;
    if (fs::exists(c.db)) {
      try {
        has_run = ResultsDb(c.db, true).rows("SELECT count(*) FROM runs")[0][0] != "0";
      } catch (const OutputError&) {  // not a results database: record the failure below
      }
    }
    if (has_run) return;
    std::string message = trim(read_text(c.log));
    while (!message.empty() && message.back() == '\n') message.pop_back();
    if (message.empty()) message = "exit status " + std::to_string(status);
    RunInfo info;
    info.scenario = fs::path(spec.scenario).stem().string();
    info.scenario_yaml = read_text(spec.scenario);
    for (const auto& [key, value] : c.v->overrides) {
      if (key == "seed") {
        try {
          info.seed = std::stoull(value);
        } catch (const std::exception&) {
        }
      }
      info.params.emplace_back(key, value);
    }
    info.version = SERVESIM_VERSION;
    char when[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    info.started_at = when;
    SqliteSink sink(c.db);
    sink.record_failure(info, 0.0, "sweep variant " + std::to_string(c.v->index) + ": " + message);
  };

  show();
  const int jobs = std::max(1, options.jobs);
  while (finished < todo.size()) {
    while (running.size() < static_cast<std::size_t>(jobs) && next < todo.size())
      launch(todo[next++]);
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw OutputError(std::string("waiting for a sweep variant: ") + std::strerror(errno));
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const Child c = it->second;
    running.erase(it);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0) {
      ++result.failed;
      record_unstarted(c, code);
    } else {
      ++result.ran;
    }
    shard_dbs[slot[c.v]] = c.db;
    ++finished;
    show();
  }
  if (options.progress) std::fprintf(stderr, "\n");
  // Merge in index order, then drop the shards (kept if the merge fails).
  std::vector<std::string> inputs;
  for (const std::string& db : shard_dbs) {
    if (fs::exists(db)) inputs.push_back(db);
  }
  if (!inputs.empty()) result.run_ids = merge_results(options.output, inputs);
  for (const SweepVariant* v : todo) {
    fs::remove(shards / ("v" + std::to_string(v->index) + ".db"), ec);
    fs::remove(shards / ("v" + std::to_string(v->index) + ".log"), ec);
  }
  fs::remove(shards, ec);  // only when empty
  return result;
}

}  // namespace servesim
