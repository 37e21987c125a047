// tests/conformance_test.cc — one contract test per interface, run over every registered
// implementation (ns-3 style): every batcher × every queue order, and every router, on the same
// small scenarios. The shared contract, checked on each run:
//  * liveness: every request that arrives finishes or is rejected with a reason (the invariant
//    checker fails the run otherwise);
//  * KV conservation: every batch's KV books balance (consistency_every: 1) and every block is
//    back in its pool at the end;
//  * budgets: no batch exceeds its batcher's token or sequence budget;
//  * every finished request emitted exactly its output tokens;
//  * determinism: the same scenario and seed give identical rows.
// A new batcher, queue order or router is covered by registering it; nothing here changes.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "policies/batching/batcher.h"
#include "policies/queueing/queue_order.h"
#include "policies/routing/router.h"
#include "sim/scenario/runner.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::query;
using testing::TempDir;

std::vector<std::string> names(const std::vector<RegistryEntry>& entries) {
  std::vector<std::string> out;
  for (const RegistryEntry& e : entries) out.push_back(e.name);
  return out;
}

// A test name from registered names ("sarathi-original" → "sarathi_original").
std::string test_name(std::string n) {
  for (char& c : n) {
    if (c == '-') c = '_';
  }
  return n;
}

// Small scenarios that exercise preemption, swap, prefix caching, priorities and clients.
std::vector<std::pair<std::string, std::string>> scenarios() {
  const std::string synthetic =
      "workload:\n  num_requests: 160\n  clients: 3\n  priorities: [0, 1]\n  arrival: {impl: "
      "poisson, rate_per_s: 40}\n"
      "  prompt_tokens: {impl: uniform, min: 16, max: 600}\n  output_tokens: {impl: uniform, min: "
      "1, max: 250}\n";
  std::string arrivals, prompts, outputs, groups, shared, clients;
  for (int i = 0; i < 80; ++i) {
    const std::string sep = i ? ", " : "";
    arrivals += sep + std::to_string(i * 0.015);
    prompts += sep + std::to_string(300 + 41 * (i % 9));
    outputs += sep + std::to_string(10 + 17 * (i % 7));
    groups += sep + std::to_string(1 + i % 3);
    shared += sep + "256";
    clients += sep + std::to_string(i % 2);
  }
  const std::string prefix = "workload: {impl: inline, arrival_s: [" + arrivals +
                             "], prompt_tokens: [" + prompts + "], output_tokens: [" + outputs +
                             "], prefix_group: [" + groups + "], shared_prefix_tokens: [" + shared +
                             "], client_id: [" + clients + "]}\n";
  return {
      {"pressure",
       synthetic + "cluster: {instances: 2, max_model_len: 1024, kv_cache: {num_blocks: 110}}\n"},
      {"swap", synthetic +
                   "cluster: {instances: 1, max_model_len: 1024,"
                   " kv_cache: {num_blocks: 110, preemption_mode: swap, swap_space_gib: 0.05}}\n"},
      {"prefix", prefix + "cluster: {instances: 1, max_model_len: 1024,"
                          " kv_cache: {num_blocks: 120, enable_prefix_caching: true}}\n"},
  };
}

// Runs `yaml` twice with the contract's checks on; returns the first database's path.
std::string run_twice_and_compare(const std::string& yaml, const TempDir& dir) {
  const std::string full =
      "seed: 11\n" + yaml + "output: {consistency_every: 1, check_invariants: true}\n";
  const std::string a = dir.file("a.db"), b = dir.file("b.db");
  RunOutcome out;
  EXPECT_NO_THROW(out = testing::run_yaml(full, a)) << full;
  EXPECT_NO_THROW(testing::run_yaml(full, b));
  for (const char* sql : {"SELECT * FROM requests ORDER BY request_id",
                          "SELECT * FROM iterations ORDER BY instance_id, iteration",
                          "SELECT scope, metric, value FROM summary ORDER BY scope, metric",
                          "SELECT * FROM client_service ORDER BY client_id, window_start_s"}) {
    EXPECT_EQ(query(a, sql), query(b, sql)) << "not deterministic: " << sql;
  }
  EXPECT_EQ(query(a, "SELECT count(*) FROM requests"), std::to_string(out.requests) + "\n")
      << "a request went missing";
  EXPECT_EQ(
      query(a, "SELECT count(*) FROM requests WHERE status = 'rejected' AND reject_reason IS NULL"),
      "0\n");
  return a;
}

