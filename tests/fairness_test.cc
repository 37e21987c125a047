// tests/fairness_test.cc — fair scheduling (ALGORITHMS.md §4): VTC counters on a hand-computed
// example, the lazy decode meter against an eager one, the fairness metrics on a hand-computed
// example, and the property tests of §4.4 on simulated runs (bounds, isolation, lift, locality).
#include "sim/metrics/fairness.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <map>
#include <random>

#include "policies/queueing/lpm.h"
#include "policies/queueing/queue_order.h"
#include "policies/queueing/service_meter.h"
#include "policies/queueing/vtc.h"
#include "sim/config/config.h"
#include "sim/scenario/runner.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::query;
using testing::TempDir;

// No scheduler can read a request's true output length: the view it gets has none.
template <class T>
concept HasOutputTokens = requires(T t) {
  t.output_tokens;
};
static_assert(!HasOutputTokens<QueuedRequest>,
              "queue orders must not see the output length (QueuedRequest)");
static_assert(HasOutputTokens<Request>, "the check above must be able to fail");

QueuedRequest view(RequestSlot slot, std::uint32_t client, std::int32_t prompt,
                   std::int32_t generated = 0) {
  QueuedRequest q;
  q.slot = slot;
  q.request_id = slot;
  q.client_id = client;
  q.prompt_tokens = prompt;
  q.generated_tokens = generated;
  return q;
}

std::unique_ptr<QueueOrder> order(const std::string& yaml) {
  auto tree = testing::parse_yaml(yaml);
  return make_queue_order(tree->root(), QueueOrderContext{});
}

// a1, a2 (client 0, 100-token prompts) and b1 (client 1, 50 tokens) wait; w_p = 1, w_q = 2.
TEST(Vtc, CountersAreExactOnAHandComputedExample) {
  for (const bool lift : {true, false}) {
    SCOPED_TRACE(lift ? "vtc" : "lcf");
    auto q = order(lift ? "{impl: vtc}" : "{impl: lcf}");
    auto& vtc = dynamic_cast<VtcOrder&>(*q);
    q->push(view(0, 0, 100), WaitReason::kArrival);  // a1
    q->push(view(1, 0, 100), WaitReason::kArrival);  // a2
    q->push(view(2, 1, 50), WaitReason::kArrival);   // b1
    // Equal counters: the client seen first.
    ASSERT_EQ(q->head(), 0u);
    q->pop_head();
    q->on_admit(view(0, 0, 100), 100);
    EXPECT_DOUBLE_EQ(vtc.counter_of(0), 100);  // w_p · 100
    EXPECT_EQ(q->head(), 2u) << "client 1 has the smaller counter";
    // a1 decodes 5 steps alone: 5 tokens × w_q.
    q->on_decode_join(view(0, 0, 100, 1), 0, 0);
    for (int s = 1; s <= 5; ++s) q->on_decode_step(DecodeStepInfo{0, s, 1});
    EXPECT_DOUBLE_EQ(vtc.counter_of(0), 110);
    q->pop_head();
    q->on_admit(view(2, 1, 50), 50);
    q->on_decode_join(view(2, 1, 50, 1), 0, 5);
    for (int s = 6; s <= 10; ++s) q->on_decode_step(DecodeStepInfo{0, s, 2});
    EXPECT_DOUBLE_EQ(vtc.counter_of(0), 120);
    EXPECT_DOUBLE_EQ(vtc.counter_of(1), 60);
    q->on_decode_leave(view(0, 0, 100, 11), 0, 10, true);  // a1 finished
    q->on_decode_step(DecodeStepInfo{0, 11, 1});           // only b1 left
    EXPECT_DOUBLE_EQ(vtc.counter_of(0), 120);
    EXPECT_DOUBLE_EQ(vtc.counter_of(1), 62);
    q->on_decode_leave(view(2, 1, 50, 7), 0, 11, true);
    // Client 1 is idle at 62 while client 0 (a2 waiting) is at 120. It returns with b2: vtc lifts
    // it to 120 (a tie: client 0, seen first, goes first); lcf keeps its banked 62.
    q->push(view(3, 1, 10), WaitReason::kArrival);
    EXPECT_DOUBLE_EQ(vtc.counter_of(1), lift ? 120 : 62);
    EXPECT_EQ(q->head(), lift ? 1u : 3u);
  }
}

