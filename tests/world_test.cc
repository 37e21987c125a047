// tests/world_test.cc — the world's second edition, piece by piece: KV movement between
// instances (detach → lease, reserve → attach, release), reservations in the KV books, decode
// groups stepped one at a time, instance lifecycle (spawn, drain, stop), the prefill→decode
// hand-off, the priority queue order with the lowest-priority victim, and the pools
// configuration with its errors.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "models/catalog.h"
#include "policies/batching/admission.h"
#include "policies/queueing/queue_order.h"
#include "sim/scenario/runner.h"
#include "sim/world/cluster.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::query;
using testing::run_yaml;
using testing::TempDir;

// ------------------------------------------------------------------ a hand-built world

// Records what the world signals.
class Log final : public Observer {
 public:
  struct Done {
    InstanceId first, last;
    std::int32_t generated;
    TimeNs finish_ns, max_tbt_ns;
  };
  void on_finish(const RequestState& r) override {
    done[r.request_id] =
        Done{r.first_instance_id, r.instance_id, r.generated_tokens, r.finish_ns, r.max_tbt_ns};
  }
  void on_iteration(const IterationRecord& it) override { iterations.push_back(it); }
  std::map<std::uint64_t, Done> done;
  std::vector<IterationRecord> iterations;
};

// One cluster with one pool of `instances` identical instances whose iterations take 10 ms
// with a prefill in them and 5 ms otherwise (polynomial cost model with constant terms).
class TestWorld {
 public:
  explicit TestWorld(int instances, std::int64_t kv_blocks = 64,
                     const std::string& batcher = "{impl: vllm}")
      : cluster_(sim_, nullptr, nullptr, 4096) {
    trees_.push_back(testing::parse_yaml(batcher));
    trees_.push_back(testing::parse_yaml(
        "{impl: polynomial, prefill_a_ms: 10, prefill_b_ms: 0, prefill_c_ms: 0, pipeline_overhead: "
        "false,"
        " decode_a_ms: 5, decode_b_ms: 0, decode_c_ms: 0, decode_large_batch: 100000}"));
    trees_.push_back(testing::parse_yaml("{impl: fcfs}"));
    deployment_.hardware = &Catalog::builtin().hardware("h100-sxm");
    deployment_.model = &Catalog::builtin().model("llama-3-8b");
    InstanceOptions options;
    options.kv_blocks = kv_blocks;
    PoolSpec spec;
    spec.name = "p";
    spec.hw = deployment_.hardware;
    const int pool = cluster_.add_pool(spec, [this, options](InstanceId id, int p,
                                                             const InstanceWorld& world) {
      ConfigNode batcher_cfg = trees_[0]->root(), cost_cfg = trees_[1]->root(),
                 order_cfg = trees_[2]->root();
      return std::make_unique<Instance>(
          id, p, world, options, make_cost_model(cost_cfg, deployment_),
          make_batcher(batcher_cfg, BatcherContext{options.kv_blocks, 4096}),
          [order_cfg](const QueueOrderContext& ctx) { return make_queue_order(order_cfg, ctx); });
    });
    for (int i = 0; i < instances; ++i) cluster_.spawn(pool, true);
    cluster_.signals().subscribe(&log_);
  }

  // A request arriving now, queued on `instance`.
  RequestSlot submit(InstanceId instance, std::int32_t prompt, std::int32_t output) {
    const RequestSlot slot = cluster_.requests().allocate();
    RequestState& r = cluster_.requests()[slot];
    r.req.prompt_tokens = prompt;
    r.req.output_tokens = output;
    r.req.arrival_ns = sim_.now();
    r.request_id = next_id_++;
    cluster_.instance(instance).enqueue(slot);
    return slot;
  }
  void at(double ms, std::function<void()> fn) {
    sim_.schedule_at(ms_to_ns(ms), Phase::kControl, std::move(fn));
  }

  Simulation sim_{1};
  Cluster cluster_;
  Log log_;

 private:
  std::vector<std::shared_ptr<ConfigTree>> trees_;
  Deployment deployment_;
  std::uint64_t next_id_ = 0;
};

