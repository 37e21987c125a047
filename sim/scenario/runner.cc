// sim/scenario/runner.cc — see runner.h.
#include "sim/scenario/runner.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <numeric>

#include "policies/control/controller.h"
#include "policies/routing/router.h"
#include "sim/core/output_file.h"
#include "sim/metrics/energy.h"
#include "sim/metrics/invariant_checker.h"
#include "sim/metrics/progress.h"
#include "sim/metrics/rescheduling.h"
#include "sim/metrics/sqlite_sink.h"
#include "sim/scenario/pools.h"
#include "sim/world/cluster.h"
#include "sim/world/handoff.h"

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

// Writes everything about a run that completed into `sink` and commits it.
void write_results(SqliteSink& sink, Cluster& cluster, const ClusterPlan& plan,
                   const RunOutcome& out, const std::vector<ScopedRow>& scoped, double wall_s) {
  for (const auto& inst : cluster.instances()) {
    const PoolPlan& pool = plan.pools[static_cast<std::size_t>(inst->pool())];
    InstanceRow row;
    row.instance = inst->id();
    row.pool = pool.spec.name;
    row.role = to_string(pool.spec.role);
    row.hardware = pool.spec.hardware;
    row.model = pool.spec.model;
    row.tensor_parallel = pool.spec.tensor_parallel;
    row.pipeline_parallel = pool.spec.pipeline_parallel;
    row.kv_blocks = inst->kv().total_blocks();
    row.started_ns = cluster.started_ns(inst->id());
    row.stopped_ns = cluster.stopped_ns(inst->id());
    row.node = cluster.topology().node_of(cluster.devices(inst->id()).front());
    sink.add_instance(row);
  }
  // Links that carried something.
  const auto& stats = cluster.network().link_stats();
  for (std::size_t l = 0; l < stats.size(); ++l) {
    if (stats[l].bytes <= 0) continue;
    const Link& link = cluster.topology().link(static_cast<LinkId>(l));
    sink.add_link(link.name, link.kind, link.bytes_per_ns, stats[l].bytes,
                  ns_to_s(stats[l].busy_ns));
  }
  for (const auto& [metric, value] : out.summary) sink.add_summary("run", metric, value);
  for (const ScopedRow& r : scoped) sink.add_summary(r.scope, r.metric, r.value);
  sink.end_run(wall_s);
}

}  // namespace