TEST(Vtc, DoubleChargeQuirkChargesAFinishingStepTwice) {
  auto q = order("{impl: vtc, double_charge: true}");
  auto& vtc = dynamic_cast<VtcOrder&>(*q);
  q->push(view(0, 0, 10), WaitReason::kArrival);
  q->pop_head();
  q->on_admit(view(0, 0, 10), 10);
  q->on_decode_join(view(0, 0, 10, 1), 0, 0);
  for (int s = 1; s <= 3; ++s) q->on_decode_step(DecodeStepInfo{0, s, 1});
  q->on_decode_leave(view(0, 0, 10, 4), 0, 3, true);
  EXPECT_DOUBLE_EQ(vtc.counter_of(0), 10 + 2 * 3 + 2);  // the last step once more
}

// The lazy meter (aggregates settled on join/leave) charges exactly what charging every member
// at every step does, for the linear and the profile cost.
TEST(DecodeServiceMeter, LazyEqualsEagerCharging) {
  for (const bool profile : {false, true}) {
    ServiceCost cost;
    cost.profile = profile;
    DecodeServiceMeter meter(cost);
    struct Member {
      std::uint32_t client;
      double p, q;
      int group;
    };
    std::map<RequestSlot, Member> members;
    std::map<std::uint32_t, double> eager;
    std::vector<std::int64_t> steps(3, 0);
    std::mt19937 rng(7);
    RequestSlot next = 0;
    for (int op = 0; op < 3000; ++op) {
      const int kind = static_cast<int>(rng() % 4);
      const int g = static_cast<int>(rng() % 3);
      if (kind == 0) {  // join
        const Member m{static_cast<std::uint32_t>(rng() % 4), static_cast<double>(rng() % 900 + 1),
                       static_cast<double>(rng() % 50), g};
        members[next] = m;
        meter.join(m.client, next, g, steps[static_cast<std::size_t>(g)], m.p, m.q);
        ++next;
      } else if (kind == 1 && !members.empty()) {  // leave
        auto it = members.begin();
        std::advance(it, static_cast<long>(rng() % members.size()));
        const Member m = it->second;
        const double q = meter.leave(m.client, it->first, m.group,
                                     steps[static_cast<std::size_t>(m.group)], m.p);
        EXPECT_DOUBLE_EQ(q, m.q);
        members.erase(it);
      } else {  // a step of group g: every member there generates one token
        for (auto& [slot, m] : members) {
          if (m.group != g) continue;
          eager[m.client] += cost.tokens(1, m.p, m.q, 1);
          m.q += 1;
        }
        meter.step(g, ++steps[static_cast<std::size_t>(g)]);
      }
    }
    for (const auto& [client, charged] : eager)
      EXPECT_NEAR(meter.total(client), charged, 1e-9 * std::max(1.0, charged)) << client;
  }
}