TEST(Movement, DecodingRequestMovesToAnotherInstanceAndFinishesThere) {
  TestWorld w(2);
  Instance& a = w.cluster_.instance(0);
  Instance& b = w.cluster_.instance(1);
  const RequestSlot r =
      w.submit(0, 100, 20);  // prefill 0–10 ms (token 1); steps end 15, 20, 25, 30
  w.at(30, [&] {
    // The step ending at 30 ms has completed and the next has not formed: nothing in flight.
    ASSERT_FALSE(a.in_flight(r));
    const std::int64_t blocks = a.kv_blocks_of(r);
    EXPECT_EQ(blocks, 7) << "100 prompt + 4 decoded tokens in KV = 104 tokens → 7 blocks";
    ASSERT_TRUE(b.reserve_incoming(r, blocks));
    b.check_consistency();  // the reservation is in B's books
    KvLease lease = a.detach(r);
    EXPECT_EQ(lease.blocks, 7);
    a.check_consistency();  // the lease is in A's books
    EXPECT_EQ(w.cluster_.requests()[r].phase, RequestPhase::kInTransit);
    b.attach_decoding(r);
    a.release(std::move(lease));
    EXPECT_EQ(a.kv().used_blocks(), 0);
    a.check_consistency();
    b.check_consistency();
  });
  w.sim_.run();
  ASSERT_EQ(w.log_.done.count(0), 1u);
  const Log::Done& d = w.log_.done.at(0);
  EXPECT_EQ(d.first, 0);
  EXPECT_EQ(d.last, 1);
  EXPECT_EQ(d.generated, 20);
  EXPECT_EQ(d.finish_ns, ms_to_ns(30 + 15 * 5))
      << "tokens 6..20 on B, one 5 ms step each from 30 ms";
  EXPECT_EQ(d.max_tbt_ns, ms_to_ns(5));
  EXPECT_EQ(b.kv().used_blocks(), 0);
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(b.empty());
}

TEST(Movement, DetachingAStepInFlightIsRefused) {
  TestWorld w(1);
  Instance& a = w.cluster_.instance(0);
  const RequestSlot r = w.submit(0, 100, 20);
  w.at(12, [&] {
    EXPECT_TRUE(a.in_flight(r));
    EXPECT_EQ(a.iteration_end_ns(), ms_to_ns(15));
    EXPECT_THROW(a.detach(r), std::logic_error);
  });
  w.sim_.run();
  EXPECT_EQ(w.log_.done.at(0).generated, 20);
}

TEST(Movement, WaitingRequestMovesWithoutKv) {
  TestWorld w(2);
  Instance& a = w.cluster_.instance(0);
  Instance& b = w.cluster_.instance(1);
  w.submit(0, 100, 3);                        // keeps A busy 0–10 ms
  const RequestSlot r = w.submit(0, 200, 3);  // admitted alongside under vLLM's budget...
  w.sim_.run_until(0);
  // ...so queue a third one that has to wait behind both.
  const RequestSlot q = w.submit(0, 300, 3);
  w.at(5, [&] {
    EXPECT_EQ(w.cluster_.requests()[q].phase, RequestPhase::kWaiting);
    KvLease lease = a.detach(q);
    EXPECT_EQ(lease.blocks, 0);
    a.release(std::move(lease));
    b.enqueue(q, WaitReason::kMovedIn);
  });
  w.sim_.run();
  (void)r;
  EXPECT_EQ(w.log_.done.at(2).last, 1);
  EXPECT_EQ(w.log_.done.at(2).finish_ns, ms_to_ns(5 + 10 + 2 * 5))
      << "B prefills 5–15 ms, two decode steps";
}

TEST(Movement, ReservationsAreBookedAndCancelled) {
  TestWorld w(1, 10);
  Instance& a = w.cluster_.instance(0);
  EXPECT_FALSE(a.reserve_incoming(7, 11)) << "more than the pool has";
  EXPECT_EQ(a.kv().free_blocks(), 10);
  ASSERT_TRUE(a.reserve_incoming(7, 4));
  EXPECT_EQ(a.kv().free_blocks(), 6);
  EXPECT_EQ(a.reserved_blocks(), 4);
  a.check_consistency();
  EXPECT_FALSE(a.empty());
  a.cancel_incoming(7);
  EXPECT_EQ(a.kv().free_blocks(), 10);
  EXPECT_TRUE(a.empty());
  EXPECT_THROW(a.cancel_incoming(7), std::logic_error);
  EXPECT_THROW(a.attach_decoding(7), std::logic_error) << "no reservation";
}

// ------------------------------------------------------------------ decode groups