class BatcherQueueOrder : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(BatcherQueueOrder, KeepsTheSharedContract) {
  const auto& [batcher, order] = GetParam();
  for (const auto& [name, yaml] : scenarios()) {
    SCOPED_TRACE("scenario " + name);
    TempDir dir;
    const std::string db = run_twice_and_compare(
        yaml + "policies: {batcher: {impl: " + batcher + "}, queue_order: {impl: " + order + "}}\n",
        dir);
    // (a rate-limiting order rejects by design; the rest must be served)
    EXPECT_GT(std::stoi(query(db,
                              "SELECT count(*) FROM requests WHERE status = 'finished' OR "
                              "reject_reason = 'rate_limited'")),
              40)
        << "too few finished";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Every, BatcherQueueOrder,
    ::testing::Combine(::testing::ValuesIn(names(Registry<Batcher>::instance().list())),
                       ::testing::ValuesIn(names(Registry<QueueOrder>::instance().list()))),
    [](const auto& p) { return test_name(std::get<0>(p.param) + "_" + std::get<1>(p.param)); });

class RouterContract : public ::testing::TestWithParam<std::string> {};

TEST_P(RouterContract, KeepsTheSharedContractAndUsesEveryInstance) {
  TempDir dir;
  const std::string db = run_twice_and_compare(
      "workload:\n  num_requests: 200\n  arrival: {impl: poisson, rate_per_s: 60}\n"
      "  prompt_tokens: {impl: uniform, min: 16, max: 600}\n  output_tokens: {impl: uniform, min: "
      "1, max: 250}\n"
      "cluster: {instances: 3, max_model_len: 1024, kv_cache: {num_blocks: 110}}\n"
      "policies: {router: {impl: " +
          GetParam() + "}}\n",
      dir);
  EXPECT_EQ(query(db, "SELECT count(DISTINCT first_instance_id) FROM requests"), "3\n");
}

INSTANTIATE_TEST_SUITE_P(Every, RouterContract,
                         ::testing::ValuesIn(names(Registry<Router>::instance().list())),
                         [](const auto& p) { return test_name(p.param); });

class QueueOrderUnit : public ::testing::TestWithParam<std::string> {};

// The container contract of a queue order, directly: what is pushed can be popped or removed
// exactly once, size() counts it, and head() is stable between mutations.
TEST_P(QueueOrderUnit, HoldsEveryRequestExactlyOnce) {
  auto tree = testing::parse_yaml("{impl: " + GetParam() + "}");
  auto order = make_queue_order(tree->root(), QueueOrderContext{});
  std::vector<RequestState> states(10);
  for (std::uint32_t i = 0; i < states.size(); ++i) {
    states[i].request_id = i;
    states[i].req.priority = static_cast<std::int32_t>(i % 3);
    order->push(queued_view(i, states[i]), i == 7 ? WaitReason::kPreempted : WaitReason::kArrival);
  }
  EXPECT_EQ(order->size(), 10u);
  EXPECT_TRUE(order->remove(4));
  EXPECT_FALSE(order->remove(4));
  std::vector<int> seen(10, 0);
  while (!order->empty()) {
    const RequestSlot h = order->head();
    EXPECT_EQ(order->head(), h) << "head() must be stable";
    order->pop_head();
    ++seen[h];
  }
  for (std::uint32_t i = 0; i < seen.size(); ++i)
    EXPECT_EQ(seen[i], i == 4 ? 0 : 1) << "slot " << i;
  EXPECT_EQ(order->size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Every, QueueOrderUnit,
                         ::testing::ValuesIn(names(Registry<QueueOrder>::instance().list())),
                         [](const auto& p) { return test_name(p.param); });

}  // namespace
}  // namespace servesim