RunOutcome run_scenario(ConfigTree& tree, const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  auto wall_s = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  };
  ConfigNode root = tree.root();
  RunOutcome out;
  const std::string stem = std::filesystem::path(tree.source_name()).stem().string();
  out.scenario = root.get<std::string>("name", stem, "scenario name stored with the run");
  root.get<std::string>("description", "", "free text");
  out.seed = static_cast<std::uint64_t>(
      root.get<std::int64_t>("seed", 0, "seed of every random stream", NonNegative()));
  const std::string data_dir =
      root.get<std::string>("data_dir", default_data_dir(),
                            "shared data folder (traces/, profiles/); env SERVESIM_DATA_DIR");

  // ---- build the world (every key is read and validated here; nothing is written yet)
  Simulation sim(out.seed);
  ConfigNode cluster_cfg =
      root.child("cluster");  // (first: the resolved scenario keeps file order)
  ConfigNode policies = root.child("policies");
  ClusterPlan plan = read_cluster(cluster_cfg, policies, data_dir);
  TraceContext trace_ctx;
  trace_ctx.seed = out.seed;
  trace_ctx.data_dir = data_dir;
  trace_ctx.max_context_tokens = plan.max_model_len;  // for the `truncate` workload transform
  auto source = make_trace_source(root.child("workload"), trace_ctx);
  if (auto clients = source->known_clients()) {
    plan.known_clients = std::make_shared<const std::vector<std::uint32_t>>(std::move(*clients));
  }
  auto router = make_router(policies.child("router"), RouterContext{});
  Cluster& cluster = sim.add_component(
      std::make_unique<Cluster>(sim, std::move(source), std::move(router), plan.max_model_len,
                                plan.topology, plan.contention));
  build_pools(cluster, plan, options.build_only);
  std::unique_ptr<Handoff> handoff;
  if (plan.disaggregated()) {
    std::vector<Handoff::DecodePool> decode_pools;
    for (std::size_t i = 0; i < plan.pools.size(); ++i) {
      const PoolPlan& p = plan.pools[i];
      if (p.spec.role != InstanceRole::kDecode) continue;
      decode_pools.push_back(
          Handoff::DecodePool{static_cast<int>(i),
                              make_router(*p.router, RouterContext{}, "most_free_kv"),
                              p.accept_waiting_fraction,
                              {}});
    }
    handoff =
        std::make_unique<Handoff>(cluster, std::move(decode_pools),
                                  Handoff::Options{plan.transfer.enabled, plan.transfer.layerwise,
                                                   plan.pools[0].deployment.kv_dtype_bytes});
    cluster.add_listener(handoff.get());
  }
  std::vector<std::unique_ptr<Controller>> controllers;
  for (ConfigNode c : policies.child_list("controllers")) {
    controllers.push_back(make_controller(c, ControllerContext{&cluster}));
    Controller* ctl = controllers.back().get();
    cluster.add_listener(ctl);
    if (ctl->period_ns() > 0)
      cluster.every(ctl->period_ns(), Phase::kControl, [ctl] { ctl->tick(); });
  }

  ConfigNode slo_cfg = root.child("slo");
  SloSpec slo;
  slo.ttft_s = slo_cfg.get<double>("ttft_s", 0.0, "TTFT objective, s (0 = none)", NonNegative());
  slo.tpot_s = slo_cfg.get<double>("tpot_s", 0.0, "TPOT objective, s (0 = none)", NonNegative());
  ConfigNode output = root.child("output");
  out.db_path =
      output.get<std::string>("path", "results.db", "results database (SQLite); -o overrides");
  if (options.write_database)
    out.db_path = checked_output_path(out.db_path, "results database (output.path, -o)");
  const bool iterations = output.get<bool>("iterations", true, "write the iterations table");
  const bool check =
      output.get<bool>("check_invariants", true, "check invariants during and after the run");
  const std::int64_t consistency_every = output.get<std::int64_t>(
      "consistency_every", 4096, "iterations between full KV accounting checks", AtLeast(1));
  const double sample_every_s = output.get<double>(
      "sample_every_s", 0.0,
      "period of the instance_samples table, s of simulated time (0 = no samples)",
      InRange(0.0, 1e6));
  FairnessOptions fairness;
  fairness.window_s =
      output.get<double>("fairness_window_s", 60.0,
                         "window of the client_service table and the windowed service "
                         "difference, s",
                         InRange(1e-3, 1e7));
  fairness.input_weight = output.get<double>(
      "service_input_weight", 1.0, "w_p of the service metric (per prompt token)", NonNegative());
  fairness.output_weight = output.get<double>(
      "service_output_weight", 2.0, "w_q of the service metric (per output token)", NonNegative());
  for (const PoolPlan& p : plan.pools) {
    out.devices += p.instances * p.spec.devices();
    out.prefix_caching = out.prefix_caching || p.instance.prefix_caching;
  }
  tree.check_all_consumed();
  if (options.build_only) return out;

  // ---- run
  std::unique_ptr<SqliteSink> sink;
  RunInfo info{out.scenario,     stored_scenario_yaml(tree),       out.seed,
               SERVESIM_VERSION, started_at(options.reproducible), tree.override_values()};
  if (options.write_database) {
    sink = std::make_unique<SqliteSink>(out.db_path);
    out.run_id = sink->begin_run(info);
  }
  try {
    std::vector<std::string> pool_names;
    for (const Pool& p : cluster.pools()) pool_names.push_back(p.spec.name);
    MetricsRecorder recorder(
        sink.get(), iterations, slo, pool_names,
        [&cluster](InstanceId id) { return cluster.instance(id).pool(); }, fairness);
    cluster.signals().subscribe(&recorder);
    std::vector<EnergyMeter::PoolPower> power;
    for (const PoolPlan& p : plan.pools) {
      power.push_back(EnergyMeter::PoolPower{p.spec.name, p.spec.hw->tdp_w, p.spec.hw->idle_w,
                                             p.usd_per_hour, p.spec.tensor_parallel,
                                             p.spec.pipeline_parallel});
    }
    ReschedulingMeter rescheduling(sink.get());
    cluster.signals().subscribe(&rescheduling);
    EnergyMeter energy(std::move(power),
                       [&cluster](InstanceId id) { return cluster.instance(id).pool(); });
    cluster.signals().subscribe(&energy);
    std::unique_ptr<InvariantChecker> checker;
    if (check) {
      checker = std::make_unique<InvariantChecker>(cluster, consistency_every);
      cluster.signals().subscribe(checker.get());
    }
    for (Observer* o : options.extra_observers) cluster.signals().subscribe(o);
    std::unique_ptr<ProgressLine> progress;
    if (!options.quiet && isatty(STDERR_FILENO)) {
      progress = std::make_unique<ProgressLine>();
      cluster.signals().subscribe(progress.get());
    }
    std::vector<InstanceLoad> loads;
    if (sample_every_s > 0) {
      cluster.every(std::max<TimeNs>(1, s_to_ns(sample_every_s)), Phase::kSample,
                    [&cluster, &loads] {
                      loads.clear();
                      for (const auto& inst : cluster.instances()) {
                        if (inst->state() != InstanceState::kStopped)
                          loads.push_back(inst->load_with_head());
                      }
                      cluster.signals().sample(cluster.sim().now(), loads);
                    });
    }

    cluster.start();
    sim.run();
    if (progress) progress->clear();
    if (checker) {
      checker->check_end(cluster.requests().live());
      if (cluster.network().active_flows() > 0 ||
          (handoff && (handoff->waiting() > 0 || handoff->in_flight() > 0))) {
        throw InvariantViolation("the run ended with KV hand-offs or transfers still in progress");
      }
    }

    out.summary = recorder.summary();
    // The busiest link's share of the makespan (disaggregated runs).
    double busiest_s = 0;
    for (const auto& link : cluster.network().link_stats())
      busiest_s = std::max(busiest_s, ns_to_s(link.busy_ns));
    if (busiest_s > 0) {
      for (const auto& [metric, value] : out.summary) {
        if (metric == "makespan_s" && value > 0) {
          out.summary.emplace_back("link_busy_max_frac", busiest_s / value);
          break;
        }
      }
    }
    out.scoped_summary = recorder.scoped_summary();
    for (const auto& row : rescheduling.summary()) out.summary.push_back(row);
    {
      // Device-hours, energy and cost: every instance is up from its activation to its stop.
      std::vector<double> up_s;
      for (const auto& inst : cluster.instances()) {
        const TimeNs from = cluster.started_ns(inst->id()), to = cluster.stopped_ns(inst->id());
        up_s.push_back(from < 0 ? 0.0 : ns_to_s((to < 0 ? sim.now() : to) - from));
      }
      double completed = 0, output_tokens = 0;
      for (const auto& [metric, value] : out.summary) {
        if (metric == "requests_completed") completed = value;
        if (metric == "output_tokens") output_tokens = value;
      }
      // Instances up on average over the run (each from its activation to its stop).
      const double run_s = ns_to_s(sim.now());
      out.summary.emplace_back(
          "avg_instances",
          run_s > 0 ? std::accumulate(up_s.begin(), up_s.end(), 0.0) / run_s : 0.0);
      for (const ScopedRow& row : energy.rows(up_s, completed, output_tokens)) {
        if (row.scope == "run") {
          out.summary.emplace_back(row.metric, row.value);
        } else {
          out.scoped_summary.push_back(row);
        }
      }
    }
    out.events = sim.events_processed();
    out.requests = recorder.arrived();
    out.wall_s = wall_s() - (sink ? sink->lock_wait_s() : 0.0);
    if (sink)
      write_results(*sink, cluster, plan, out, out.scoped_summary,
                    options.reproducible ? 0.0 : out.wall_s);
  } catch (const std::exception& e) {
    if (sink)
      out.run_id = sink->record_failure(info, options.reproducible ? 0.0 : wall_s(), e.what());
    throw;
  }
  return out;
}

}  // namespace servesim
