// tests/llumnix_test.cc — Llumnix (ALGORITHMS.md §5): the freeness formulas on hand-made loads,
// dispatch to the freest instance, the live-migration protocol's timing on an idle link, its
// abort paths (nothing pre-allocated is left behind), transparency (same tokens with and without
// migration), the property tests of §5.7 on simulated runs, auto-scaling, determinism with
// controllers, and configuration errors.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "policies/control/freeness.h"
#include "policies/routing/router.h"
#include "sim/scenario/runner.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::query;
using testing::TempDir;

// ---------------------------------------------------------------- freeness (pure functions)

InstanceLoad load(std::int64_t free, std::int64_t running, std::int64_t waiting,
                  std::int64_t head = 0, std::int64_t demand = 0) {
  InstanceLoad l;
  l.kv_total_blocks = 1000;
  l.kv_free_blocks = free;
  l.watermark_blocks = 10;
  l.running = running;
  l.waiting = waiting;
  l.head_demand_blocks = head;
  l.waiting_demand_blocks = demand;
  return l;
}

TEST(Freeness, TheThreeFormulasOfThePublicCode) {
  // avail = 510 − 10 = 500; migrate with defrag: (500 − 40) / (4 + 1); without: 500 / 4;
  // dispatch: (500 − 100) / (4 + 3).
  const InstanceLoad l = load(510, 4, 3, 40, 100);
  EXPECT_DOUBLE_EQ(llumnix::migrate_freeness(l, true), 460.0 / 5);
  EXPECT_DOUBLE_EQ(llumnix::migrate_freeness(l, false), 500.0 / 4);
  EXPECT_DOUBLE_EQ(llumnix::dispatch_freeness(l), 400.0 / 7);
  // Nothing running or waiting: +∞; defrag off with only waiting requests: +∞ too (the code).
  EXPECT_EQ(llumnix::dispatch_freeness(load(510, 0, 0)), llumnix::kInf);
  EXPECT_EQ(llumnix::migrate_freeness(load(510, 0, 0), true), llumnix::kInf);
  EXPECT_EQ(llumnix::migrate_freeness(load(510, 0, 2, 40, 80), false), llumnix::kInf);
  EXPECT_DOUBLE_EQ(llumnix::migrate_freeness(load(510, 0, 2, 40, 80), true), 460.0);
}

TEST(Freeness, PriorityHeadroomAndDrainingAreVirtualUsage) {
  InstanceLoad l = load(510, 4, 0);
  l.high_priority = 2;
  EXPECT_DOUBLE_EQ(llumnix::dispatch_freeness(l, 50), (500.0 - 100) / 4);
  EXPECT_DOUBLE_EQ(llumnix::migrate_freeness(l, true, 50), (500.0 - 100) / 4);
  EXPECT_DOUBLE_EQ(llumnix::dispatch_freeness(l, 0), 500.0 / 4) << "headroom off";
  l.state = InstanceState::kDraining;
  EXPECT_EQ(llumnix::dispatch_freeness(l), -llumnix::kInf);
  EXPECT_EQ(llumnix::migrate_freeness(l, true), -llumnix::kInf);
}

TEST(Freeness, PooledFreenessLeavesOutOneInstancesBlocksButNotItsRequests) {
  const std::vector<InstanceLoad> loads = {load(110, 2, 0), load(210, 0, 1, 0, 50)};
  EXPECT_DOUBLE_EQ(llumnix::pooled_freeness(loads), (100.0 + 200 - 50) / 3);
  EXPECT_DOUBLE_EQ(llumnix::pooled_freeness(loads, 1), (100.0 - 50) / 3);
  EXPECT_EQ(llumnix::pooled_freeness({}), llumnix::kInf);
}

// ---------------------------------------------------------------- dispatch (§5.7 (6))