TEST(FairnessMeter, MetricsMatchAHandComputedExample) {
  FairnessMeter m(FairnessOptions{10, 1, 2});  // 10 s windows, 1 s buckets
  const TimeNs s = kNsPerSecond;
  m.arrival(0, 0, 100, 50);  // client 0: 200 of service over [0, 10 s]
  m.served(0, 0, 10 * s, 100, 50);
  m.arrival(1, 0, 100, 25);  // client 1: 150 over [5 s, 10 s]
  m.served(1, 5 * s, 10 * s, 100, 25);
  m.arrival(1, 1 * s, 100, 0);  // rejected: demand only
  m.arrival(1, 10 * s, 10, 0);  // the last arrival: the horizon
  const FairnessMeter::Result r = m.result();
  EXPECT_DOUBLE_EQ(r.horizon_s, 10);
  // A0(t) = 20t, A1(t) = 30(t − 5)+: the largest gap is 100 at t = 5 s.
  EXPECT_NEAR(r.service_diff_acc_max, 100, 1e-9);
  // Window [0, 10): y = (20, 15)/s, d = (20, 25)/s: client 1 is 5/s short of the top and asked
  // for 10/s more than it got → 5.
  EXPECT_NEAR(r.service_diff_window_max, 5, 1e-9);
  EXPECT_NEAR(r.service_diff_window_mean, 2.5, 1e-9);  // window [10, 20): nobody is short
  EXPECT_NEAR(r.service.at(0), 200, 1e-9);
  EXPECT_NEAR(r.service.at(1), 150, 1e-9);
  EXPECT_NEAR(r.share.at(0), 200.0 / 350, 1e-12);
  // Max-min fair shares of 350 for demands (200, 260): 175 each.
  const double x0 = 200.0 / 175, x1 = 150.0 / 175;
  EXPECT_NEAR(r.jain_index, (x0 + x1) * (x0 + x1) / (2 * (x0 * x0 + x1 * x1)), 1e-12);
  const auto rows = m.windows();
  ASSERT_EQ(rows.size(), 4u);  // 2 clients × 2 windows
  EXPECT_EQ(rows[0].client, 0u);
  EXPECT_NEAR(rows[0].input_tokens, 100, 1e-9);
  EXPECT_NEAR(rows[0].output_tokens, 50, 1e-9);
  EXPECT_NEAR(rows[0].service, 200, 1e-9);
  EXPECT_NEAR(rows[0].demand, 200, 1e-9);
  EXPECT_NEAR(rows[3].demand, 10, 1e-9);  // client 1, window [10, 20)
}

// ---------------------------------------------------------------- simulated property tests

// The VTC paper's overload setting (scenarios/fairness/vtc-overload.yaml): two clients at
// `rate0` and `rate1` req/s, 256/256 tokens, 6 minutes, LLaMA-7B on an A10G with a
// 10,000-token KV pool.
std::string overload(const std::string& queue_order, double rate0 = 1.5, double rate1 = 3.0,
                     double window_s = 60) {
  return "seed: 3\n"
         "workload:\n  impl: multi_client\n  num_requests: 0\n  duration_s: 360\n  clients:\n"
         "    - {id: 0, arrival: {impl: poisson, rate_per_s: " +
         std::to_string(rate0) +
         "}, prompt_tokens: 256, output_tokens: 256}\n"
         "    - {id: 1, arrival: {impl: poisson, rate_per_s: " +
         std::to_string(rate1) +
         "}, prompt_tokens: 256, output_tokens: 256}\n"
         "cluster: {instances: 1, hardware: a10g, model: llama-2-7b,"
         " kv_cache: {block_size: 16, num_blocks: 625}, cost_model: {impl: roofline}}\n"
         "policies: {batcher: {impl: vllm, max_num_seqs: 1000, max_num_batched_tokens: 10000},"
         " queue_order: " +
         queue_order +
         "}\n"
         "output: {iterations: false, fairness_window_s: " +
         std::to_string(window_s) + "}\n";
}

double run_metric(const std::string& yaml, const std::string& scope, const std::string& metric,
                  const TempDir& dir) {
  const std::string db = dir.file("m.db");
  std::filesystem::remove(db);
  testing::run_yaml(yaml, db);
  return std::stod(query(
      db, "SELECT value FROM summary WHERE scope = '" + scope + "' AND metric = '" + metric + "'"));
}

