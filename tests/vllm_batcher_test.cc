// tests/vllm_batcher_test.cc — the `vllm` batcher and the instance mechanics under it:
// exact iteration timing on hand-checkable cases, and the property tests of ALGORITHMS.md §1.4
// (1: prefill-only or decode-only iterations; 2: the preemption victim is the newest running
// request; 3: FCFS head-of-line blocking) on loaded random workloads with a tiny KV pool.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "sim/scenario/runner.h"
#include "sim/world/observer.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::query;
using testing::run_yaml;
using testing::TempDir;
const char* const kFixedCost = testing::kFixedCostYaml;

std::string inline_scenario(const std::string& arrivals, const std::string& prompts,
                            const std::string& outputs, const std::string& extra_cluster = "",
                            const std::string& batcher = "{impl: vllm}") {
  return "name: t\nseed: 1\nworkload: {impl: inline, arrival_s: " + arrivals +
         ", prompt_tokens: " + prompts + ", output_tokens: " + outputs +
         "}\ncluster:\n  instances: 1\n" + kFixedCost + extra_cluster +
         "policies: {batcher: " + batcher + "}\noutput: {consistency_every: 1}\n";
}

RunOutcome run(const std::string& yaml, const std::string& db,
               std::vector<Observer*> observers = {}) {
  return run_yaml(yaml, db, std::move(observers));
}

TEST(VllmBatcher, SingleRequestTimingIsExact) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  run(inline_scenario("[0]", "[100]", "[5]"), db);
  // prefill 0–10 ms (token 1), decodes end at 15, 20, 25, 30 ms.
  EXPECT_EQ(
      query(
          db,
          "SELECT first_token_s, finish_s, ttft_s, tpot_s, e2e_s, max_tbt_s, status FROM requests"),
      "0.01\t0.03\t0.01\t0.005\t0.03\t0.005\tfinished\n");
  EXPECT_EQ(query(db,
                  "SELECT iteration, start_s, duration_s, prefill_tokens, decode_tokens, "
                  "batch_size FROM iterations"),
            "0\t0\t0.01\t100\t0\t1\n1\t0.01\t0.005\t0\t1\t1\n2\t0.015\t0.005\t0\t1\t1\n"
            "3\t0.02\t0.005\t0\t1\t1\n4\t0.025\t0.005\t0\t1\t1\n");
}

TEST(VllmBatcher, PrefillOfANewArrivalStallsRunningDecodes) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // A: token 1 at 10 ms, token 2 at 15; B arrives at 12 and prefills 15–25 (decodes wait);
  // both decode 25–30: A's gap is 15 ms. A's last token (10th) at 65 ms.
  run(inline_scenario("[0, 0.012]", "[100, 100]", "[10, 2]"), db);
  EXPECT_EQ(
      query(db, "SELECT request_id, ttft_s, finish_s, max_tbt_s FROM requests ORDER BY request_id"),
      "0\t0.01\t0.065\t0.015\n1\t0.013\t0.03\t0.005\n");
  const std::string tpot = query(db, "SELECT tpot_s FROM requests WHERE request_id = 0");
  EXPECT_NEAR(std::stod(tpot), 0.055 / 9, 1e-9);
  // TBT samples: A has eight 5 ms gaps and one 15 ms gap, B one 5 ms gap.
  EXPECT_EQ(query(db,
                  "SELECT metric, value FROM summary WHERE metric IN ('tbt_p50_s','tbt_max_s') "
                  "ORDER BY metric"),
            "tbt_max_s\t0.015\ntbt_p50_s\t0.005\n");
}

TEST(VllmBatcher, AdmitsSeveralPrefillsTogetherWithinTheTokenBudget) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  run(inline_scenario("[0, 0, 0]", "[300, 300, 300]", "[2, 2, 2]", "",
                      "{impl: vllm, max_num_batched_tokens: 600}"),
      db);
  EXPECT_EQ(
      query(db, "SELECT iteration, prefill_tokens, decode_tokens, batch_size FROM iterations"),
      "0\t600\t0\t2\n1\t300\t0\t1\n2\t0\t3\t3\n");
}

