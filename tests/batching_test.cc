// tests/batching_test.cc — issue 5's policies on whole runs: prefix-cache hits (ALGORITHMS.md
// §1.4 rule 4), swap preemption with exact timing, and the Sarathi properties of §2.5 (token
// budget, stall-free decodes, bounded TBT), plus sarathi-original and orca.
#include <gtest/gtest.h>

#include <set>

#include "sim/scenario/runner.h"
#include "sim/world/observer.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::query;
using testing::TempDir;

RunOutcome run(const std::string& yaml, const std::string& db,
               std::vector<Observer*> observers = {}) {
  return testing::run_yaml(yaml, db, std::move(observers));
}
const char* const kFixedCost = testing::kFixedCostYaml;

TEST(PrefixCache, SecondRequestComputesOnlyUncachedTokens) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // A (1000 tokens, first 512 shared with group 1) prefills at 0–10 ms; B arrives at 50 ms with
  // 800 tokens of which the same 512 are shared: 32 cached blocks, 288 tokens computed. C shares
  // its whole 512-token prompt: the last block is always recomputed (496 cached, 16 computed).
  run("workload: {impl: inline, arrival_s: [0, 0.05, 0.1], prompt_tokens: [1000, 800, 512], "
      "output_tokens: [2, 2, 2],\n"
      "           prefix_group: [1, 1, 1], shared_prefix_tokens: [512, 512, 512]}\n"
      "cluster:\n  kv_cache: {enable_prefix_caching: true}\n" +
          std::string(kFixedCost) + "output: {consistency_every: 1}\n",
      db);
  EXPECT_EQ(query(db, "SELECT request_id, cached_tokens FROM requests ORDER BY request_id"),
            "0\t0\n1\t512\n2\t496\n");
  EXPECT_EQ(
      query(db, "SELECT prefill_tokens FROM iterations WHERE prefill_tokens > 0 ORDER BY start_s"),
      "1000\n288\n16\n");
  EXPECT_EQ(query(db, "SELECT round(value, 6) FROM summary WHERE metric = 'prefix_hit_rate'"),
            std::to_string(1008.0 / 2312.0).substr(0, 8) + "\n");
}

TEST(PrefixCache, WithoutCachingNothingIsReused) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  run("workload: {impl: inline, arrival_s: [0, 0.05], prompt_tokens: [1000, 800], output_tokens: "
      "[2, 2],\n"
      "           prefix_group: [1, 1], shared_prefix_tokens: [512, 512]}\ncluster:\n" +
          std::string(kFixedCost),
      db);
  EXPECT_EQ(query(db, "SELECT sum(cached_tokens) FROM requests"), "0\n");
  EXPECT_EQ(query(db, "SELECT sum(prefill_tokens) FROM iterations"), "1800\n");
}

TEST(PrefixCache, HitsSurviveLoadAndAccountingBalances) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // 40 requests in 4 prefix groups through a small pool with preemptions: the invariant checker
  // audits the cache's books every iteration; later requests of a group hit.
  std::string arrivals, prompts, outputs, groups, shared;
  for (int i = 0; i < 40; ++i) {
    const std::string sep = i ? ", " : "";
    arrivals += sep + std::to_string(i * 0.02);
    prompts += sep + std::to_string(600 + 37 * (i % 7));
    outputs += sep + std::to_string(20 + 13 * (i % 5));
    groups += sep + std::to_string(1 + i % 4);
    shared += sep + "400";
  }
  run("workload: {impl: inline, arrival_s: [" + arrivals + "], prompt_tokens: [" + prompts +
          "], output_tokens: [" + outputs + "], prefix_group: [" + groups +
          "], shared_prefix_tokens: [" + shared +
          "]}\n"
          "cluster:\n  max_model_len: 1024\n  kv_cache: {enable_prefix_caching: true, num_blocks: "
          "160}\n" +
          kFixedCost + "output: {consistency_every: 1}\n",
      db);
  EXPECT_EQ(query(db, "SELECT count(*) FROM requests WHERE status = 'finished'"), "40\n");
  EXPECT_GT(std::stoi(query(db, "SELECT count(*) FROM requests WHERE cached_tokens >= 384")), 10);
  EXPECT_EQ(
      query(db,
            "SELECT count(DISTINCT prompt_tokens % 4) FROM requests WHERE cached_tokens >= 384"),
      "4\n")
      << "every prefix group gets hits";
}