// Test-only batcher: two decode groups stepped alternately (a subset decode every iteration);
// vLLM-style prefill-only admission otherwise.
class TwoGroupBatcher final : public BatcherBase {
 public:
  TwoGroupBatcher(ConfigNode& cfg, const BatcherContext& ctx) : BatcherBase(cfg, ctx, Defaults{}) {
    token_budget_ = std::max<std::int64_t>(ctx.max_model_len, 2048);
  }
  int decode_groups() const override { return 2; }
  void schedule(Instance& inst) override {
    std::int64_t tokens = 0;
    bool admitted = false;
    while (rules_.head_fits(inst) &&
           static_cast<std::int64_t>(inst.num_running()) < max_num_seqs_) {
      const std::int64_t n = inst.prefill_tokens_needed(inst.waiting_head());
      if (tokens + n > token_budget_) break;
      tokens += inst.admit_head(static_cast<std::int32_t>(n));
      admitted = true;
    }
    if (admitted) return;
    int g = turn_;
    if (inst.decode_group(g).count() == 0) g = 1 - g;
    turn_ = 1 - g;
    inst.schedule_decodes(/*one_free_block_each=*/true, g);
    if (inst.preempted_this_batch() == 0)
      swap_in_while_room(inst, max_num_seqs_, rules_.watermark_blocks);
  }

 private:
  int turn_ = 0;
};
SERVESIM_REGISTER(Batcher, TwoGroupBatcher, "test-two-groups",
                  "test only: two decode groups stepped alternately")

TEST(DecodeGroups, AlternatingGroupsEachAdvanceOnlyTheirMembers) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // A and B prefill together (0–10 ms) and join groups 0 and 1. Steps alternate: A at 15, B at
  // 20, A at 25, ... A's tokens 2–5 end at 15, 25, 35, 45; B's at 20, 30, 40, 50.
  run_yaml(
      "workload: {impl: inline, arrival_s: [0, 0], prompt_tokens: [100, 100], output_tokens: [5, "
      "5]}\n"
      "cluster:\n" +
          std::string(testing::kFixedCostYaml) +
          "policies: {batcher: {impl: test-two-groups}}\noutput: {consistency_every: 1}\n",
      db);
  EXPECT_EQ(query(db, "SELECT request_id, finish_s, max_tbt_s FROM requests ORDER BY request_id"),
            "0\t0.045\t0.01\n1\t0.05\t0.01\n");
  EXPECT_EQ(
      query(db, "SELECT count(*), max(decode_tokens) FROM iterations WHERE decode_tokens > 0"),
      "8\t1\n");
}

TEST(DecodeGroups, SubsetDecodesHoldUnderMemoryPressure) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  const RunOutcome out = run_yaml(
      "seed: 5\nworkload:\n  num_requests: 200\n  arrival: {impl: poisson, rate_per_s: 40}\n"
      "  prompt_tokens: {impl: uniform, min: 16, max: 400}\n  output_tokens: {impl: uniform, min: "
      "1, max: 200}\n"
      "cluster: {max_model_len: 1024, kv_cache: {num_blocks: 90}, cost_model: {impl: roofline}}\n"
      "policies: {batcher: {impl: test-two-groups, max_num_seqs: 32}}\noutput: {consistency_every: "
      "1}\n",
      db);
  EXPECT_EQ(out.requests, 200);
  EXPECT_GT(std::stoi(query(
                db, "SELECT CAST(value AS INTEGER) FROM summary WHERE metric = 'preemptions'")),
            5)
      << "the pool is small enough to preempt";
  EXPECT_EQ(query(db, "SELECT count(*) FROM requests WHERE status = 'finished'"), "200\n");
}

// ------------------------------------------------------------------ priority order and victims

// Tracks waiting and running requests with their priorities and checks the priority rules.
class PriorityRules final : public Observer {
 public:
  void on_arrival(const RequestState& r) override {
    waiting_.emplace(r.request_id, r.req.priority);
  }
  void on_reject(const RequestState& r) override { waiting_.erase(r.request_id); }
  void on_admit(const RequestState& r) override {
    for (const auto& [id, p] : waiting_) {
      EXPECT_LE(p, r.req.priority)
          << "admitted " << r.request_id << " ahead of higher-priority " << id;
    }
    waiting_.erase(r.request_id);
    running_.emplace(r.request_id, r.req.priority);
  }
  void on_preempt(const RequestState& r) override {
    for (const auto& [id, p] : running_) {
      if (id == r.request_id) continue;
      EXPECT_TRUE(p > r.req.priority || (p == r.req.priority && id < r.request_id))
          << "preempted " << r.request_id << " (priority " << r.req.priority << ") while " << id
          << " (priority " << p << ") runs";
    }
    running_.erase(r.request_id);
    waiting_.emplace(r.request_id, r.req.priority);
    ++preemptions;
  }
  void on_finish(const RequestState& r) override { running_.erase(r.request_id); }
  std::int64_t preemptions = 0;

