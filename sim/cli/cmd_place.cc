// sim/cli/cmd_place.cc — `servesim place SCENARIO.yaml --slo ttft_s<=X --slo tpot_s<=Y ...`:
// DistServe's placement search (ALGORITHMS.md §3.4). For one model on one hardware type it
// enumerates the prefill and decode parallelism choices (TP dividing the attention heads and at
// most a node, PP dividing the layers) whose KV cache holds one max_model_len request, pairs
// them — with low node-affinity (default) a pair must fit one node, so its KV copy runs over the
// node's fabric (DistServe's Algorithm 2 segments); with high affinity any pair within the GPU
// budget — and finds each pair's goodput (1 prefill + 1 decode instance, the distserve batcher,
// the scenario's workload) by simulation and bisection on the arrival rate. The colocated
// baseline (one instance per (TP, PP), `--colocated-batcher`, default vllm) is searched the same
// way. It prints every candidate with its goodput per device, the winner, the best colocated
// configuration and their ratio, and stores every sampled run in the results database (each
// candidate's runs in a shard of its own, merged in candidate order, so the database does not
// depend on -j).
#include <algorithm>
#include <atomic>
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "models/catalog.h"
#include "models/cost/memory.h"
#include "sim/cli/commands.h"
#include "sim/cli/scenario_args.h"
#include "sim/config/errors.h"
#include "sim/metrics/merge.h"
#include "sim/scenario/search.h"

namespace po = boost::program_options;

namespace servesim::cli {
namespace {

struct Shape {
  int tp = 1, pp = 1;
  int devices() const { return tp * pp; }
  std::string text() const { return std::to_string(tp) + "x" + std::to_string(pp); }
};

struct Candidate {
  bool colocated = false;
  Shape prefill, decode;  // colocated: prefill only
  int devices() const {
    return colocated ? prefill.devices() : prefill.devices() + decode.devices();
  }
  CapacityResult result;
};

std::vector<int> divisors(int n, int at_most) {
  std::vector<int> out;
  for (int d = 1; d <= std::min(n, at_most); ++d) {
    if (n % d == 0) out.push_back(d);
  }
  return out;
}

// The cluster section of a candidate.
YAML::Node cluster_of(const Candidate& c, const std::string& model, const std::string& hw,
                      std::int64_t max_model_len, const std::string& colocated_batcher) {
  YAML::Node cluster;
  if (max_model_len > 0) cluster["max_model_len"] = max_model_len;
  auto pool = [&](const char* name, const char* role, const Shape& s, const std::string& batcher) {
    YAML::Node p;
    p["name"] = name;
    p["role"] = role;
    p["hardware"] = hw;
    p["model"] = model;
    p["tensor_parallel"] = s.tp;
    p["pipeline_parallel"] = s.pp;
    YAML::Node b;
    b["impl"] = batcher;
    p["batcher"] = b;
    return p;
  };
  if (c.colocated) {
    cluster["pools"].push_back(pool("colocated", "colocated", c.prefill, colocated_batcher));
  } else {
    cluster["pools"].push_back(pool("prefill", "prefill", c.prefill, "distserve"));
    cluster["pools"].push_back(pool("decode", "decode", c.decode, "distserve"));
  }
  return cluster;
}

}  // namespace

int cmd_place(const Args& args) {
  po::options_description opts(
      "servesim place SCENARIO.yaml --slo ttft_s<=X --slo tpot_s<=Y [options]\n\n"
      "Searches prefill/decode parallelism for the highest goodput per device (DistServe's "
      "placement\n"
      "search), against the best colocated configuration. The scenario gives the "
      "workload.\nOptions");
  std::vector<std::string> slos;
  ScenarioArgs scenario;
  po::positional_options_description pos;
  opts.add_options()("help,h", "show this help")(
      "slo", po::value<std::vector<std::string>>(&slos)->composing(),
      "objective (as capacity): ttft_s<=X, tpot_s<=Y, or a summary metric bound")(
      "attainment", po::value<double>()->default_value(0.9, "0.9"),
      "share of requests meeting ttft_s and tpot_s")(
      "model", po::value<std::string>(), "model (default: the scenario's cluster.model)")(
      "hardware", po::value<std::string>(), "hardware (default: the scenario's cluster.hardware)")(
      "max-gpus", po::value<int>(), "devices one placement may use (default: one node)")(
      "affinity", po::value<std::string>()->default_value("low"),
      "low: a prefill + decode pair must fit one node; high: any pair within --max-gpus")(
      "colocated-batcher", po::value<std::string>()->default_value("vllm"),
      "batcher of the colocated baseline")("max-tp", po::value<int>()->default_value(64),
                                           "largest TP tried")(
      "max-pp", po::value<int>()->default_value(64), "largest PP tried")(
      "rate-key", po::value<std::string>()->default_value("workload.arrival.rate_per_s"),
      "the scenario key holding the arrival rate")("start-rate",
                                                   po::value<double>()->default_value(1.0, "1"),
                                                   "first rate probed per candidate")(
      "tolerance", po::value<double>()->default_value(0.05, "0.05"),
      "bisection stops at this fraction of the rate")("jobs,j", po::value<int>()->default_value(1),
                                                      "candidates searched in parallel (threads)");
  scenario.declare(opts, pos);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts
              << "\nExample:\n  servesim place scenarios/distserve/opt-13b-chatbot.yaml --slo "
                 "ttft_s<=0.25 "
                 "--slo tpot_s<=0.1 -j 2 -o place.db\n";
    return 0;
  }
  if (!vm.count("scenario")) throw UsageError("missing SCENARIO.yaml");
  if (slos.empty()) throw UsageError("give at least one --slo");
  std::vector<Objective> objectives;
  for (const auto& s : slos) objectives.push_back(parse_objective(s));
  const std::string affinity = vm["affinity"].as<std::string>();
  if (affinity != "low" && affinity != "high") throw UsageError("--affinity must be low or high");
  const int jobs = vm["jobs"].as<int>();
  if (jobs < 1 || jobs > 256) throw UsageError("--jobs must be in [1, 256]");