TEST(SwapPreemption, RoundTripRestoresStateAndChargesTheHostLink) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // 12 blocks of 16 tokens, watermark int(0.1 × 12) = 1 block. A (64 + 100 tokens) and B
  // (64 + 60) prefill together (10 ms), then decode at 5 ms a step. Step 17 takes the last two
  // free blocks (position 80); at step 18 A finds no free block (vLLM checks every running
  // request) and B, the newest, is swapped out with 18 tokens generated (6 blocks). Swapping it
  // back needs 6 blocks and 1 spare, which only A's finish (step 99) frees; B then emits tokens
  // 19..60 in 42 steps. Each copy moves 6 blocks × 2 MiB over the 64 GB/s host link.
  run("workload: {impl: inline, arrival_s: [0, 0], prompt_tokens: [64, 64], output_tokens: [100, "
      "60]}\n"
      "cluster:\n  max_model_len: 192\n  kv_cache: {num_blocks: 12, preemption_mode: swap}\n" +
          std::string(kFixedCost) +
          "policies: {batcher: {impl: vllm, watermark: 0.1}}\noutput: {consistency_every: 1}\n",
      db);
  const double copy_s = 6.0 * 2097152.0 / 64e9;
  const double a_finish = 0.010 + 99 * 0.005 + copy_s;
  const double b_finish = a_finish + 42 * 0.005 + copy_s;
  EXPECT_EQ(query(db, "SELECT request_id, preemptions, status FROM requests ORDER BY request_id"),
            "0\t0\tfinished\n1\t1\tfinished\n");
  EXPECT_NEAR(std::stod(query(db, "SELECT finish_s FROM requests WHERE request_id = 0")), a_finish,
              1e-8);
  EXPECT_NEAR(std::stod(query(db, "SELECT finish_s FROM requests WHERE request_id = 1")), b_finish,
              1e-8);
  // B's longest gap: from its token at the end of step 17 to the end of its swap-in iteration.
  EXPECT_NEAR(std::stod(query(db, "SELECT max_tbt_s FROM requests WHERE request_id = 1")),
              a_finish + 0.005 + copy_s - (0.010 + 17 * 0.005), 1e-8);
  EXPECT_EQ(query(db, "SELECT sum(prefill_tokens) FROM iterations"), "128\n")
      << "swap never re-prefills";
  // Recompute instead: B re-prefills its 64 prompt + 18 generated tokens once A is done.
  const std::string db2 = dir.file("r2.db");
  run("workload: {impl: inline, arrival_s: [0, 0], prompt_tokens: [64, 64], output_tokens: [100, "
      "60]}\n"
      "cluster:\n  max_model_len: 192\n  kv_cache: {num_blocks: 12}\n" +
          std::string(kFixedCost) + "policies: {batcher: {impl: vllm, watermark: 0.1}}\n",
      db2);
  EXPECT_EQ(
      query(db2, "SELECT prefill_tokens FROM iterations WHERE prefill_tokens > 0 ORDER BY start_s"),
      "128\n82\n");
  // Swap mode whose host space (0.01 GiB = 5 blocks) cannot take B's 6 blocks falls back to
  // recompute: the same run as recompute mode, with no host-link time.
  const std::string db3 = dir.file("r3.db");
  run("workload: {impl: inline, arrival_s: [0, 0], prompt_tokens: [64, 64], output_tokens: [100, "
      "60]}\n"
      "cluster:\n  max_model_len: 192\n  kv_cache: {num_blocks: 12, preemption_mode: swap, "
      "swap_space_gib: 0.01}\n" +
          std::string(kFixedCost) +
          "policies: {batcher: {impl: vllm, watermark: 0.1}}\noutput: {consistency_every: 1}\n",
      db3);
  const char* rows = "SELECT request_id, preemptions, finish_s FROM requests ORDER BY request_id";
  EXPECT_EQ(query(db3, rows), query(db2, rows));
  EXPECT_EQ(
      query(db3, "SELECT prefill_tokens FROM iterations WHERE prefill_tokens > 0 ORDER BY start_s"),
      "128\n82\n");
}