 private:
  std::map<std::uint64_t, std::int32_t> waiting_, running_;
};

TEST(PriorityOrder, HighestPriorityAdmittedFirstAndLowestPreempted) {
  TempDir dir;
  PriorityRules rules;
  run_yaml(
      "seed: 9\nworkload:\n  num_requests: 300\n  arrival: {impl: poisson, rate_per_s: 60}\n"
      "  prompt_tokens: {impl: uniform, min: 16, max: 500}\n  output_tokens: {impl: uniform, min: "
      "1, max: 200}\n"
      "  priorities: [0, 1, 2]\n"
      "cluster: {max_model_len: 1024, kv_cache: {num_blocks: 100}, cost_model: {impl: roofline}}\n"
      "policies: {batcher: {impl: vllm, max_num_seqs: 48, victim: lowest_priority}, queue_order: "
      "{impl: priority}}\n"
      "output: {consistency_every: 1}\n",
      dir.file("r.db"), {&rules});
  EXPECT_GT(rules.preemptions, 5);
}

TEST(PriorityOrder, EqualPrioritiesBehaveExactlyAsFcfs) {
  TempDir dir;
  const std::string yaml =
      "seed: 4\nworkload:\n  num_requests: 300\n  arrival: {impl: poisson, rate_per_s: 50}\n"
      "  prompt_tokens: {impl: uniform, min: 16, max: 500}\n  output_tokens: {impl: uniform, min: "
      "1, max: 200}\n"
      "cluster: {max_model_len: 1024, kv_cache: {num_blocks: 100}, cost_model: {impl: roofline}}\n";
  run_yaml(yaml + "policies: {batcher: {impl: vllm, max_num_seqs: 48}}\n", dir.file("f.db"));
  run_yaml(yaml +
               "policies: {batcher: {impl: vllm, max_num_seqs: 48, victim: lowest_priority}, "
               "queue_order: {impl: priority}}\n",
           dir.file("p.db"));
  const char* sql = "SELECT request_id, finish_s, preemptions FROM requests ORDER BY request_id";
  EXPECT_GT(std::stoi(query(dir.file("f.db"), "SELECT sum(preemptions) FROM requests")), 5);
  EXPECT_EQ(query(dir.file("f.db"), sql), query(dir.file("p.db"), sql));
}

// ------------------------------------------------------------------ lifecycle

TEST(Lifecycle, ScaleScheduleSpawnsAndDrainsAndRoutersFollow) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  run_yaml(
      "seed: 2\nworkload:\n  num_requests: 600\n  arrival: {impl: poisson, rate_per_s: 10}\n"
      "  prompt_tokens: {impl: uniform, min: 16, max: 500}\n  output_tokens: {impl: uniform, min: "
      "1, max: 100}\n"
      "cluster: {instances: 2, startup_s: 5, cost_model: {impl: roofline}}\n"
      "policies:\n  controllers: [{impl: scale_schedule, pool: default, at_s: [10, 30], instances: "
      "[3, 1]}]\n"
      "output: {consistency_every: 1, sample_every_s: 1}\n",
      db);
  // Instance 2 spawned at 10 s, active at 15 s; at 30 s instances 2 and 1 drain (newest first).
  EXPECT_EQ(
      query(db,
            "SELECT instance_id, started_s, stopped_s IS NOT NULL, stopped_s >= 30 FROM instances"),
      "0\t0\t0\tNULL\n1\t0\t1\t1\n2\t15\t1\t1\n");
  EXPECT_EQ(
      query(
          db,
          "SELECT count(*) FROM requests r JOIN instances i ON i.instance_id = r.first_instance_id "
          "WHERE r.arrival_s < i.started_s OR (i.instance_id > 0 AND r.arrival_s >= 30)"),
      "0\n")
      << "no request is routed to an instance before it is active or after it drains";
  EXPECT_EQ(query(db, "SELECT count(*) > 20 FROM requests WHERE first_instance_id = 2"), "1\n")
      << "instance 2 takes about a third of the ~150 arrivals between 15 and 30 s";
  EXPECT_EQ(
      query(db,
            "SELECT DISTINCT state FROM instance_samples WHERE instance_id = 2 AND time_s < 15"),
      "starting\n");
  // One sample a second while requests are in the system, none long after the last one left.
  EXPECT_EQ(query(db,
                  "SELECT count(DISTINCT time_s) >= 55, max(time_s) <= (SELECT max(finish_s) FROM "
                  "requests) + 1 "
                  "FROM instance_samples"),
            "1\t1\n");
}

