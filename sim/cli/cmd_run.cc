// sim/cli/cmd_run.cc — `servesim run SCENARIO.yaml [-o DB] [--set k=v]... [--seed N] [--quiet]`.
#include <boost/program_options.hpp>
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
namespace {

void print_summary(const RunOutcome& out) {
  std::map<std::string, double> m(out.summary.begin(), out.summary.end());
  auto get = [&](const char* k) { return m.count(k) ? m[k] : 0.0; };
  std::printf(
      "scenario %s  seed %llu  requests %lld  (simulated %.1f s in %.2f s wall, %llu events)\n",
      out.scenario.c_str(), static_cast<unsigned long long>(out.seed),
      static_cast<long long>(out.requests), get("makespan_s"), out.wall_s,
      static_cast<unsigned long long>(out.events));
  std::printf("  %-22s %10.0f   %-22s %10.0f\n", "completed", get("requests_completed"), "rejected",
              get("requests_rejected"));
  std::printf("  %-22s %10s %10s %10s\n", "latency (s)", "p50", "p90", "p99");
  std::printf("  %-22s %10.4f %10.4f %10.4f\n", "TTFT", get("ttft_p50_s"), get("ttft_p90_s"),
              get("ttft_p99_s"));
  std::printf("  %-22s %10.4f %10.4f %10.4f\n", "TPOT", get("tpot_p50_s"), get("tpot_p90_s"),
              get("tpot_p99_s"));
  std::printf("  %-22s %10.4f %10.4f %10.4f\n", "TBT", get("tbt_p50_s"), get("tbt_p90_s"),
              get("tbt_p99_s"));
  std::printf("  %-22s %10.4f %10.4f %10.4f\n", "E2E", get("e2e_p50_s"), get("e2e_p90_s"),
              get("e2e_p99_s"));
  std::printf("  %-22s %10.1f   %-22s %10.2f\n", "throughput (tok/s)", get("throughput_tok_s"),
              "throughput (req/s)", get("throughput_req_s"));
  std::printf("  %-22s %10.0f   %-22s %10.1f\n", "preemptions", get("preemptions"),
              "mean batch size", get("mean_batch_size"));
  if (m.count("slo_attainment")) {
    std::printf("  %-22s %10.3f   %-22s %10.2f\n", "SLO attainment", get("slo_attainment"),
                "SLO met (req/s)", get("slo_met_req_s"));
  }
  if (out.prefix_caching) {
    std::printf("  %-22s %10.3f   %-22s %10.0f\n", "prefix hit rate", get("prefix_hit_rate"),
                "prefill tokens", get("prefill_tokens"));
  }
  if (keeps_growing(m, 0.05)) {
    std::printf(
        "  warning: the queue kept growing (served_to_offered %.3f): the cluster cannot keep up\n"
        "  with this rate, and the latencies above grow with the length of the trace\n",
        get("served_to_offered"));
  }
  if (out.run_id > 0)
    std::printf("results: %s (run_id %lld)\n", out.db_path.c_str(),
                static_cast<long long>(out.run_id));
}

}  // namespace

int cmd_run(const Args& args) {
  po::options_description opts(
      "servesim run SCENARIO.yaml [options]\n\nRuns a scenario and appends it to a results "
      "database.\nOptions");
  ScenarioArgs scenario;
  po::positional_options_description pos;
  opts.add_options()("help,h", "show this help")("quiet,q", "no progress line, no summary table")(
      "reproducible",
      "byte-identical database for the same scenario and seed: started_at from SOURCE_DATE_EPOCH "
      "(else 1970), wall_s = 0")(
      "print-config",
      "print the fully resolved scenario (all defaults filled in) and exit without running")(
      "describe",
      "list every parameter of the scenario with its value and meaning, and exit without running");
  scenario.declare(opts, pos);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts
              << "\nExample:\n  servesim run scenarios/quickstart.yaml -o out.db --set "
                 "workload.arrival.rate_per_s=20\n";
    return 0;
  }
  auto tree = scenario.load(vm);
  RunOptions options;
  options.quiet = vm.count("quiet") > 0;
  options.reproducible = vm.count("reproducible") > 0;
  if (vm.count("print-config") || vm.count("describe")) {
    options.build_only = true;  // building the world reads and validates every key
    run_scenario(*tree, options);
    std::cout << (vm.count("describe") ? tree->describe() : tree->resolved_yaml());
    return 0;
  }
  const RunOutcome out = run_scenario(*tree, options);
  if (!options.quiet) print_summary(out);
  return 0;
}

}  // namespace servesim::cli