// Tracks decoding requests from the signals and checks Sarathi's §2.5 properties 1 and 2.
class StallFree final : public Observer {
 public:
  explicit StallFree(std::int64_t tau) : tau_(tau) {}
  void on_first_token(const RequestState& r) override {
    if (r.req.output_tokens > 1) pending_.insert(r.request_id);
  }
  void on_finish(const RequestState& r) override {
    decoding_.erase(r.request_id);
    pending_.erase(r.request_id);
  }
  void on_preempt(const RequestState&) override { ++preemptions_; }
  void on_iteration(const IterationRecord& it) override {
    EXPECT_LE(it.prefill_tokens + it.decode_tokens, tau_) << "token budget exceeded";
    // Requests whose first token came at the end of the previous batch decode from this one on.
    decoding_.insert(pending_.begin(), pending_.end());
    pending_.clear();
    EXPECT_EQ(it.decode_tokens, static_cast<std::int64_t>(decoding_.size()))
        << "a running decode was left out (stall)";
    if (it.prefill_tokens > 0 && it.decode_tokens > 0) ++mixed_;
  }
  std::int64_t mixed_ = 0, preemptions_ = 0;

 private:
  std::int64_t tau_;
  std::set<std::uint64_t> decoding_, pending_;
};

std::string loaded_scenario(const std::string& batcher) {
  return "seed: 3\nworkload:\n  num_requests: 300\n  arrival: {impl: poisson, rate_per_s: 12}\n"
         "  prompt_tokens: {impl: lognormal, mean: 1150, cv: 1.2, max: 6000}\n"
         "  output_tokens: {impl: lognormal, mean: 210, cv: 1.0, max: 1500}\n"
         "cluster: {instances: 1, cost_model: {impl: roofline}}\n"
         "policies: {batcher: " +
         batcher + "}\noutput: {consistency_every: 64}\n";
}

TEST(Sarathi, BudgetIsNeverExceededAndDecodesNeverStall) {
  for (int tau : {256, 512, 2048}) {
    TempDir dir;
    StallFree check(tau);
    run(loaded_scenario("{impl: sarathi, chunk_size: " + std::to_string(tau) +
                        ", max_num_seqs: 128}"),
        dir.file("r.db"), {&check});
    EXPECT_GT(check.mixed_, 50) << "chunks should ride along with decodes (tau " << tau << ")";
    EXPECT_EQ(check.preemptions_, 0);
  }
}

TEST(Sarathi, TailTbtStaysNearTheChunkIterationWhileVllmStalls) {
  TempDir dir;
  run(loaded_scenario("{impl: vllm}"), dir.file("v.db"));
  run(loaded_scenario("{impl: sarathi, chunk_size: 512}"), dir.file("s.db"));
  const double vllm =
      std::stod(query(dir.file("v.db"), "SELECT value FROM summary WHERE metric = 'tbt_p99_s'"));
  const double sarathi =
      std::stod(query(dir.file("s.db"), "SELECT value FROM summary WHERE metric = 'tbt_p99_s'"));
  const double sarathi_max_iter =
      std::stod(query(dir.file("s.db"), "SELECT max(duration_s) FROM iterations"));
  EXPECT_LT(sarathi * 1.5, vllm) << "vLLM's decodes wait behind whole prefills";
  EXPECT_LE(sarathi, sarathi_max_iter * 1.000001) << "a Sarathi gap is one iteration";
}