// ------------------------------------------------------------------ disaggregated hand-off

// One llama-3-8b request of 100 prompt tokens prefilled on instance 0 (10 ms) and decoded on
// instance 1 (5 ms per step), with `extra` cluster keys.
std::string handoff_scenario(const std::string& prefill_extra, const std::string& decode_extra,
                             const std::string& cluster_extra) {
  const std::string cost =
      " cost_model: {impl: polynomial, prefill_a_ms: 10, prefill_b_ms: 0, prefill_c_ms: 0, "
      "pipeline_overhead: false,"
      " decode_a_ms: 5, decode_b_ms: 0, decode_c_ms: 0, decode_large_batch: 100000}";
  return "workload: {impl: inline, arrival_s: [0], prompt_tokens: [100], output_tokens: [5]}\n"
         "cluster:\n" +
         cluster_extra +
         "  pools:\n"
         "    - {name: p, role: prefill," +
         prefill_extra + cost +
         "}\n"
         "    - {name: d, role: decode," +
         decode_extra + cost +
         "}\n"
         "output: {consistency_every: 1}\n";
}

TEST(Handoff, ZeroTimeHandOffGivesTheDecodePoolTheRequestAtPrefillEnd) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // Tokens 2..5 at 15, 20, 25, 30 ms on the decode instance.
  run_yaml(handoff_scenario("", "", "  transfer: {enabled: false}\n"), db);
  EXPECT_EQ(query(db,
                  "SELECT first_instance_id, prefill_instance_id, decode_instance_id, "
                  "first_token_s, finish_s, "
                  "kv_transfer_s, bridge_wait_s FROM requests"),
            "0\t0\t1\t0.01\t0.03\t0\t0\n");
  EXPECT_EQ(
      query(
          db,
          "SELECT instance_id, sum(prefill_tokens), sum(decode_tokens) FROM iterations GROUP BY 1"),
      "0\t100\t0\n1\t0\t4\n");
}

TEST(Handoff, KvCopyTakesBytesOverTheRouteBandwidthOnNvlinkAndOnTheNic) {
  // KV of 100 tokens of llama-3-8b: 2 × 32 layers × 8 KV heads × 128 × 2 B × 100 = 13,107,200 B.
  // Same node (packed): NVLink 450 GB/s + 2 us → 29,128 + 2,000 ns; on two nodes: the 50 GB/s
  // NICs + 5 us → 262,144 + 5,000 ns. Decoding starts when the copy lands.
  struct Case {
    std::string prefill, decode;
    double copy_s;
  };
  for (const Case& c : {Case{"", "", 31128e-9}, Case{" nodes: [0],", " nodes: [1],", 267144e-9}}) {
    TempDir dir;
    const std::string db = dir.file("r.db");
    run_yaml(handoff_scenario(c.prefill, c.decode, ""), db);
    EXPECT_EQ(
        query(db, "SELECT request_id, kind, src_instance, dst_instance, bytes FROM transfers"),
        "0\tkv_handoff\t0\t1\t13107200\n");
    EXPECT_NEAR(std::stod(query(db, "SELECT kv_transfer_s FROM requests")), c.copy_s, 1e-12);
    EXPECT_NEAR(std::stod(query(db, "SELECT finish_s FROM requests")), 0.01 + c.copy_s + 4 * 0.005,
                1e-12);
    EXPECT_NEAR(std::stod(query(db, "SELECT end_s - start_s FROM transfers")), c.copy_s, 1e-12);
    EXPECT_EQ(query(db, "SELECT count(*), sum(bytes) FROM links"), "2\t26214400\n")
        << "two hops carried the bytes";
  }
}

