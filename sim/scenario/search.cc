// sim/scenario/search.cc — see search.h.
#include "sim/scenario/search.h"

#include <algorithm>

#include "sim/config/errors.h"

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

CapacityResult find_capacity(const ScenarioAtRate& make_tree,
                             const std::vector<Objective>& objectives,
                             const CapacityOptions& options, const RunOptions& run_options,
                             const std::function<void(const CapacitySample&)>& on_sample) {
  CapacityResult result;
  auto evaluate = [&](double rate) -> bool {
    auto tree = make_tree(rate);
    for (const Objective& o : objectives) {
      if (o.per_request) tree->set("slo." + o.key, YAML::Node(std::to_string(o.bound)));
    }
    const RunOutcome out = run_scenario(*tree, run_options);
    result.devices = out.devices;
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
    if (on_sample) on_sample(s);
    result.samples.push_back(s);
    return s.pass;
  };
  double rate = options.start_rate, lo = 0, hi = 0;  // lo passes, hi fails
  bool pass = evaluate(rate);
  while (static_cast<int>(result.samples.size()) < options.max_runs) {
    if (pass) {
      lo = rate;
      rate *= 2;
    } else {
      hi = rate;
      rate /= 2;
    }
    if (lo > 0 && hi > 0) break;
    pass = evaluate(rate);
  }
  while (lo > 0 && hi > 0 && (hi - lo) / hi > options.tolerance &&
         static_cast<int>(result.samples.size()) < options.max_runs) {
    const double mid = 0.5 * (lo + hi);
    if (evaluate(mid)) {
      lo = mid;
    } else {
      hi = mid;
    }
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