// Wraps the `llumnix` router and checks every choice against the freeness of all candidates.
int g_checked_routes = 0;
class CheckedLlumnixRouter final : public Router {
 public:
  CheckedLlumnixRouter(ConfigNode& cfg, const RouterContext& ctx) {
    auto tree = testing::parse_yaml("{impl: llumnix, mode: load, refresh_s: 0}");
    inner_ = make_router(tree->root(), ctx);
    (void)cfg;
  }
  InstanceId route(const RequestState& r, std::span<const Instance* const> candidates) override {
    const InstanceId chosen = inner_->route(r, candidates);
    double best = -llumnix::kInf, chosen_f = 0;
    for (const Instance* c : candidates) {
      const double f = llumnix::dispatch_freeness(c->load());
      best = std::max(best, f);
      if (c->id() == chosen) chosen_f = f;
    }
    EXPECT_EQ(chosen_f, best) << "request " << r.request_id << " went to a less free instance";
    ++g_checked_routes;
    return chosen;
  }

 private:
  std::unique_ptr<Router> inner_;
};
SERVESIM_REGISTER(Router, CheckedLlumnixRouter, "test_checked_llumnix",
                  "(test) llumnix load dispatch, checked against every candidate's freeness")

// A bursty long/short mix on `instances` LLaMA-2-7B A10 instances: Gamma arrivals (CV 3), Zipf
// prompt and output lengths (Llumnix's L and M mixes, capped at 2048 each to fit the model's
// 4096-token context), KV small enough to fill.
std::string bursty(const std::string& router, const std::string& controllers, int instances = 4,
                   int requests = 600, double rate = 5.0) {
  return "seed: 5\n"
         "workload:\n  impl: synthetic\n  num_requests: " +
         std::to_string(requests) +
         "\n  arrival: {impl: gamma, rate_per_s: " + std::to_string(rate) +
         ", cv: 3}\n"
         "  prompt_tokens: {impl: zipf, min: 1, max: 1023, exponent: 1.15, rescale_mean: 512,"
         " rescale_max: 2048}\n"
         "  output_tokens: {impl: zipf, min: 1, max: 511, exponent: 1.5, rescale_mean: 256,"
         " rescale_max: 2048}\n"
         "cluster: {instances: " +
         std::to_string(instances) +
         ", hardware: a10, model: llama-2-7b,"
         " kv_cache: {block_size: 16, num_blocks: 800}, cost_model: {impl: roofline},"
         " topology: {nic: per_node}}\n"
         "policies:\n  batcher: {impl: vllm, max_num_seqs: 256}\n  router: " +
         router + "\n  controllers: " + controllers +
         "\n"
         "output: {iterations: false, sample_every_s: 0.5, consistency_every: 64}\n";
}

TEST(LlumnixDispatch, LoadModeAlwaysPicksTheMaxFreenessInstance) {
  TempDir dir;
  g_checked_routes = 0;
  testing::run_yaml(bursty("{impl: test_checked_llumnix}", "[]", 4, 200), dir.file("r.db"));
  EXPECT_EQ(g_checked_routes, 200);
}

// Llumnix dispatches on loads refreshed every 50 ms: a burst inside one refresh herds onto one
// instance; read live, it spreads.
TEST(LlumnixDispatch, StaleLoadsHerdABurstOntoOneInstance) {
  TempDir dir;
  auto instances_used = [&](const std::string& refresh) {
    const std::string db = dir.file("h" + refresh + ".db");
    testing::run_yaml(
        "workload: {impl: inline, arrival_s: [0, 0.01, 0.02, 0.03, 0.06, 0.07],"
        " prompt_tokens: [100, 100, 100, 100, 100, 100], output_tokens: [50, 50, 50, 50, 50, 50]}\n"
        "cluster:\n  instances: 4\n" +
            std::string(testing::kFixedCostYaml) +
            "policies: {router: {impl: llumnix, refresh_s: " + refresh + "}}\n",
        db);
    return query(db, "SELECT group_concat(first_instance_id, ' ') FROM requests");
  };
  EXPECT_EQ(instances_used("0.05"), "0 0 0 0 1 1\n");
  EXPECT_EQ(instances_used("0"), "0 1 2 3 0 1\n");
}