TEST(Handoff, DecodeMemoryIsNeverExceededAndEveryRequestFinishes) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  const RunOutcome out = run_yaml(
      "seed: 8\nworkload:\n  num_requests: 300\n  arrival: {impl: poisson, rate_per_s: 30}\n"
      "  prompt_tokens: {impl: uniform, min: 16, max: 600}\n  output_tokens: {impl: uniform, min: "
      "1, max: 300}\n"
      "cluster:\n  max_model_len: 1024\n  pools:\n"
      "    - {name: p, role: prefill, instances: 2, kv_cache: {num_blocks: 200}}\n"
      "    - {name: d, role: decode, instances: 1, kv_cache: {num_blocks: 150}}\n"
      "output: {consistency_every: 1, sample_every_s: 0.5}\n",
      db);
  EXPECT_EQ(out.requests, 300);
  EXPECT_EQ(query(db, "SELECT count(*) FROM requests WHERE status = 'finished'"), "300\n");
  EXPECT_EQ(query(db, "SELECT count(*) FROM requests WHERE instance_id != 2 AND output_tokens > 1"),
            "0\n");
  EXPECT_EQ(query(db, "SELECT max(handoff) > 0 FROM instance_samples"), "1\n")
      << "the bridge should fill at times";
}

// ------------------------------------------------------------------ pools configuration

std::string config_error(const std::string& yaml) {
  return testing::config_error("workload: {arrival: {impl: poisson, rate_per_s: 1}}\n" + yaml);
}

TEST(Pools, ConfigurationErrorsNameTheKey) {
  EXPECT_NE(config_error("cluster: {instances: 2, pools: [{name: a}]}")
                .find("cluster.instances: set it per pool"),
            std::string::npos);
  EXPECT_NE(config_error("cluster: {pools: [{name: a}, {name: a}]}")
                .find("cluster.pools.1.name: duplicate pool name"),
            std::string::npos);
  EXPECT_NE(config_error("cluster: {pools: [{name: a}, {name: b, model: llama-2-13b}]}")
                .find("cluster.pools.1.model"),
            std::string::npos);
  EXPECT_NE(
      config_error("cluster: {pools: [{name: a, role: prefill}]}").find("needs a decode pool"),
      std::string::npos);
  EXPECT_NE(
      config_error("cluster: {pools: [{name: a, role: decode}]}").find("needs a prefill pool"),
      std::string::npos);
  EXPECT_NE(config_error("cluster: {pools: [{name: a, kv_cache: {num_blocks: 4}}]}")
                .find("cluster.pools.0.kv_cache.num_blocks"),
            std::string::npos);
  EXPECT_NE(config_error("cluster: {pools: [{name: a, batcher: {impl: vllm}}]}\npolicies: "
                         "{batcher: {impl: sarathi}}")
                .find("policies.batcher: unused"),
            std::string::npos);
  EXPECT_NE(
      config_error("cluster: {pools: [{name: a, role: middle}]}").find("cluster.pools.0.role"),
      std::string::npos);
  EXPECT_NE(config_error("cluster: {pools: []}").find("needs at least one pool"),
            std::string::npos);
  EXPECT_NE(config_error("policies: {controllers: [{impl: scale_schedule, pool: nope, at_s: [1], "
                         "instances: [1]}]}")
                .find("no pool named 'nope'; pools are: default"),
            std::string::npos);
  EXPECT_NE(config_error("policies: {queue_order: {impl: lifo}}")
                .find("valid values are: dlpm, fcfs, lcf, lpm, priority, rpm, vtc"),
            std::string::npos);
  EXPECT_EQ(config_error("cluster: {pools: [{name: a, hardware: a100-80g}, {name: b, hardware: "
                         "h100-sxm, batcher: {impl: sarathi}}]}"),
            "<no error>");
}

TEST(Pools, FlatClusterIsOnePoolNamedDefault) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  run_yaml(
      "workload: {impl: inline, arrival_s: [0, 0], prompt_tokens: [100, 100], output_tokens: [2, "
      "2]}\n"
      "cluster: {instances: 2, tensor_parallel: 2}\n",
      db);
  EXPECT_EQ(query(db,
                  "SELECT instance_id, pool, role, hardware, model, tensor_parallel, devices FROM "
                  "instances"),
            "0\tdefault\tcolocated\th100-sxm\tllama-3-8b\t2\t2\n1\tdefault\tcolocated\th100-"
            "sxm\tllama-3-8b\t2\t2\n");
}

TEST(Registry, DuplicateRegistrationIsAHardError) {
  EXPECT_THROW(Registry<QueueOrder>::instance().add("fcfs", "again", nullptr), std::logic_error);
  EXPECT_TRUE(Registry<QueueOrder>::instance().contains("fcfs"));
}

}  // namespace
}  // namespace servesim

