// sim/cli/cmd_capacity.cc — `servesim capacity SCENARIO.yaml --slo KEY<=VALUE ...`: the highest
// arrival rate at which a scenario still meets its service-level objectives.
//
// Each objective is either a summary metric with a bound (`tbt_p99_s<=0.05`, `ttft_p90_s<=1`,
// `throughput_tok_s>=1000`) or a per-request objective (`ttft_s<=1`, `tpot_s<=0.1`), which sets
// the scenario's slo section and requires `slo_attainment >= --attainment` (joint TTFT and TPOT
// per request, as DistServe counts it). The search (as Sarathi-Serve's capacity search does):
// probe the scenario's own rate, double while it passes (halve while it fails) to bracket the
// capacity, then bisect until the bracket is narrower than --tolerance of the rate. Every
// sampled run goes into the results database.
#include <algorithm>
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>

#include "sim/cli/commands.h"
#include "sim/cli/scenario_args.h"
#include "sim/config/errors.h"
#include "sim/scenario/runner.h"

namespace po = boost::program_options;

namespace servesim::cli {
namespace {

struct Objective {
  std::string key;
  bool at_most = true;  // <= (else >=)
  double bound = 0;
  bool per_request = false;  // ttft_s / tpot_s
};

Objective parse_objective(const std::string& text) {
  Objective o;
  std::size_t pos = text.find("<=");
  if (pos == std::string::npos) {
    pos = text.find(">=");
    o.at_most = false;
  }
  if (pos == std::string::npos || pos == 0)
    throw UsageError("--slo '" + text + "': expected KEY<=VALUE or KEY>=VALUE");
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
  if (o.per_request && !o.at_most)
    throw UsageError("--slo '" + text + "': per-request objectives are upper bounds (<=)");
  return o;
}

struct Sample {
  double rate = 0;
  bool pass = false;
  std::int64_t run_id = 0;
  std::map<std::string, double> metrics;
};

}  // namespace

int cmd_capacity(const Args& args) {
  po::options_description opts(
      "servesim capacity SCENARIO.yaml --slo KEY<=VALUE [--slo ...] [options]\n\n"
      "Finds the highest arrival rate meeting every objective; stores every sampled run.\nOptions");
  std::vector<std::string> slos;
  ScenarioArgs scenario;
  po::positional_options_description pos;
  opts.add_options()("help,h", "show this help")(
      "slo", po::value<std::vector<std::string>>(&slos)->composing(),
      "objective: a summary metric bound (tbt_p99_s<=0.05, ttft_p90_s<=1) or a per-request bound "
      "(ttft_s<=1, tpot_s<=0.1)")("attainment", po::value<double>()->default_value(0.9),
                                  "share of requests that must meet the per-request objectives")(
      "rate-key", po::value<std::string>()->default_value("workload.arrival.rate_per_s"),
      "the scenario key holding the arrival rate")("start-rate", po::value<double>(),
                                                   "first rate probed (default: the scenario's)")(
      "tolerance", po::value<double>()->default_value(0.025),
      "stop when the bracket is narrower than this fraction of the rate")(
      "max-runs", po::value<int>()->default_value(24), "most simulations");
  scenario.declare(opts, pos);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts
              << "\nExample:\n  servesim capacity scenarios/sarathi-vs-vllm/vllm.yaml --slo "
                 "tbt_p99_s<=0.05 -o cap.db\n";
    return 0;
  }
  if (!vm.count("scenario")) throw UsageError("missing SCENARIO.yaml");
  if (slos.empty()) throw UsageError("give at least one --slo");
  std::vector<Objective> objectives;
  for (const auto& s : slos) objectives.push_back(parse_objective(s));
  const double attainment = vm["attainment"].as<double>();
  const std::string rate_key = vm["rate-key"].as<std::string>();
  const double tolerance = vm["tolerance"].as<double>();
  const int max_runs = vm["max-runs"].as<int>();
  if (!(attainment > 0 && attainment <= 1)) throw UsageError("--attainment must be in (0, 1]");
  if (!(tolerance > 0 && tolerance < 1)) throw UsageError("--tolerance must be in (0, 1)");