// §4.4 (1): two backlogged clients; U = max(w_p·L_in, w_q·M) = max(256, 2·10,000).
// A sparse run: two requests 10^8 s apart (a capacity search halving its rate toward 0 makes such
// runs). The meter keeps only the buckets they touch and the client_service table gets a row per
// client and active window; before, 1.7·10^7 empty buckets per client (0.4 GB) and as many rows.
TEST(FairnessMeter, ASparseRunCostsWhatItsRequestsTouch) {
  FairnessMeter m(FairnessOptions{});
  const TimeNs far_ns = s_to_ns(1e8);
  m.arrival(0, 0, 10, 10);
  m.arrival(1, far_ns, 10, 10);
  m.served(0, s_to_ns(1), s_to_ns(2), 10, 10);
  m.served(1, far_ns + s_to_ns(1), far_ns + s_to_ns(2), 10, 10);
  const auto rows = m.windows();
  ASSERT_EQ(rows.size(), 4u) << "2 clients x 2 active windows";
  EXPECT_DOUBLE_EQ(rows[1].window_start_s, 1e8 - std::fmod(1e8, 60.0));
  EXPECT_DOUBLE_EQ(rows[0].service, 30.0);
  EXPECT_DOUBLE_EQ(rows[1].service, 0.0);
  const FairnessMeter::Result r = m.result();
  EXPECT_DOUBLE_EQ(r.horizon_s, 1e8);
  EXPECT_DOUBLE_EQ(r.service.at(0), 30.0);
  EXPECT_DOUBLE_EQ(r.service_diff_acc_max, 30.0);
  // The mean counts every window before the horizon, the empty ones as 0.
  EXPECT_NEAR(r.service_diff_window_mean, r.service_diff_window_max / (std::floor(1e8 / 60) + 1),
              1e-12);
}

TEST(FairnessProperty, VtcAndDlpmKeepTheirBoundFcfsDoesNot) {
  TempDir dir;
  const double U = 2 * 10000, Q = 2500, U_prime = 256 + 2 * 10000;
  const double vtc = run_metric(overload("{impl: vtc}"), "run", "service_diff_acc_max", dir);
  const double dlpm =
      run_metric(overload("{impl: dlpm, quantum: 2500}"), "run", "service_diff_acc_max", dir);
  const double fcfs = run_metric(overload("{impl: fcfs}"), "run", "service_diff_acc_max", dir);
  EXPECT_LE(vtc, 2 * U);
  EXPECT_LE(dlpm, 2 * (U_prime + Q));
  EXPECT_GT(fcfs, 2 * U) << "FCFS should let the heavy client run ahead";
}

// §4.4 (2): a light client (0.3 req/s, well under half the GPU) keeps its latency when the heavy
// client doubles its rate, under VTC; under FCFS it queues behind the heavy client's backlog.
TEST(FairnessProperty, ALightClientsLatencyDoesNotDependOnTheHeavyRate) {
  TempDir dir;
  auto light_e2e = [&](const std::string& order, double heavy) {
    return run_metric(overload(order, 0.3, heavy), "client:0", "e2e_p50_s", dir);
  };
  const double vtc_3 = light_e2e("{impl: vtc}", 3), vtc_6 = light_e2e("{impl: vtc}", 6);
  const double fcfs_3 = light_e2e("{impl: fcfs}", 3), fcfs_6 = light_e2e("{impl: fcfs}", 6);
  EXPECT_LT(vtc_6 / vtc_3, 1.25) << vtc_3 << " → " << vtc_6;
  EXPECT_LT(vtc_6, fcfs_3 / 4) << "VTC serves the light client ahead of the backlog";
  EXPECT_GT(fcfs_6 / fcfs_3, 1.25) << fcfs_3 << " → " << fcfs_6;
}