namespace servesim {
namespace {

// Pipeline micro-batch slots: a decode instance with PP = 2 (distserve batcher) keeps one
// decode group per slot and starts a batch every latency / 2. A and B prefill together
// (0–10 ms) and are handed over at once (zero-time copy); their groups alternate: batches of
// 10 ms start at 10, 15, 20, ... A's tokens 2–5 at 20, 30, 40, 50 ms, B's at 25, 35, 45, 55.
TEST(Pipeline, DecodeMicroBatchSlotsOverlapAndAlternate) {
  const std::string cost =
      " cost_model: {impl: polynomial, prefill_a_ms: 10, prefill_b_ms: 0, prefill_c_ms: 0, "
      "pipeline_overhead: false,"
      " decode_a_ms: 10, decode_b_ms: 0, decode_c_ms: 0, decode_large_batch: 100000}";
  auto scenario = [&](int decode_pp) {
    return "workload: {impl: inline, arrival_s: [0, 0], prompt_tokens: [100, 100], output_tokens: "
           "[5, 5]}\n"
           "cluster:\n  transfer: {enabled: false}\n  pools:\n"
           "    - {name: p, role: prefill, batcher: {impl: distserve}," +
           cost +
           "}\n"
           "    - {name: d, role: decode, pipeline_parallel: " +
           std::to_string(decode_pp) + ", batcher: {impl: distserve}," + cost +
           "}\n"
           "output: {consistency_every: 1}\n";
  };
  TempDir dir;
  const std::string db = dir.file("pp2.db");
  run_yaml(scenario(2), db);
  EXPECT_EQ(query(db, "SELECT request_id, finish_s FROM requests ORDER BY request_id"),
            "0\t0.05\n1\t0.055\n");
  EXPECT_EQ(query(db,
                  "SELECT group_concat(round(start_s * 1000), ' '), max(decode_tokens), "
                  "min(duration_s) FROM "
                  "(SELECT * FROM iterations WHERE instance_id = 1 ORDER BY iteration)"),
            "10.0 15.0 20.0 25.0 30.0 35.0 40.0 45.0\t1\t0.01\n");
  // One stage (PP = 1): one group, both decode in every 10 ms step.
  const std::string db1 = dir.file("pp1.db");
  run_yaml(scenario(1), db1);
  EXPECT_EQ(query(db1, "SELECT request_id, finish_s FROM requests ORDER BY request_id"),
            "0\t0.05\n1\t0.05\n");
  EXPECT_EQ(query(db1, "SELECT count(*), max(decode_tokens) FROM iterations WHERE instance_id = 1"),
            "4\t2\n");
}

// A prefill instance with PP = 2 takes a new batch when the first stage frees (every 5 ms of a
// 10 ms batch): three prompts arriving 1 ms apart each get their own overlapping batch.
TEST(Pipeline, PrefillBatchesEnterEveryStageTime) {
  const std::string cost =
      " cost_model: {impl: polynomial, prefill_a_ms: 10, prefill_b_ms: 0, prefill_c_ms: 0, "
      "pipeline_overhead: false,"
      " decode_a_ms: 10, decode_b_ms: 0, decode_c_ms: 0, decode_large_batch: 100000}";
  TempDir dir;
  const std::string db = dir.file("r.db");
  run_yaml(
      "workload: {impl: inline, arrival_s: [0, 0.001, 0.002], prompt_tokens: [100, 100, 100],"
      " output_tokens: [1, 1, 1]}\n"
      "cluster:\n  transfer: {enabled: false}\n  pools:\n"
      "    - {name: p, role: prefill, pipeline_parallel: 2, batcher: {impl: distserve}," +
          cost +
          "}\n"
          "    - {name: d, role: decode, batcher: {impl: distserve}," +
          cost +
          "}\n"
          "output: {consistency_every: 1}\n",
      db);
  // Batch 1 [0, 10) with A; the stage frees at 5 ms: B and C (arrived at 1 and 2 ms) go
  // together [5, 15).
  EXPECT_EQ(query(db,
                  "SELECT group_concat(round(start_s * 1000) || ':' || num_prefills, ' ') FROM "
                  "(SELECT * FROM iterations WHERE instance_id = 0 ORDER BY iteration)"),
            "0.0:1 5.0:2\n");
  EXPECT_EQ(query(db, "SELECT group_concat(round(finish_s * 1000), ' ') FROM requests"),
            "10.0 15.0 15.0\n");
}

}  // namespace
}  // namespace servesim