double metric(const std::string& db, const std::string& name) {
  const std::string v =
      query(db, "SELECT value FROM summary WHERE scope = 'run' AND metric = '" + name + "'");
  return v.empty() ? std::nan("") : std::stod(v);
}

// ---------------------------------------------------------------- the protocol on an idle link

// One request (prompt 160 tokens = 10 blocks, `output` tokens) on instance 0 of two; the link
// between them (same node) is 1 GB/s with 100 us latency; prefill 10 ms, decode steps 5 ms.
// With `prefill_relaxed` pairing and T = −10⁹ the busy instance is a source and the idle one a
// destination at the first poll (50 ms).
std::string one_request(const std::string& migration, int output = 12) {
  return std::string(
             "workload: {impl: inline, arrival_s: [0], prompt_tokens: [160], output_tokens: [") +
         std::to_string(output) +
         "]}\n"
         "cluster:\n  instances: 2\n  topology: {fabric_gbps: 1, fabric_latency_us: 100}\n" +
         testing::kFixedCostYaml +
         "policies:\n  controllers:\n    - {impl: llumnix_migration, pairing: prefill_relaxed,"
         " migrate_out_threshold: -1e9, " +
         migration + "}\noutput: {consistency_every: 1}\n";
}

// KV bytes of one 16-token block of llama-3-8b (the default model): 2 × 32 × 8 × 128 × 2 × 16.
constexpr double kBlockBytes = 2.0 * 32 * 8 * 128 * 2 * 16;

TEST(LlumnixMigration, BlockingCopyTimeIsBlocksOverTheLinkAndShowsAsTheTbtGap) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  testing::run_yaml(one_request("mode: blocking"), db);
  EXPECT_EQ(query(db,
                  "SELECT request_id, src_instance, dst_instance, mode, start_s, stages, outcome, "
                  "abort_reason FROM migrations"),
            "0\t0\t1\tblocking\t0.05\t1\tdone\tNULL\n");
  // At 50 ms the request has 9 tokens out: 160 + 9 − 1 = 168 tokens of KV in 11 blocks.
  EXPECT_EQ(query(db, "SELECT blocks, tokens FROM migrations"), "11\t169\n");
  const double copy_s = 11 * kBlockBytes / 1e9 + 100e-6;
  EXPECT_NEAR(std::stod(query(db, "SELECT downtime_s FROM migrations")), copy_s, 1e-9);
  EXPECT_NEAR(std::stod(query(db, "SELECT end_s - start_s FROM migrations")), copy_s, 1e-9);
  // The next token comes one 5 ms step after it lands on the idle destination.
  EXPECT_NEAR(std::stod(query(db, "SELECT max_tbt_s FROM requests")), copy_s + 0.005, 1e-9);
  EXPECT_EQ(query(db, "SELECT first_instance_id, instance_id, migrations, status FROM requests"),
            "0\t1\t1\tfinished\n");
  // Transparent: 11 decode tokens in all, 8 on the source and 3 on the destination.
  EXPECT_EQ(query(db, "SELECT instance_id, sum(decode_tokens) FROM iterations GROUP BY 1"),
            "0\t8\n1\t3\n");
}