// §4.4 (4): client 1 is idle for the first 120 s while client 0 is backlogged, then both are.
// With the lift neither starves in the next minute; without it (lcf) client 1's banked credit
// starves client 0; FCFS makes client 1 wait behind client 0's backlog.
TEST(FairnessProperty, TheLiftPreventsStarvationAndBankedCredit) {
  std::string arrivals, prompts, outputs, clients;
  int n = 0;
  auto add = [&](double t, int client) {
    const std::string sep = n++ ? ", " : "";
    arrivals += sep + std::to_string(t);
    prompts += sep + "256";
    outputs += sep + "256";
    clients += sep + std::to_string(client);
  };
  for (int i = 0; i < 4 * 240; ++i) {
    const double t = i * 0.25;
    add(t, 0);
    if (t >= 120) add(t, 1);
  }
  const std::string workload = "workload: {impl: inline, arrival_s: [" + arrivals +
                               "], prompt_tokens: [" + prompts + "], output_tokens: [" + outputs +
                               "], client_id: [" + clients + "]}\n";
  auto share_after_return = [&](const std::string& order, int client) {
    TempDir dir;
    const std::string db = dir.file("lift.db");
    testing::run_yaml(
        workload +
            "cluster: {instances: 1, hardware: a10g, model: llama-2-7b,"
            " kv_cache: {block_size: 16, num_blocks: 625}, cost_model: {impl: roofline}}\n"
            "policies: {batcher: {impl: vllm, max_num_seqs: 1000}, queue_order: {impl: " +
            order + "}}\noutput: {iterations: false, fairness_window_s: 20}\n",
        db);
    const std::string window =
        " FROM client_service WHERE window_start_s >= 140 AND "
        "window_start_s < 200";
    return std::stod(query(db, "SELECT (SELECT sum(service)" + window +
                                   " AND client_id = " + std::to_string(client) +
                                   ") / (SELECT sum(service)" + window + ")"));
  };
  EXPECT_GT(share_after_return("vtc", 0), 0.3) << "the returning client starves the other";
  EXPECT_GT(share_after_return("vtc", 1), 0.3) << "the returning client is starved";
  EXPECT_LT(share_after_return("lcf", 0), 0.1) << "lcf should let banked credit starve client 0";
  EXPECT_LT(share_after_return("fcfs", 1), 0.1) << "fcfs should make client 1 wait";
}

// §4.4 (3): on a shared-prefix workload the hit rate orders LPM ≥ DLPM(Q) ≥ VTC and rises with Q.
TEST(FairnessProperty, HitRateOrdersLpmDlpmVtcAndRisesWithQuantum) {
  // Four clients, one 3,000-token system prompt each; the cache holds two of them. LPM keeps
  // serving whichever client is cached; VTC alternates and thrashes; DLPM's quantum sets how long
  // it stays with one client.
  std::string base =
      "seed: 5\n"
      "workload:\n  impl: multi_client\n  num_requests: 600\n"
      "  arrival: {impl: poisson, rate_per_s: 20}\n  clients:\n";
  for (int c = 0; c < 4; ++c) {
    base += "    - {weight: 1, prompt_tokens: 64, output_tokens: 32, system_prompt_tokens: 3000}\n";
  }
  base +=
      "cluster: {instances: 1, hardware: a10g, model: llama-2-7b,"
      " kv_cache: {block_size: 16, num_blocks: 500, enable_prefix_caching: true},"
      " cost_model: {impl: roofline}}\n"
      "output: {iterations: false}\n";
  TempDir dir;
  auto hit = [&](const std::string& order) {
    return run_metric(base + "policies: {batcher: {impl: vllm}, queue_order: " + order + "}\n",
                      "run", "prefix_hit_rate", dir);
  };
  const double lpm = hit("{impl: lpm}"), vtc = hit("{impl: vtc}");
  std::vector<double> dlpm;
  for (const char* q : {"1000", "10000", "100000"})
    dlpm.push_back(hit(std::string("{impl: dlpm, quantum: ") + q + "}"));
  const double slack = 0.01;  // one or two cold prefills either way
  std::cout << "hit rates: lpm " << lpm << ", vtc " << vtc << ", dlpm(Q)";
  for (double d : dlpm) std::cout << " " << d;
  std::cout << "\n";
  EXPECT_GE(lpm + slack, dlpm.back());
  EXPECT_GE(dlpm.front() + slack, vtc);
  for (std::size_t i = 1; i < dlpm.size(); ++i)
    EXPECT_GE(dlpm[i] + slack, dlpm[i - 1]) << "quantum step " << i;
  EXPECT_GT(lpm, vtc + 0.3) << "the workload must reward locality for the test to mean anything";
  EXPECT_GT(dlpm.back(), dlpm.front() + 0.1) << "the quantum must matter here";
}