TEST(SarathiOriginal, OnePrefillChunkPerIteration) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  run(loaded_scenario("{impl: sarathi-original, chunk_size: 256, max_num_seqs: 64}"), db);
  EXPECT_EQ(query(db,
                  "SELECT max(num_prefills), max(prefill_tokens) <= 256, max(batch_size) <= 64 "
                  "FROM iterations"),
            "1\t1\t1\n");
  EXPECT_EQ(query(db, "SELECT value FROM summary WHERE metric = 'requests_completed'"), "300\n");
}

TEST(Orca, ReservesMaximumKvAndNeverPreempts) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  run(loaded_scenario("{impl: orca, max_batch_size: 64}") + "", db);
  EXPECT_EQ(query(db,
                  "SELECT value FROM summary WHERE metric IN ('preemptions', 'requests_completed') "
                  "ORDER BY metric"),
            "0\n300\n");
  EXPECT_GT(
      std::stoi(query(
          db, "SELECT count(*) FROM iterations WHERE prefill_tokens > 0 AND decode_tokens > 0")),
      10)
      << "Orca mixes whole prompts with decodes";
  // Every running request holds exactly max_model_len (8192 tokens = 512 blocks), from admission
  // on.
  EXPECT_EQ(query(db,
                  "SELECT count(*), sum(kv_blocks_used % 512 != 0) FROM iterations WHERE "
                  "kv_blocks_used > 0"),
            query(db, "SELECT count(*), 0 FROM iterations WHERE kv_blocks_used > 0"));
}

// Review §3.1 item 1: the reservation must be the admitted head's, not that of a head rejected
// just before it.
TEST(Orca, ReserveOutputIsTheAdmittedRequestsAfterARejection) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  run("workload: {impl: inline, arrival_s: [0, 0], prompt_tokens: [600, 100], output_tokens: [10, "
      "1000]}\n"
      "cluster:\n" +
          std::string(kFixedCost) +
          "policies: {batcher: {impl: orca, max_num_batched_tokens: 512, reserve: "
          "output}}\noutput: {consistency_every: 1}\n",
      db);
  EXPECT_EQ(query(db, "SELECT request_id, status, reject_reason FROM requests ORDER BY request_id"),
            "0\trejected\tprompt_too_long\n1\tfinished\tNULL\n");
  EXPECT_EQ(query(db, "SELECT min(kv_blocks_used), max(kv_blocks_used) FROM iterations"),
            "69\t69\n")
      << "ceil((100 + 1000) / 16) = 69 blocks from the first iteration, never growing";
}

// Review §3.1 item 2: a lone request that must preempt itself (vLLM's one-free-block rule on a
// 4-block pool) used to leave the instance idle with the request queued.
TEST(Liveness, AnInstanceThatPreemptedEverythingFormsTheNextBatch) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  run("workload: {impl: inline, arrival_s: [0], prompt_tokens: [47], output_tokens: [17]}\n"
      "cluster:\n  max_model_len: 64\n  kv_cache: {num_blocks: 4}\n" +
          std::string(kFixedCost) + "output: {consistency_every: 1}\n",
      db);
  EXPECT_EQ(query(db, "SELECT status, preemptions > 0 FROM requests"), "finished\t1\n");
}

// Review §3.1 item 3: decode-maximal batching keeps the prefill slot: at most B − 1 decodes.
TEST(SarathiOriginal, AtMostBMinusOneDecodesPerIteration) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  run(loaded_scenario("{impl: sarathi-original, chunk_size: 256, max_num_seqs: 16}"), db);
  EXPECT_EQ(query(db, "SELECT max(decode_tokens) FROM iterations"), "15\n");
  EXPECT_GT(std::stoi(query(db, "SELECT count(*) FROM iterations WHERE decode_tokens = 15")), 100)
      << "the cap binds under this load";
}