  // Model, hardware and max_model_len from the scenario unless given.
  std::string model_name, hw_name;
  std::int64_t max_model_len = 0;
  {
    auto tree = scenario.load(vm);
    RunOptions probe;
    probe.build_only = true;
    probe.quiet = true;
    run_scenario(*tree, probe);
    const YAML::Node& c = tree->resolved()["cluster"];
    const YAML::Node pool =
        c["pools"] && c["pools"].size() > 0 ? c["pools"][0] : c;  // first pool, or flat
    if (pool["model"]) model_name = pool["model"].as<std::string>();
    if (pool["hardware"]) hw_name = pool["hardware"].as<std::string>();
    if (c["max_model_len"]) max_model_len = c["max_model_len"].as<std::int64_t>();
  }
  if (vm.count("model")) model_name = vm["model"].as<std::string>();
  if (vm.count("hardware")) hw_name = vm["hardware"].as<std::string>();
  if (model_name.empty() || hw_name.empty()) throw UsageError("give --model and --hardware");
  const Catalog& catalog = Catalog::builtin();
  const ModelSpec& model = catalog.model(model_name);
  const HardwareSpec& hw = catalog.hardware(hw_name);
  if (max_model_len <= 0) max_model_len = model.max_context_tokens;
  const int node = hw.devices_per_node;
  const int max_gpus = vm.count("max-gpus") ? vm["max-gpus"].as<int>() : node;

  // Shapes whose KV cache holds one max_model_len request (the scenario's KV defaults).
  std::vector<Shape> shapes;
  for (int tp : divisors(model.num_attention_heads, std::min(node, vm["max-tp"].as<int>()))) {
    for (int pp : divisors(model.num_layers, vm["max-pp"].as<int>())) {
      if (tp * pp > max_gpus) continue;
      Deployment d;
      d.hardware = &hw;
      d.model = &model;
      d.tensor_parallel = tp;
      d.pipeline_parallel = pp;
      const MemoryPlan m = plan_memory(d, 0.9, 2.0 * 1073741824.0, 16);
      if (m.kv_capacity_tokens() >= max_model_len) shapes.push_back(Shape{tp, pp});
    }
  }
  if (shapes.empty())
    throw UsageError(model_name + " does not fit " + std::to_string(max_gpus) + " " + hw_name +
                     " devices");
  std::vector<Candidate> candidates;
  for (const Shape& s : shapes) candidates.push_back(Candidate{true, s, {}, {}});
  for (const Shape& p : shapes) {
    for (const Shape& d : shapes) {
      const int total = p.devices() + d.devices();
      if (total > max_gpus || (affinity == "low" && total > node)) continue;
      candidates.push_back(Candidate{false, p, d, {}});
    }
  }
  std::fprintf(stderr, "[place] %s on %s: %zu candidates (%zu colocated), %d thread(s)\n",
               model_name.c_str(), hw_name.c_str(), candidates.size(), shapes.size(), jobs);