TEST(LlumnixMigration, LiveMigrationStopsTheRequestOnlyForTheFinalStage) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // 40 tokens: the request keeps moving between the two instances at every poll; every move
  // must be invisible in its tokens.
  testing::run_yaml(one_request("mode: live, last_stage_max_blocks: 1", 40), db);
  // The first move: at 50 ms stage 1 copies 10 of the 11 blocks (not the one being written)
  // while the request decodes (tokens at 55 … 70 ms stay in block 11); it lands at 71.07 ms,
  // stage 2 waits for the step ending at 75 ms, stops the request and copies the last block.
  const double stage1_s = 10 * kBlockBytes / 1e9 + 100e-6;
  const double final_s = kBlockBytes / 1e9 + 100e-6;
  EXPECT_LT(0.05 + stage1_s, 0.075);
  EXPECT_EQ(query(db,
                  "SELECT src_instance, dst_instance, stages, blocks, outcome FROM migrations "
                  "ORDER BY start_s LIMIT 1"),
            "0\t1\t2\t11\tdone\n");
  EXPECT_NEAR(std::stod(query(db, "SELECT downtime_s FROM migrations ORDER BY start_s LIMIT 1")),
              final_s, 1e-9);
  EXPECT_NEAR(std::stod(query(db, "SELECT end_s FROM migrations ORDER BY start_s LIMIT 1")),
              0.075 + final_s, 1e-9);
  // Transparent: 39 decode tokens over however many moves, and no gap longer than a final
  // stage plus one step (the destination is idle when the request lands).
  EXPECT_EQ(query(db, "SELECT sum(decode_tokens) FROM iterations"), "39\n");
  const int moves = std::stoi(query(db, "SELECT count(*) FROM migrations WHERE outcome = 'done'"));
  EXPECT_GE(moves, 2);
  EXPECT_EQ(query(db, "SELECT migrations, status FROM requests"),
            std::to_string(moves) + "\tfinished\n");
  EXPECT_LE(std::stod(query(db, "SELECT max(downtime_s) FROM migrations")), 2 * final_s);
  EXPECT_LT(std::stod(query(db, "SELECT max_tbt_s FROM requests")), 0.005 + 2 * final_s);
}

TEST(LlumnixMigration, RecomputeReprefillsPromptAndGeneratedOnTheDestination) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  testing::run_yaml(one_request("mode: recompute"), db);
  EXPECT_EQ(query(db, "SELECT stages, blocks, downtime_s, outcome FROM migrations"),
            "1\t0\tNULL\tdone\n");
  // The destination prefills 160 + 9 tokens, and its prefill emits the 10th token.
  EXPECT_EQ(query(db,
                  "SELECT instance_id, sum(prefill_tokens), sum(decode_tokens) FROM "
                  "iterations GROUP BY 1"),
            "0\t160\t8\n1\t169\t2\n");
  EXPECT_EQ(query(db, "SELECT migrations, status, output_tokens FROM requests"),
            "1\tfinished\t12\n");
}

// ---------------------------------------------------------------- aborts leak nothing (§5.7 (3))

TEST(LlumnixMigration, ARequestFinishingDuringAStageAbortsAndFreesThePreallocation) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // 12 tokens: the last one comes at 65 ms, while stage 1 (10 blocks, 21 ms) is still copying.
  testing::run_yaml(one_request("mode: live, last_stage_max_blocks: 1", 12), db);
  EXPECT_EQ(query(db, "SELECT stages, outcome, abort_reason FROM migrations"),
            "1\taborted\tsrc_finished\n");
  EXPECT_EQ(query(db, "SELECT migrations, status, instance_id FROM requests"), "0\tfinished\t0\n");
  // (The invariant checker, on in these runs, also fails the run when blocks stay reserved.)
  EXPECT_EQ(metric(db, "migration_aborts_src_finished"), 1);
}

