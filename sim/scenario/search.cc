// sim/scenario/search.cc — see search.h.
#include "sim/scenario/search.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <thread>

#include "sim/config/errors.h"
#include "sim/metrics/merge.h"

namespace servesim {

Objective parse_objective(const std::string& text) {
  Objective o;
  std::size_t pos = text.find("<=");
  if (pos == std::string::npos) {
    pos = text.find(">=");
    o.at_most = false;
  }
  if (pos == std::string::npos || pos == 0) {
    throw UsageError("--slo '" + text + "': expected KEY<=VALUE or KEY>=VALUE");
  }
  o.key = text.substr(0, pos);
  const std::string value = text.substr(pos + 2);
  try {
    std::size_t used = 0;
    o.bound = std::stod(value, &used);
    if (used != value.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw UsageError("--slo '" + text + "': '" + value + "' is not a number");
  }
  o.per_request = o.key == "ttft_s" || o.key == "tpot_s";
  if (o.per_request && !o.at_most) {
    throw UsageError("--slo '" + text + "': per-request objectives are upper bounds (<=)");
  }
  return o;
}

bool keeps_growing(const std::map<std::string, double>& metrics, double tolerance) {
  auto get = [&](const char* key) {
    const auto it = metrics.find(key);
    return it == metrics.end() ? std::nan("") : it->second;
  };
  const double served = get("served_to_offered"), in_system = get("mean_in_system");
  const double growth = (1.0 - served) * get("requests_arrived") / 2;
  // NaN (a run too short to tell) compares false: not judged.
  return served < 1.0 - tolerance && growth > 3 * std::sqrt(2 * in_system + 1);
}

CapacityResult find_capacity(const ScenarioAtRate& make_tree,
                             const std::vector<Objective>& objectives,
                             const CapacityOptions& options, const RunOptions& run_options,
                             const std::function<void(const CapacitySample&)>& on_sample) {
  CapacityResult result;
  // Where the runs go; with parallel probes each writes a shard of its own, merged per round.
  std::string db_path;
  if (options.jobs > 1 && run_options.write_database) {
    RunOptions probe = run_options;
    probe.build_only = true;
    db_path = run_scenario(*make_tree(options.start_rate), probe).db_path;
  }
  // One probe: its sample (the run id is the shard's until the round is merged).
  auto probe = [&](double rate, const std::string& shard) -> CapacitySample {
    auto tree = make_tree(rate);
    for (const Objective& o : objectives) {
      if (o.per_request) tree->set("slo." + o.key, YAML::Node(std::to_string(o.bound)));
    }
    if (!shard.empty()) tree->set("output.path", YAML::Node(shard));
    const RunOutcome out = run_scenario(*tree, run_options);
    CapacitySample s;
    s.rate = rate;
    s.run_id = out.run_id;
    s.metrics = std::map<std::string, double>(out.summary.begin(), out.summary.end());
    s.pass = true;
    bool any_per_request = false;
    for (const Objective& o : objectives) {
      if (o.per_request) {
        any_per_request = true;
        continue;
      }
      auto it = s.metrics.find(o.key);
      if (it == s.metrics.end()) {
        std::string known;
        for (const auto& [k, v] : s.metrics) known += " " + k;
        throw UsageError("--slo: unknown summary metric '" + o.key + "'; metrics are:" + known);
      }
      s.pass = s.pass && (o.at_most ? it->second <= o.bound : it->second >= o.bound);
    }
    if (any_per_request) s.pass = s.pass && s.metrics["slo_attainment"] >= options.attainment;
    if (options.stability_tolerance >= 0 && keeps_growing(s.metrics, options.stability_tolerance)) {
      s.unstable = true;
      s.pass = false;
    }
    result.devices = out.devices;
    return s;
  };
  // A round: the rates probed at once (one thread each), recorded in rate order.
  auto round = [&](std::vector<double> rates) {
    std::sort(rates.begin(), rates.end());
    std::vector<CapacitySample> got(rates.size());
    if (rates.size() == 1 || options.jobs <= 1) {
      for (std::size_t i = 0; i < rates.size(); ++i) got[i] = probe(rates[i], "");
    } else {
      std::vector<std::string> shards(rates.size()), errors(rates.size());
      std::vector<std::thread> threads;
      for (std::size_t i = 0; i < rates.size(); ++i) {
        if (!db_path.empty()) shards[i] = db_path + ".probe" + std::to_string(i);
        threads.emplace_back([&, i] {
          try {
            std::filesystem::remove(shards[i]);
            got[i] = probe(rates[i], shards[i]);
          } catch (const std::exception& e) {
            errors[i] = e.what();
          }
        });
      }
      for (std::thread& t : threads) t.join();
      std::vector<std::string> written;
      for (const std::string& sh : shards) {
        if (!sh.empty() && std::filesystem::exists(sh)) written.push_back(sh);
      }
      if (!written.empty()) {
        const std::vector<std::int64_t> ids = merge_results(db_path, written);
        for (std::size_t i = 0; i < got.size() && i < ids.size(); ++i) got[i].run_id = ids[i];
        for (const std::string& sh : written) std::filesystem::remove(sh);
      }
      for (const std::string& e : errors) {
        if (!e.empty()) throw UsageError(e);
      }
    }
    for (const CapacitySample& s : got) {
      if (on_sample) on_sample(s);
      result.samples.push_back(s);
    }
    return got;
  };
  const int k = std::max(1, options.jobs);
  auto left = [&] { return options.max_runs - static_cast<int>(result.samples.size()); };
  double lo = 0, hi = 0;  // the highest passing and the lowest failing rate so far
  auto absorb = [&](const std::vector<CapacitySample>& got) {
    for (const CapacitySample& s : got) {
      if (s.pass && s.rate > lo && (hi == 0 || s.rate < hi)) lo = s.rate;
      if (!s.pass && (hi == 0 || s.rate < hi)) hi = s.rate;
    }
    if (hi > 0 && lo >= hi) lo = 0;  // not monotone here: keep bracketing below hi
  };
  // Halving is pointless once a failing run had less than one request in the system on average:
  // its latencies are already the unloaded ones (and ever lower rates stretch a finite trace
  // toward the simulator's 10^9 s horizon).
  auto fails_unloaded = [&](double rate) {
    for (const CapacitySample& s : result.samples) {
      if (s.rate != rate || s.pass) continue;
      const auto it = s.metrics.find("mean_in_system");
      return it != s.metrics.end() && it->second < 1.0;
    }
    return false;
  };
  // Bracket: the start rate (and, with k probes, the rates doubling above it), then doubling
  // up while everything passes or halving down while everything fails.
  {
    std::vector<double> rates = {options.start_rate};
    for (int i = 1; i < k && i < left(); ++i) rates.push_back(options.start_rate * std::pow(2, i));
    absorb(round(rates));
  }
  while ((lo == 0 || hi == 0) && left() > 0) {
    std::vector<double> rates;
    for (int i = 1; i <= k && i <= left(); ++i) {
      rates.push_back(hi == 0 ? std::max(lo, options.start_rate) * std::pow(2, i)
                              : hi / std::pow(2, i));
    }
    absorb(round(rates));
    if (hi > 0 && hi / std::pow(2, k) < 1e-9 && lo == 0) break;  // nothing passes
    if (lo == 0 && hi > 0 && fails_unloaded(hi)) break;
  }
  // Bisect (k-section): k rates spread evenly inside the bracket per round.
  while (lo > 0 && hi > 0 && (hi - lo) / hi > options.tolerance && left() > 0) {
    std::vector<double> rates;
    const int n = std::min(k, left());
    for (int j = 1; j <= n; ++j) rates.push_back(lo + (hi - lo) * j / (n + 1));
    absorb(round(rates));
  }
  std::sort(result.samples.begin(), result.samples.end(),
            [](const CapacitySample& a, const CapacitySample& b) { return a.rate < b.rate; });
  result.capacity = lo;
  result.goodput = lo;
  const bool per_request = std::any_of(objectives.begin(), objectives.end(),
                                       [](const Objective& o) { return o.per_request; });
  if (per_request && lo > 0 && hi > 0) {
    // Where attainment crosses the target between the last pass and the first failure.
    const CapacitySample *a = nullptr, *b = nullptr;
    for (const CapacitySample& s : result.samples) {
      if (s.rate == lo) a = &s;
      if (s.rate == hi) b = &s;
    }
    if (a && b) {
      const double ya = a->metrics.at("slo_attainment"), yb = b->metrics.at("slo_attainment");
      if (ya > yb && ya >= options.attainment && yb < options.attainment) {
        result.goodput = a->rate + (b->rate - a->rate) * (ya - options.attainment) / (ya - yb);
      }
    }
  }
  return result;
}

}  // namespace servesim