namespace servesim {
namespace {

std::string disaggregated_load(const std::string& extra_cluster) {
  return "seed: 4\nworkload:\n  num_requests: 250\n  arrival: {impl: poisson, rate_per_s: 25}\n"
         "  prompt_tokens: {impl: uniform, min: 16, max: 900}\n  output_tokens: {impl: uniform, "
         "min: 2, max: 200}\n"
         "cluster:\n  max_model_len: 1200\n" +
         extra_cluster +
         "  pools:\n"
         "    - {name: p, role: prefill, instances: 2, tensor_parallel: 2, kv_cache: {num_blocks: "
         "300},"
         " batcher: {impl: distserve}}\n"
         "    - {name: d, role: decode, instances: 2, kv_cache: {num_blocks: 200, preemption_mode: "
         "swap},"
         " batcher: {impl: distserve}, nodes: [1, 1]}\n"
         "output: {consistency_every: 1}\n";
}

// DistServe property 4: a request decodes only after its prefill ended and its KV arrived. With
// two output tokens the second comes from the first decode step on the decode instance.
TEST(Handoff, DecodeStartsOnlyAfterPrefillEndPlusTransfer) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  run_yaml(disaggregated_load("  topology: {nic_gbps: 1}\n"), db);  // slow NIC: copies take ms
  EXPECT_EQ(query(db, "SELECT count(*) FROM requests WHERE status = 'finished'"), "250\n");
  EXPECT_EQ(
      query(db, "SELECT count(*) FROM requests WHERE output_tokens > 1 AND kv_transfer_s IS NULL"),
      "0\n");
  EXPECT_EQ(query(db,
                  "SELECT count(*) FROM requests WHERE output_tokens = 2 AND "
                  "finish_s - first_token_s < bridge_wait_s + kv_transfer_s"),
            "0\n");
  EXPECT_EQ(query(db,
                  "SELECT count(*) FROM transfers t JOIN requests r USING (run_id, request_id) "
                  "WHERE t.start_s < r.first_token_s OR t.end_s > r.finish_s"),
            "0\n");
  EXPECT_GT(std::stod(query(db, "SELECT value FROM summary WHERE metric = 'kv_transfer_p99_s'")),
            1e-3);
  // Cross-node copies ride the NICs only: the 4 prefill devices' uplinks and the 2 decode
  // devices' downlinks.
  EXPECT_EQ(query(db, "SELECT count(*), sum(kind = 'nic') FROM links"), "6\t6\n");
}

TEST(Handoff, SeveralPoolsAreDeterministic) {
  TempDir dir;
  run_yaml(disaggregated_load(""), dir.file("a.db"));
  run_yaml(disaggregated_load(""), dir.file("b.db"));
  for (const char* sql :
       {"SELECT * FROM requests ORDER BY request_id", "SELECT * FROM transfers",
        "SELECT * FROM iterations ORDER BY instance_id, iteration", "SELECT * FROM links"}) {
    EXPECT_EQ(query(dir.file("a.db"), sql), query(dir.file("b.db"), sql)) << sql;
  }
}

TEST(Topology, BadTopologyConfigurationsNameTheKey) {
  auto error = [](const std::string& yaml) { return config_error(yaml); };
  EXPECT_NE(error("cluster: {topology: {nic: per_rack}}").find("cluster.topology.nic"),
            std::string::npos);
  EXPECT_NE(error("cluster: {topology: {nic_gbps: -1}}").find("cluster.topology.nic_gbps"),
            std::string::npos);
  EXPECT_NE(error("cluster: {topology: {bogus: 1}}").find("cluster.topology.bogus: unknown key"),
            std::string::npos);
  EXPECT_NE(error("cluster: {transfer: {enabled: maybe}}").find("cluster.transfer.enabled"),
            std::string::npos);
  EXPECT_NE(error("cluster: {instances: 2, nodes: [0]}")
                .find("cluster.nodes: needs one node per initial instance"),
            std::string::npos);
  EXPECT_NE(
      error("cluster: {instances: 1, nodes: [3]}").find("cluster.nodes: node 3 does not exist"),
      std::string::npos);
  EXPECT_NE(
      error("cluster: {pools: [{name: a, tensor_parallel: 8, nodes: [0]}, {name: b, nodes: [0]}]}")
          .find("cluster.pools.1.nodes: node 0 has 0 free devices"),
      std::string::npos);
  EXPECT_NE(error("cluster: {pools: [{name: a, router: {impl: round_robin}}]}")
                .find("cluster.pools.0.router"),
            std::string::npos);
}

}  // namespace
}  // namespace servesim