TEST(LlumnixMigration, MaxStagesAndDestinationMemoryAbortCleanly) {
  TempDir dir;
  // With at most 1 stage and 11 blocks missing (> 1), no stage can be final.
  const std::string a = dir.file("a.db");
  testing::run_yaml(one_request("mode: live, last_stage_max_blocks: 1, max_stages: 1"), a);
  EXPECT_EQ(query(a, "SELECT DISTINCT outcome, abort_reason, stages FROM migrations"),
            "aborted\tmax_stages\t0\n");
  // Two requests of 23 and 19 blocks on two 30-block instances: neither fits the other's
  // instance.
  const std::string b = dir.file("b.db");
  std::string yaml = one_request("mode: live, last_stage_max_blocks: 1");
  yaml.replace(yaml.find("  instances: 2\n"), 15,
               "  instances: 2\n  max_model_len: 480\n"
               "  kv_cache: {block_size: 16, num_blocks: 30}\n");
  const std::string one = "arrival_s: [0], prompt_tokens: [160], output_tokens: [12]";
  yaml.replace(yaml.find(one), one.size(),
               "arrival_s: [0, 0], prompt_tokens: [360, 300], output_tokens: [12, 12]");
  testing::run_yaml(yaml, b);
  EXPECT_EQ(query(b, "SELECT DISTINCT outcome, abort_reason FROM migrations"),
            "aborted\tdst_oom\n");
  EXPECT_EQ(query(b, "SELECT status, migrations FROM requests"), "finished\t0\nfinished\t0\n");
}

TEST(LlumnixMigration, ADestinationThatStartsDrainingAbortsTheMigration) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // At 60 ms, during stage 1 (50 → 71 ms), the pool shrinks to one instance: the destination
  // (the newest) drains, the migration aborts and the request stays on the source.
  std::string yaml = one_request("mode: live, last_stage_max_blocks: 1", 40);
  yaml.replace(yaml.find("    - {impl: llumnix_migration"), 0,
               "    - {impl: scale_schedule, pool: default, at_s: [0.06], instances: [1]}\n");
  testing::run_yaml(yaml, db);
  EXPECT_EQ(query(db, "SELECT start_s, stages, outcome, abort_reason FROM migrations"),
            "0.05\t1\taborted\tdst_draining\n");
  EXPECT_EQ(query(db, "SELECT migrations, status, instance_id FROM requests"), "0\tfinished\t0\n");
  EXPECT_EQ(query(db, "SELECT instance_id, stopped_s FROM instances ORDER BY 1"),
            "0\tNULL\n1\t0.06\n");
}

// ---------------------------------------------------------------- properties (§5.7 (4))

TEST(LlumnixProperty, MigrationLowersTailPrefillLatencyFragmentationAndPreemptions) {
  TempDir dir;
  const std::string off = dir.file("off.db"), on = dir.file("on.db");
  testing::run_yaml(bursty("{impl: llumnix}", "[]"), off);
  testing::run_yaml(bursty("{impl: llumnix}", "[{impl: llumnix_migration}]"), on);
  EXPECT_GT(metric(on, "migrations"), 10);
  EXPECT_LT(metric(on, "ttft_p99_s"), metric(off, "ttft_p99_s"));
  EXPECT_LT(metric(on, "fragmentation_free_blocks_mean"),
            metric(off, "fragmentation_free_blocks_mean"));
  EXPECT_LT(metric(on, "preemptions"), metric(off, "preemptions"));
  EXPECT_EQ(metric(on, "requests_completed"), 600);
  EXPECT_EQ(query(on, "SELECT sum(migrations) FROM requests"),
            query(on, "SELECT count(*) FROM migrations WHERE outcome = 'done'"));
}

TEST(LlumnixProperty, MigrationIsDeterministic) {
  TempDir dir;
  const std::string yaml = bursty("{impl: llumnix}", "[{impl: llumnix_migration}]", 4, 300);
  testing::run_yaml(yaml, dir.file("a.db"));
  testing::run_yaml(yaml, dir.file("b.db"));
  for (const char* sql : {"SELECT * FROM requests ORDER BY request_id", "SELECT * FROM migrations",
                          "SELECT * FROM summary WHERE metric NOT LIKE 'wall%'"}) {
    EXPECT_EQ(query(dir.file("a.db"), sql), query(dir.file("b.db"), sql)) << sql;
  }
}

// ---------------------------------------------------------------- auto-scaling (§5.7 (5))