TEST(Sarathi, DynamicChunkScheduleShrinksChunksAsThePrefixGrows) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // Sizes linspace(512, 128, 4) = 512, 384, 256, 128; stage = processed // ceil(2048 / 4).
  run("workload: {impl: inline, arrival_s: [0], prompt_tokens: [2000], output_tokens: [2]}\n"
      "cluster:\n" +
          std::string(kFixedCost) +
          "policies: {batcher: {impl: sarathi, enable_dynamic_chunking_schedule: true, "
          "low_chunk_size: 128,"
          " high_chunk_size: 512, chunk_schedule_max_tokens: 2048, chunk_schedule_stages: 4}}\n",
      db);
  EXPECT_EQ(
      query(db,
            "SELECT group_concat(prefill_tokens, ' ') FROM (SELECT prefill_tokens FROM iterations "
            "WHERE prefill_tokens > 0 ORDER BY iteration)"),
      "512 384 384 256 128 128 128 80\n");
}

TEST(LeastLoaded, SendsToTheInstanceWithFewestUnfinishedRequests) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  // A→0 (tie: lowest id); B→1; C→0 (1 each; 0 has more free blocks than B's 2000-token
  // instance); D at 1 s → 1 (A and C still decode on 0); E at 1.001 s → 1 again (D runs there,
  // 2 still on 0) where round robin would say 0.
  run("workload: {impl: inline, arrival_s: [0, 0.001, 0.002, 1.0, 1.001], prompt_tokens: [100, "
      "2000, 100, 100, 100],"
      " output_tokens: [1000, 10, 1000, 5, 5]}\n"
      "cluster:\n  instances: 2\n" +
          std::string(kFixedCost) + "policies: {router: {impl: least_loaded}}\n",
      db);
  EXPECT_EQ(query(db,
                  "SELECT group_concat(first_instance_id, ' ') FROM (SELECT first_instance_id FROM "
                  "requests "
                  "ORDER BY request_id)"),
            "0 1 0 1 1\n");
}

TEST(PrefixCache, AdmissionDiscountAdmitsWhatReallyFits) {
  // A holds 32 prompt blocks (512 tokens, prefix group 1) plus its decode growth in a 64-block
  // pool; B shares the same 512 tokens. vLLM v1 demands 32 free blocks for B (it waits for A);
  // with the discount B takes no new block beyond its last one and starts at once.
  TempDir dir;
  std::string base =
      "workload: {impl: inline, arrival_s: [0, 0.05], prompt_tokens: [512, 512], output_tokens: "
      "[300, 2],\n"
      "           prefix_group: [1, 1], shared_prefix_tokens: [512, 512]}\n"
      "cluster:\n  max_model_len: 1000\n" +
      std::string(kFixedCost);
  run(base +
          "  kv_cache: {enable_prefix_caching: true, num_blocks: 64}\noutput: {consistency_every: "
          "1}\n",
      dir.file("v1.db"));
  run(base +
          "  kv_cache: {enable_prefix_caching: true, num_blocks: 64, "
          "apc_discount_cached_in_admission: true}\n"
          "output: {consistency_every: 1}\n",
      dir.file("d.db"));
  const double wait_v1 = std::stod(
      query(dir.file("v1.db"), "SELECT sched_delay_s FROM requests WHERE request_id = 1"));
  const double wait_d =
      std::stod(query(dir.file("d.db"), "SELECT sched_delay_s FROM requests WHERE request_id = 1"));
  EXPECT_GT(wait_v1, 1.0) << "B waits for A's 300 tokens";
  EXPECT_LT(wait_d, 0.01);
  EXPECT_EQ(query(dir.file("d.db"), "SELECT cached_tokens FROM requests WHERE request_id = 1"),
            "496\n");
}

}  // namespace
}  // namespace servesim