  auto make_tree = [&](double rate) {
    auto tree = scenario.load(vm);
    for (const auto& o : objectives) {
      if (o.per_request) tree->set("slo." + o.key, YAML::Node(std::to_string(o.bound)));
    }
    if (rate > 0) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.9g", rate);
      tree->set(rate_key, YAML::Node(std::string(buf)));
    }
    return tree;
  };
  // The scenario's own rate.
  double rate = 0;
  if (vm.count("start-rate")) {
    rate = vm["start-rate"].as<double>();
  } else {
    auto tree = make_tree(0);
    RunOptions probe;
    probe.build_only = true;
    probe.quiet = true;
    run_scenario(*tree, probe);
    YAML::Node node = tree->resolved();
    std::size_t start = 0;
    while (node && start <= rate_key.size()) {
      const std::size_t dot = rate_key.find('.', start);
      const std::string part =
          rate_key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      node = node[part];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (!node || !node.IsScalar())
      throw UsageError("scenario has no '" + rate_key + "'; give --rate-key or --start-rate");
    rate = std::stod(node.Scalar());
  }
  if (!(rate > 0)) throw UsageError("the start rate must be > 0");

  std::vector<Sample> samples;
  auto evaluate = [&](double r) -> const Sample& {
    auto tree = make_tree(r);
    RunOptions opt;
    opt.quiet = true;
    const RunOutcome out = run_scenario(*tree, opt);
    Sample s;
    s.rate = r;
    s.run_id = out.run_id;
    s.metrics = std::map<std::string, double>(out.summary.begin(), out.summary.end());
    s.pass = true;
    bool any_per_request = false;
    for (const auto& o : objectives) {
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
    if (any_per_request) s.pass = s.pass && s.metrics["slo_attainment"] >= attainment;
    std::fprintf(stderr, "[capacity] rate %.4g req/s: %s (run %lld)\n", r,
                 s.pass ? "meets" : "misses", static_cast<long long>(s.run_id));
    samples.push_back(s);
    return samples.back();
  };

  double lo = 0, hi = 0;  // lo passes, hi fails
  bool pass = evaluate(rate).pass;
  while (static_cast<int>(samples.size()) < max_runs) {
    if (pass) {
      lo = rate;
      rate *= 2;
    } else {
      hi = rate;
      rate /= 2;
    }
    if (lo > 0 && hi > 0) break;
    pass = evaluate(rate).pass;
  }
  while (lo > 0 && hi > 0 && (hi - lo) / hi > tolerance &&
         static_cast<int>(samples.size()) < max_runs) {
    const double mid = 0.5 * (lo + hi);
    if (evaluate(mid).pass) {
      lo = mid;
    } else {
      hi = mid;
    }
  }

  std::sort(samples.begin(), samples.end(),
            [](const Sample& a, const Sample& b) { return a.rate < b.rate; });
  std::printf("%12s %6s %8s", "rate_req_s", "meets", "run_id");
  std::vector<std::string> shown;
  for (const auto& o : objectives) shown.push_back(o.per_request ? "slo_attainment" : o.key);
  for (const char* k : {"throughput_req_s", "ttft_p99_s", "tbt_p99_s"}) {
    if (std::find(shown.begin(), shown.end(), k) == shown.end()) shown.push_back(k);
  }
  for (const auto& k : shown) std::printf(" %16s", k.c_str());
  std::printf("\n");
  for (const auto& s : samples) {
    std::printf("%12.4g %6s %8lld", s.rate, s.pass ? "yes" : "no",
                static_cast<long long>(s.run_id));
    for (const auto& k : shown) {
      auto it = s.metrics.find(k);
      std::printf(" %16.6g", it == s.metrics.end() ? NAN : it->second);
    }
    std::printf("\n");
  }
  if (lo > 0) {
    std::printf(
        "capacity: %.4g req/s (highest sampled rate meeting every objective; bracket [%.4g, "
        "%.4g])\n",
        lo, lo, hi > 0 ? hi : lo);
  } else {
    std::printf("capacity: 0 req/s (no sampled rate down to %.4g meets the objectives)\n", hi);
  }
  return 0;
}

}  // namespace servesim::cli