TEST(LlumnixScaling, ScalesDownByDrainingWithMigrationWithoutDroppingARequest) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // 6 instances for a load that 2 carry: the pool shrinks, each drained instance's requests
  // move away by migration.
  testing::run_yaml(bursty("{impl: llumnix}",
                           "[{impl: llumnix_migration}, {impl: llumnix_scaling,"
                           " scaling_interval_s: 5, min_instances: 2, max_instances: 6}]",
                           6, 600, 2.0),
                    db);
  EXPECT_EQ(metric(db, "requests_completed"), 600);
  EXPECT_GE(std::stoi(query(db, "SELECT count(*) FROM instances WHERE stopped_s IS NOT NULL")), 3);
  EXPECT_LT(metric(db, "avg_instances"), 5);
  EXPECT_GE(std::stoi(query(db,
                            "SELECT count(*) FROM migrations m JOIN instances i ON "
                            "i.run_id = m.run_id AND i.instance_id = m.src_instance "
                            "WHERE i.stopped_s IS NOT NULL AND m.outcome = 'done'")),
            1);
}

TEST(LlumnixScaling, ScalesUpUnderLoadAfterTheStartupDelay) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  testing::run_yaml(
      bursty("{impl: llumnix}",
             "[{impl: llumnix_scaling, scaling_interval_s: 2, max_instances: 4}]", 1, 400, 8.0),
      db);
  EXPECT_EQ(metric(db, "requests_completed"), 400);
  EXPECT_GE(std::stoi(query(db, "SELECT count(*) FROM instances")), 2);
  // Spawned at a decision (every 2 s), each serves once its 6.74e9 × 2 B of weights have
  // crossed 32 GB/s of PCIe: 0.4212 s later.
  const double startup_s = 6738415616.0 * 2 / 32e9;
  const std::string spawned =
      query(db, "SELECT started_s FROM instances WHERE instance_id > 0 ORDER BY 1");
  std::istringstream rows(spawned);
  int n = 0;
  for (double t; rows >> t; ++n) {
    const double ticks = (t - startup_s) / 2.0;
    EXPECT_NEAR(ticks, std::round(ticks), 1e-6) << t;
    EXPECT_GE(ticks, 1 - 1e-6);
  }
  EXPECT_GE(n, 1);
}

// ---------------------------------------------------------------- configuration errors

std::string controllers_error(const std::string& controllers) {
  return testing::config_error(
      "workload: {arrival: {impl: poisson, rate_per_s: 1}}\npolicies: {controllers: " +
      controllers + "}\n");
}

TEST(LlumnixConfig, BadKeysNameTheKey) {
  EXPECT_NE(controllers_error("[{impl: llumnix_migration, mode: teleport}]").find("mode"),
            std::string::npos);
  EXPECT_NE(
      controllers_error("[{impl: llumnix_migration, pool: nope}]").find("no pool named 'nope'"),
      std::string::npos);
  EXPECT_NE(controllers_error("[{impl: llumnix_migration, last_stage_max_blocks: 0}]")
                .find("last_stage_max_blocks"),
            std::string::npos);
  EXPECT_NE(controllers_error("[{impl: llumnix_scaling}]").find("max_instances"),
            std::string::npos);
  EXPECT_NE(controllers_error("[{impl: llumnix_scaling, max_instances: 4, scale_up_threshold: 70}]")
                .find("scale_down_threshold"),
            std::string::npos);
  EXPECT_EQ(
      controllers_error("[{impl: llumnix_migration}, {impl: llumnix_scaling, max_instances: 4}]"),
      "<no error>");
}

TEST(LlumnixConfig, TheCliExitsTwoNamingFileLineAndKey) {
  TempDir dir;
  const std::string path = dir.write("bad.yaml",
                                     "workload: {num_requests: 5, arrival: {impl: poisson, "
                                     "rate_per_s: 1}}\npolicies:\n  router: {impl: llumnix,"
                                     " mode: fastest}\n");
  const auto r = testing::run_cli("run '" + path + "' -o '" + dir.file("x.db") + "' --quiet");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("bad.yaml:3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("mode"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.db")));
}

}  // namespace
}  // namespace servesim
