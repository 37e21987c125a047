// policies/batching/distserve.cc — `distserve`: DistServe's two stage schedulers (ALGORITHMS.md
// §3.2; distserve/context_stage_scheduler.py, decoding_stage_scheduler.py), by the instance's
// role. Both keep one batch in flight per pipeline stage (pipeline_slots() = pp): a new batch
// enters every iteration / pp, and the iterations table shows a slot left empty as a bubble.
//
// Prefill role (context stage): FCFS; a batch takes whole prompts while it holds fewer than
// max_batch_size requests, its prompt tokens stay within max_tokens_per_batch, and the KV pool
// still has room for the prompt's blocks — the blocks of requests waiting in the bridge and of
// copies in flight stay allocated on the instance, so the free-block count already subtracts
// them, as DistServe's `blocks(batch ∪ r) + blocks(unaccepted) + on_fly ≤ max` does.
//
// Decode role (decoding stage): the decode requests are spread over pp decode groups, one per
// micro-batch slot; each batch steps the next group (round robin) that is not in flight and has
// members. When KV blocks run out the victim (the newest of the group by default) is swapped
// out (`cluster.kv_cache.preemption_mode: swap`; recompute otherwise, which re-prefills on the
// decode instance); swapped requests come back, oldest first, before anything else. A request
// waiting here (only after a recompute preemption) is re-prefilled in a batch of its own.
// Colocated role: new prompts first (a prefill-only batch, as vLLM), else the next group's
// decode step — a prefill-or-decode scheduler with pipeline slots, for colocated baselines.
#include <algorithm>

#include "policies/batching/admission.h"

namespace servesim {
namespace {

class DistServeBatcher final : public BatcherBase {
 public:
  DistServeBatcher(ConfigNode& cfg, const BatcherContext& ctx)
      : BatcherBase(cfg, ctx,
                    Defaults{.seqs_key = "max_batch_size",
                             .max_num_seqs = ctx.role == InstanceRole::kPrefill ? 128 : 1024,
                             .watermark = false}),
        role_(ctx.role),
        pp_(ctx.pipeline_parallel) {
    const std::int64_t default_tokens = ctx.role == InstanceRole::kPrefill ? 8192 : 65536;
    token_budget_ = cfg.get<std::int64_t>(
        "max_tokens_per_batch", default_tokens,
        "tokens of one batch (DistServe eval: 8192 context, 65536 decoding)", AtLeast(1));
    rules_.prompt_limit = std::min(ctx.max_model_len, token_budget_);
  }

  int decode_groups() const override { return pp_; }
  int pipeline_slots() const override { return pp_; }

  void schedule(Instance& inst) override {
    if (role_ == InstanceRole::kPrefill) {
      admit_prompts(inst);
      return;
    }
    if (role_ == InstanceRole::kColocated && admit_prompts(inst)) return;
    // Decode (and colocated): swapped requests first, then the next group's step.
    const int g = next_group(inst);
    if (g >= 0) {
      inst.schedule_decodes(/*one_free_block_each=*/false, g);
      if (inst.preempted_this_batch() == 0) swap_in_while_room(inst, max_num_seqs_, 0);
      return;
    }
    if (inst.num_swapped() > 0) return;  // everything swapped waits for a group step to free room
    admit_prompts(inst);
  }

 private:
  // Admits whole prompts in queue order; true when any was admitted.
  bool admit_prompts(Instance& inst) {
    std::int64_t tokens = 0, seqs = 0;
    while (inst.num_swapped() == 0 && rules_.head_fits(inst)) {
      const std::int64_t n = inst.prefill_tokens_needed(inst.waiting_head());
      if (tokens + n > token_budget_ || seqs + 1 > max_num_seqs_) break;
      inst.admit_head(static_cast<std::int32_t>(n));
      tokens += n;
      ++seqs;
    }
    return seqs > 0;
  }

  // The next decode group (round robin) that has members and no step in flight; −1 if none.
  int next_group(const Instance& inst) {
    for (int i = 0; i < pp_; ++i) {
      const int g = (turn_ + i) % pp_;
      if (inst.decode_group(g).count() > 0 && !inst.group_in_flight(g)) {
        turn_ = (g + 1) % pp_;
        return g;
      }
    }
    return -1;
  }

  InstanceRole role_;
  int pp_;
  int turn_ = 0;
};

}  // namespace

SERVESIM_REGISTER(
    Batcher, DistServeBatcher, "distserve",
    "DistServe stage schedulers by role: whole-prompt FCFS batches (prefill), one decode "
    "group per pipeline micro-batch slot (decode)")

}  // namespace servesim