// ---------------------------------------------------------------- configuration errors

std::string config_error(const std::string& policies) {
  return testing::config_error(
      "workload: {impl: multi_client, clients: [{id: 0, weight: 1}, {id: 3, weight: 1}],"
      " arrival: {impl: poisson, rate_per_s: 1}}\npolicies: " +
      policies + "\n");
}

TEST(FairnessConfig, BadWeightsQuantaAndClientsNameTheKey) {
  const std::string negative =
      config_error("{queue_order: {impl: vtc, fair_weights: [{client: 0, weight: -1}]}}");
  EXPECT_NE(negative.find("fair_weights.0.weight"), std::string::npos) << negative;
  EXPECT_NE(config_error("{queue_order: {impl: vtc, input_weight: -2}}").find("input_weight"),
            std::string::npos);
  EXPECT_NE(config_error("{queue_order: {impl: dlpm, quantum: 0}}").find("quantum"),
            std::string::npos);
  const std::string unknown =
      config_error("{queue_order: {impl: dlpm, fair_weights: [{client: 2, weight: 2}]}}");
  EXPECT_NE(unknown.find("fair_weights.0.client"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("unknown client 2 (the workload's clients: 0, 3)"), std::string::npos)
      << unknown;
  EXPECT_EQ(config_error("{queue_order: {impl: vtc, fair_weights: [{client: 3, weight: 2}]}}"),
            "<no error>");
  EXPECT_NE(config_error("{queue_order: {impl: vtc, fair_weights: [{client: 0, weight: 1},"
                         " {client: 0, weight: 2}]}}")
                .find("listed twice"),
            std::string::npos);
}

TEST(FairnessConfig, TheCliExitsTwoNamingFileLineAndKey) {
  TempDir dir;
  const std::string path =
      dir.write("bad.yaml",
                "workload: {num_requests: 5, arrival: {impl: poisson, rate_per_s: 1}}\npolicies:\n "
                " queue_order: {impl: dlpm, quantum: 0}\n");
  const auto r = testing::run_cli("run '" + path + "' -o '" + dir.file("x.db") + "' --quiet");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("bad.yaml:3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("quantum"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.db"))) << "nothing is written on a bad config";
}

}  // namespace
}  // namespace servesim

namespace servesim {
namespace {

// The slora batcher sizes admissions by the requests' limits and never preempts; vLLM's
// admission on the same load does (the check can fail).
TEST(SloraBatcher, NeverPreemptsWhenRequestsCarryTheirLimit) {
  TempDir dir;
  std::string yaml = overload("{impl: fcfs}");
  yaml.replace(yaml.find("impl: vllm"), 10, "impl: slora");
  yaml.replace(yaml.rfind("output_tokens: 256}\n"), 20,
               "output_tokens: 256}\n  transforms: [{impl: max_output, exact: true}]\n");
  EXPECT_EQ(run_metric(yaml, "run", "preemptions", dir), 0);
  EXPECT_GT(run_metric(yaml, "run", "requests_completed", dir), 1000);
  EXPECT_GT(run_metric(overload("{impl: fcfs}"), "run", "preemptions", dir), 0);
}

}  // namespace
}  // namespace servesim
