// sim/cli/cmd_capacity.cc — `servesim capacity SCENARIO.yaml --slo KEY<=VALUE ...`: the highest
// arrival rate at which a scenario still meets its service-level objectives.
//
// Each objective is either a summary metric with a bound (`tbt_p99_s<=0.05`, `ttft_p90_s<=1`,
// `throughput_tok_s>=1000`) or a per-request objective (`ttft_s<=1`, `tpot_s<=0.1`), which sets
// the scenario's slo section and requires `slo_attainment >= --attainment` (joint TTFT and TPOT
// per request, as DistServe counts it). The search (as Sarathi-Serve's capacity search does):
// probe the scenario's own rate, double while it passes (halve while it fails) to bracket the
// capacity, then bisect until the bracket is narrower than --tolerance of the rate. Every
// sampled run goes into the results database. A run whose queue keeps growing
// (served_to_offered < 1 − --stability-tolerance) is infeasible whatever the objectives say.
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
#include "sim/scenario/search.h"

namespace po = boost::program_options;

namespace servesim::cli {
namespace {}  // namespace

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
      "(ttft_s<=1, tpot_s<=0.1)")("attainment", po::value<double>()->default_value(0.9, "0.9"),
                                  "share of requests that must meet the per-request objectives")(
      "rate-key", po::value<std::string>()->default_value("workload.arrival.rate_per_s"),
      "the scenario key holding the arrival rate")("start-rate", po::value<double>(),
                                                   "first rate probed (default: the scenario's)")(
      "tolerance", po::value<double>()->default_value(0.025, "0.025"),
      "stop when the bracket is narrower than this fraction of the rate")(
      "max-runs", po::value<int>()->default_value(24), "most simulations")(
      "stability-tolerance", po::value<double>()->default_value(0.05, "0.05"),
      "a run serving less than 1 - this share of its offered load (served_to_offered: its queue "
      "keeps growing) is infeasible")("no-stability", "judge runs on their objectives alone")(
      "jobs,j", po::value<int>()->default_value(1),
      "rates probed at once per round (threads; shard databases merged after each round)");
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
  for (const auto& s : slos) {
    objectives.push_back(parse_objective(s));
    for (std::size_t i = 0; i + 1 < objectives.size(); ++i) {
      if (objectives[i].key == objectives.back().key)
        throw UsageError("--slo " + objectives.back().key +
                         " is given twice; give each objective once");
    }
  }
  const double attainment = vm["attainment"].as<double>();
  const std::string rate_key = vm["rate-key"].as<std::string>();
  const double tolerance = vm["tolerance"].as<double>();
  const int max_runs = vm["max-runs"].as<int>();
  if (!(attainment > 0 && attainment <= 1)) throw UsageError("--attainment must be in (0, 1]");
  if (!(tolerance > 0 && tolerance < 1)) throw UsageError("--tolerance must be in (0, 1)");

  auto make_tree = [&](double rate) {
    auto tree = scenario.load(vm);
    if (rate > 0) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.9g", rate);
      tree->set(rate_key, YAML::Node(std::string(buf)));
    }
    return tree;
  };
  CapacityOptions copt;
  copt.attainment = attainment;
  copt.tolerance = tolerance;
  copt.max_runs = max_runs;
  copt.jobs = vm["jobs"].as<int>();
  copt.stability_tolerance = vm["stability-tolerance"].as<double>();
  if (!(copt.stability_tolerance >= 0 && copt.stability_tolerance < 1))
    throw UsageError("--stability-tolerance must be in [0, 1)");
  if (vm.count("no-stability")) copt.stability_tolerance = -1;
  if (copt.jobs < 1 || copt.jobs > 256) throw UsageError("--jobs must be in [1, 256]");
  // The scenario's own rate, unless given.
  if (vm.count("start-rate")) {
    copt.start_rate = vm["start-rate"].as<double>();
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
    try {
      copt.start_rate = std::stod(node.Scalar());
    } catch (const std::exception&) {
      throw UsageError("--rate-key " + rate_key + " is '" + node.Scalar() + "', not a rate");
    }
  }
  if (rate_key.substr(rate_key.rfind('.') + 1).find("rate") == std::string::npos) {
    throw UsageError("--rate-key " + rate_key +
                     " is not an arrival rate (its last part names no rate, as in "
                     "workload.arrival.rate_per_s)");
  }
  if (!(copt.start_rate > 0)) throw UsageError("the start rate must be > 0");
  RunOptions ropt;
  ropt.quiet = true;
  const CapacityResult result =
      find_capacity(make_tree, objectives, copt, ropt, [](const CapacitySample& s) {
        std::fprintf(stderr, "[capacity] rate %.4g req/s: %s (run %lld)\n", s.rate,
                     s.pass       ? "meets"
                     : s.unstable ? "unstable (its queue keeps growing)"
                                  : "misses",
                     static_cast<long long>(s.run_id));
      });

  std::printf("%12s %8s %8s", "rate_req_s", "meets", "run_id");
  std::vector<std::string> shown;
  for (const auto& o : objectives) shown.push_back(o.per_request ? "slo_attainment" : o.key);
  for (const char* k : {"served_to_offered", "throughput_req_s", "ttft_p99_s", "tbt_p99_s"}) {
    if (std::find(shown.begin(), shown.end(), k) == shown.end()) shown.push_back(k);
  }
  for (const auto& k : shown) std::printf(" %16s", k.c_str());
  std::printf("\n");
  for (const auto& s : result.samples) {
    std::printf("%12.4g %8s %8lld", s.rate,
                s.pass       ? "yes"
                : s.unstable ? "unstable"
                             : "no",
                static_cast<long long>(s.run_id));
    for (const auto& k : shown) {
      auto it = s.metrics.find(k);
      std::printf(" %16.6g", it == s.metrics.end() ? NAN : it->second);
    }
    std::printf("\n");
  }
  // A search the run budget cut short brackets nothing: say what the figure is worth.
  bool passed_any = false, failed_any = false;
  for (const auto& smp : result.samples) (smp.pass ? passed_any : failed_any) = true;
  if (passed_any && !failed_any) {
    std::fprintf(stderr,
                 "servesim capacity: warning: every sampled rate met the objectives (--max-runs "
                 "%d ran out while doubling): the capacity is at least %.4g req/s, not bracketed\n",
                 max_runs, result.capacity);
  } else if (passed_any && failed_any &&
             result.samples.size() >= static_cast<std::size_t>(max_runs)) {
    std::fprintf(stderr,
                 "servesim capacity: warning: --max-runs %d ran out before the bracket narrowed to "
                 "--tolerance; the capacity is the last passing rate\n",
                 max_runs);
  }
  if (result.capacity > 0) {
    std::printf("capacity: %.4g req/s (highest sampled rate meeting every objective)\n",
                result.capacity);
    std::printf(
        "goodput:  %.4g req/s (attainment crosses %.3g there, interpolated); %d devices: "
        "%.4g req/s per device\n",
        result.goodput, attainment, result.devices, result.goodput_per_device());
  } else {
    std::printf("capacity: 0 req/s (no sampled rate down to %.4g meets the objectives)\n",
                result.samples.empty() ? 0.0 : result.samples.front().rate);
  }
  return 0;
}

}  // namespace servesim::cli