  // Search every candidate; each into its own shard database.
  const std::string out_path = [&] {
    auto tree = scenario.load(vm);
    RunOptions probe;
    probe.build_only = true;
    probe.quiet = true;
    return run_scenario(*tree, probe).db_path;
  }();
  std::vector<std::string> shards(candidates.size());
  for (std::size_t i = 0; i < candidates.size(); ++i)
    shards[i] = out_path + ".place" + std::to_string(i);
  CapacityOptions copt;
  copt.attainment = vm["attainment"].as<double>();
  copt.tolerance = vm["tolerance"].as<double>();
  copt.start_rate = vm["start-rate"].as<double>();
  const std::string rate_key = vm["rate-key"].as<std::string>();
  const std::string colocated_batcher = vm["colocated-batcher"].as<std::string>();
  std::atomic<std::size_t> next{0};
  std::vector<std::string> errors(candidates.size());
  auto worker = [&] {
    for (std::size_t i = next++; i < candidates.size(); i = next++) {
      Candidate& c = candidates[i];
      try {
        std::filesystem::remove(shards[i]);
        auto make = [&](double rate) {
          auto tree = scenario.load(vm);
          tree->set("cluster",
                    cluster_of(c, model_name, hw_name, max_model_len, colocated_batcher));
          char buf[64];
          std::snprintf(buf, sizeof buf, "%.9g", rate);
          tree->set(rate_key, YAML::Node(std::string(buf)));
          tree->set("output.path", YAML::Node(shards[i]));
          tree->set("output.iterations", YAML::Node(false));
          return tree;
        };
        RunOptions ropt;
        ropt.quiet = true;
        c.result = find_capacity(make, objectives, copt, ropt);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < jobs; ++t) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (!errors[i].empty())
      throw std::runtime_error("candidate " + std::to_string(i) + ": " + errors[i]);
  }
  std::vector<std::string> existing;
  for (const std::string& s : shards) {
    if (std::filesystem::exists(s)) existing.push_back(s);
  }
  merge_results(out_path, existing);
  for (const std::string& s : existing) std::filesystem::remove(s);

  // Report.
  std::vector<std::size_t> order(candidates.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const double ga = candidates[a].result.goodput_per_device(),
                 gb = candidates[b].result.goodput_per_device();
    if (ga != gb) return ga > gb;
    return candidates[a].devices() < candidates[b].devices();  // ties: fewer devices
  });
  std::printf("%-11s %-8s %-8s %8s %14s %18s\n", "kind", "prefill", "decode", "devices",
              "goodput_req_s", "per_device_req_s");
  for (std::size_t i : order) {
    const Candidate& c = candidates[i];
    std::printf("%-11s %-8s %-8s %8d %14.4g %18.4g\n", c.colocated ? "colocated" : "disagg",
                c.prefill.text().c_str(), c.colocated ? "-" : c.decode.text().c_str(), c.devices(),
                c.result.goodput, c.result.goodput_per_device());
  }
  const Candidate* best_disagg = nullptr;
  const Candidate* best_colocated = nullptr;
  for (std::size_t i : order) {
    const Candidate& c = candidates[i];
    if (c.colocated && !best_colocated) best_colocated = &c;
    if (!c.colocated && !best_disagg) best_disagg = &c;
  }
  if (best_disagg) {
    std::printf(
        "best disaggregated: prefill TPxPP %s + decode %s on %d devices: %.4g req/s per device",
        best_disagg->prefill.text().c_str(), best_disagg->decode.text().c_str(),
        best_disagg->devices(), best_disagg->result.goodput_per_device());
    const int replicas = max_gpus / best_disagg->devices();
    std::printf(" (%d replica(s) in %d devices: %.4g req/s)\n", replicas, max_gpus,
                replicas * best_disagg->result.goodput);
  }
  if (best_colocated) {
    std::printf("best colocated (%s): TPxPP %s: %.4g req/s per device\n", colocated_batcher.c_str(),
                best_colocated->prefill.text().c_str(),
                best_colocated->result.goodput_per_device());
  }
  if (best_disagg && best_colocated && best_colocated->result.goodput_per_device() > 0) {
    std::printf(
        "disaggregated / colocated goodput per device: %.2fx\n",
        best_disagg->result.goodput_per_device() / best_colocated->result.goodput_per_device());
  }
  std::printf("results: %s\n", out_path.c_str());
  return 0;
}

}  // namespace servesim::cli
