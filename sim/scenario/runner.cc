// sim/scenario/runner.cc — see runner.h.
#include "sim/scenario/runner.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "models/cost/memory.h"
#include "policies/batching/batcher.h"
#include "policies/routing/router.h"
#include "sim/metrics/invariant_checker.h"
#include "sim/metrics/progress.h"
#include "sim/metrics/sqlite_sink.h"
#include "sim/world/cluster.h"

namespace servesim {

std::string default_data_dir() {
  const char* env = std::getenv("SERVESIM_DATA_DIR");
  return env && *env ? env : "../shared/data";
}

namespace {

std::string iso8601_utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string started_at(bool reproducible) {
  if (reproducible) {
    const char* sde = std::getenv("SOURCE_DATE_EPOCH");
    return iso8601_utc(sde ? static_cast<std::time_t>(std::strtoll(sde, nullptr, 10)) : 0);
  }
  return iso8601_utc(std::time(nullptr));
}

// The resolved scenario as stored in `runs`: everything but output.path (where a result is
// written is not part of the experiment; leaving it out keeps same-seed databases identical).
std::string stored_scenario_yaml(const ConfigTree& tree) {
  YAML::Node copy = YAML::Clone(tree.resolved());
  if (copy["output"] && copy["output"].IsMap()) copy["output"].remove("path");
  YAML::Emitter out;
  out << copy;
  return std::string(out.c_str()) + "\n";
}

struct ClusterPlan {
  int instances = 1;
  Deployment deployment;
  MemoryPlan memory;
  std::int64_t max_model_len = 0;
  InstanceOptions instance;
};

ClusterPlan read_cluster(ConfigNode c, const std::string& data_dir) {
  ClusterPlan p;
  const Catalog& catalog = Catalog::builtin();
  p.instances = c.get<int>("instances", 1, "number of model replicas", AtLeast(1));
  const std::string hw = c.get<std::string>("hardware", "h100-sxm", "device type (servesim list hardware)");
  const std::string model = c.get<std::string>("model", "llama-3-8b", "model (servesim list models)");
  try {
    p.deployment.hardware = &catalog.hardware(hw);
  } catch (const ConfigError& e) {
    c.fail("hardware", e.what());
  }
  try {
    p.deployment.model = &catalog.model(model);
  } catch (const ConfigError& e) {
    c.fail("model", e.what());
  }
  const ModelSpec& m = *p.deployment.model;
  p.deployment.tensor_parallel = c.get<int>("tensor_parallel", 1, "devices per pipeline stage (TP degree)", AtLeast(1));
  p.deployment.pipeline_parallel = c.get<int>("pipeline_parallel", 1, "pipeline stages (PP degree)", AtLeast(1));
  if (p.deployment.pipeline_parallel > m.num_layers) {
    c.fail("pipeline_parallel", "exceeds the model's " + std::to_string(m.num_layers) + " layers");
  }
  if (p.deployment.tensor_parallel > p.deployment.hardware->devices_per_node) {
    c.fail("tensor_parallel", "exceeds the " + std::to_string(p.deployment.hardware->devices_per_node) +
                                  " devices of one " + hw + " node");
  }
  p.deployment.data_dir = data_dir;
  p.max_model_len = c.get<std::int64_t>("max_model_len", m.max_context_tokens,
                                        "longest context (prompt + output) served; default: the model's", AtLeast(1));
  if (p.max_model_len > m.max_context_tokens) {
    c.fail("max_model_len", "exceeds " + model + "'s context of " + std::to_string(m.max_context_tokens) + " tokens");
  }
  ConfigNode kv = c.child("kv_cache");
  const int block_size = kv.get<int>("block_size", 16, "tokens per KV block", InRange(1, 1024));
  const double util = kv.get<double>("gpu_memory_utilization", 0.9, "fraction of device memory the engine may use", OpenFraction());
  const double reserve_gib = kv.get<double>("activation_reserve_gib", 2.0,
                                            "memory kept for activations, CUDA graphs and workspace, GiB per device", NonNegative());
  const std::int64_t forced_blocks = kv.get<std::int64_t>("num_blocks", 0, "KV blocks per instance; 0 = from memory accounting", NonNegative());
  p.memory = plan_memory(p.deployment, util, reserve_gib * 1073741824.0, block_size);
  if (forced_blocks > 0) p.memory.kv_blocks = forced_blocks;
  InstanceOptions& io = p.instance;
  io.kv_blocks = p.memory.kv_blocks;
  io.block_size_tokens = block_size;
  io.prefix_caching = kv.get<bool>("enable_prefix_caching", false, "automatic prefix caching of full prompt blocks");
  io.apc_discount_cached_in_admission = kv.get<bool>(
      "apc_discount_cached_in_admission", false,
      "admission counts only the blocks it really takes (vLLM v1 counts the whole prompt: false)");
  const std::string mode = kv.choice("preemption_mode", "recompute", {"recompute", "swap"},
                                     "what a preempted decoding request does: recompute its KV later, or swap it to host memory");
  io.preemption_mode = mode == "swap" ? PreemptionMode::kSwap : PreemptionMode::kRecompute;
  const double swap_gib = kv.get<double>("swap_space_gib", 4.0, "host memory for swapped KV, GiB per device", NonNegative());
  io.swap_blocks = static_cast<std::int64_t>(swap_gib * 1073741824.0 / p.memory.kv_bytes_per_block);
  io.kv_bytes_per_block = p.memory.kv_bytes_per_block;
  io.host_link_bytes_per_ns = p.deployment.hardware->host_link_gbps;
  if (p.memory.kv_capacity_tokens() < p.max_model_len) {
    c.fail(forced_blocks > 0 ? "kv_cache.num_blocks" : "model",
           "the KV cache cannot hold one request of max_model_len = " + std::to_string(p.max_model_len) +
               " tokens: " + p.memory.describe() +
               ". Use more tensor/pipeline parallelism, a larger gpu_memory_utilization, or a smaller max_model_len.");
  }
  return p;
}

}  // namespace

RunOutcome run_scenario(ConfigTree& tree, const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  ConfigNode root = tree.root();
  RunOutcome out;
  const std::string stem = std::filesystem::path(tree.source_name()).stem().string();
  out.scenario = root.get<std::string>("name", stem, "scenario name stored with the run");
  root.get<std::string>("description", "", "free text");
  out.seed = static_cast<std::uint64_t>(root.get<std::int64_t>("seed", 0, "seed of every random stream", NonNegative()));
  const std::string data_dir = root.get<std::string>("data_dir", default_data_dir(),
                                                     "shared data folder (traces/, profiles/); env SERVESIM_DATA_DIR");

  Simulation sim(out.seed);
  ConfigNode cluster_cfg = root.child("cluster");
  const ClusterPlan plan = read_cluster(cluster_cfg, data_dir);
  TraceContext trace_ctx;
  trace_ctx.seed = out.seed;
  trace_ctx.data_dir = data_dir;
  trace_ctx.max_context_tokens = plan.max_model_len;  // for the `truncate` workload transform
  auto source = make_trace_source(root.child("workload"), trace_ctx);
  ConfigNode policies = root.child("policies");
  auto router = make_router(policies.child("router"), RouterContext{plan.instances, out.seed});
  Cluster& cluster = sim.add_component(std::make_unique<Cluster>(sim, std::move(source), std::move(router), plan.max_model_len));
  ConfigNode batcher_cfg = policies.child("batcher");
  ConfigNode cost_cfg = cluster_cfg.child("cost_model");
  const BatcherContext bctx{&plan.deployment, plan.memory.block_size_tokens, plan.memory.kv_blocks, plan.max_model_len};
  for (int i = 0; i < plan.instances; ++i) {
    cluster.add_instance(plan.instance, make_cost_model(cost_cfg, plan.deployment), make_batcher(batcher_cfg, bctx));
  }

  ConfigNode slo_cfg = root.child("slo");
  SloSpec slo;
  slo.ttft_s = slo_cfg.get<double>("ttft_s", 0.0, "TTFT objective, s (0 = none)", NonNegative());
  slo.tpot_s = slo_cfg.get<double>("tpot_s", 0.0, "TPOT objective, s (0 = none)", NonNegative());
  ConfigNode output = root.child("output");
  out.db_path = output.get<std::string>("path", "results.db", "results database (SQLite); -o overrides");
  const bool iterations = output.get<bool>("iterations", true, "write the iterations table");
  const bool check = output.get<bool>("check_invariants", true, "check invariants during and after the run");
  const std::int64_t consistency_every =
      output.get<std::int64_t>("consistency_every", 4096, "iterations between full KV accounting checks", AtLeast(1));
  tree.check_all_consumed();
  if (options.build_only) return out;

  std::unique_ptr<SqliteSink> sink;
  if (options.write_database) {
    sink = std::make_unique<SqliteSink>(out.db_path);
    RunInfo info{out.scenario, stored_scenario_yaml(tree), out.seed, SERVESIM_VERSION, started_at(options.reproducible)};
    out.run_id = sink->begin_run(info);
  }
  MetricsRecorder recorder(sink.get(), iterations, slo);
  cluster.signals().subscribe(&recorder);
  std::unique_ptr<InvariantChecker> checker;
  if (check) {
    checker = std::make_unique<InvariantChecker>(cluster.instance_views(), consistency_every);
    cluster.signals().subscribe(checker.get());
  }
  for (Observer* o : options.extra_observers) cluster.signals().subscribe(o);
  std::unique_ptr<ProgressLine> progress;
  if (!options.quiet && isatty(STDERR_FILENO)) {
    progress = std::make_unique<ProgressLine>();
    cluster.signals().subscribe(progress.get());
  }

  cluster.start();
  sim.run();
  if (progress) progress->clear();
  if (checker) checker->check_end(cluster.requests().live());

  out.summary = recorder.summary();
  out.events = sim.events_processed();
  out.requests = recorder.arrived();
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (sink) {
    for (const auto& [metric, value] : out.summary) sink->add_summary(metric, value);
    sink->end_run("ok", options.reproducible ? 0.0 : out.wall_s);
  }
  return out;
}

}  // namespace servesim