TEST(VllmBatcher, RejectsWithReasons) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // 1: prompt above max_num_batched_tokens (300); 2: 19 blocks would leave fewer than the
  // watermark's 16 of the pool's 32 free, ever; 3: prompt + output above max_model_len (512).
  run(inline_scenario("[0, 0, 0, 0]", "[100, 400, 290, 500]", "[4, 4, 4, 20]",
                      "  max_model_len: 512\n  kv_cache: {num_blocks: 32}\n",
                      "{impl: vllm, max_num_batched_tokens: 300, max_num_seqs: 8, watermark: 0.5}"),
      db);
  EXPECT_EQ(query(db, "SELECT request_id, status, reject_reason FROM requests ORDER BY request_id"),
            "0\tfinished\tNULL\n1\trejected\tprompt_too_long\n2\trejected\texceeds_kv_capacity\n"
            "3\trejected\texceeds_max_model_len\n");
  EXPECT_EQ(query(db, "SELECT value FROM summary WHERE metric = 'requests_rejected'"), "3\n");
}

// Tracks per-instance waiting and running sets from the signals and checks §1.4 rules 1–3.
class VllmRules final : public Observer {
 public:
  void on_arrival(const RequestState& r) override { waiting_.insert(r.request_id); }
  void on_reject(const RequestState& r) override { waiting_.erase(r.request_id); }
  void on_admit(const RequestState& r) override {
    // Rule 3: only the head of the FCFS queue is ever admitted.
    ASSERT_FALSE(waiting_.empty());
    EXPECT_EQ(r.request_id, *waiting_.begin()) << "admitted past the head of the queue";
    // Recompute preemption re-prefills the prompt plus the tokens generated before it (as
    // recorded here when the preemption was signalled).
    const auto it = generated_at_preemption_.find(r.request_id);
    EXPECT_EQ(r.prefill_target_tokens,
              r.req.prompt_tokens + (it == generated_at_preemption_.end() ? 0 : it->second))
        << "request " << r.request_id;
    waiting_.erase(r.request_id);
    running_.insert(r.request_id);
    ++admits_;
  }
  void on_preempt(const RequestState& r) override {
    // Rule 2: the victim is the newest running request.
    ASSERT_FALSE(running_.empty());
    EXPECT_EQ(r.request_id, *running_.rbegin()) << "preempted a request that is not the newest";
    running_.erase(r.request_id);
    waiting_.insert(r.request_id);
    generated_at_preemption_[r.request_id] = r.generated_tokens;
    ++preemptions_;
  }
  void on_finish(const RequestState& r) override {
    running_.erase(r.request_id);
    ++finished_;
  }
  void on_iteration(const IterationRecord& it) override {
    // Rule 1: an iteration is prefill-only or decode-only.
    EXPECT_FALSE(it.prefill_tokens > 0 && it.decode_tokens > 0)
        << "mixed iteration " << it.iteration;
    EXPECT_LE(it.running, 64);
  }
  std::int64_t admits_ = 0, preemptions_ = 0, finished_ = 0;

 private:
  std::set<std::uint64_t> waiting_, running_;
  std::map<std::uint64_t, std::int32_t> generated_at_preemption_;
};

TEST(VllmBatcher, PropertiesHoldUnderMemoryPressure) {
  for (std::uint64_t seed : {1, 2, 3}) {
    TempDir dir;
    VllmRules rules;
    const std::string yaml =
        "name: pressure\nseed: " + std::to_string(seed) +
        "\nworkload:\n  impl: synthetic\n  num_requests: 400\n  arrival: {impl: poisson, "
        "rate_per_s: 40}\n"
        "  prompt_tokens: {impl: uniform, min: 16, max: 600}\n  output_tokens: {impl: uniform, "
        "min: 1, max: 300}\n"
        "cluster:\n  instances: 1\n  max_model_len: 1024\n  kv_cache: {num_blocks: 120}\n  "
        "cost_model: {impl: roofline}\n"
        "policies: {batcher: {impl: vllm, max_num_seqs: 64, max_num_batched_tokens: 2048}}\n"
        "output: {consistency_every: 1}\n";
    const RunOutcome out = run(yaml, dir.file("r.db"), {&rules});
    EXPECT_GT(rules.preemptions_, 10)
        << "the workload should force preemptions (seed " << seed << ")";
    EXPECT_EQ(rules.finished_ +
                  std::stoll(query(dir.file("r.db"),
                                   "SELECT count(*) FROM requests WHERE status='rejected'")),
              400);
    EXPECT_EQ(out.requests, 400);
  }
}

}  // namespace
}  // namespace servesim
