// policies/batching/admission.h — what the vLLM-family batchers share, in one place:
//
// AdmissionRules: the checks applied to the head of an instance's queue (ALGORITHMS.md §1.2,
// §2.2):
//  * tokens to prefill above `prompt_limit`             → reject "prompt_too_long";
//  * blocks it needs would leave fewer than the watermark even in an empty pool
//                                                        → reject "exceeds_kv_capacity";
//  * blocks it takes would leave fewer than the watermark free now → wait (head-of-line:
//    nothing behind it is admitted in this iteration).
// A request takes the blocks of its prompt (+ generated tokens), or of a reservation computed for
// *that* request (reserve_tokens(): Orca's max_model_len, the request's own max_output_tokens, or
// the oracle output), after which it never needs a block to decode.
//
// BatcherBase: the parameters every batcher here reads the same way (max_num_seqs, watermark,
// victim) and the accessors of the Batcher interface that follow from them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "policies/batching/batcher.h"
#include "sim/world/instance.h"

namespace servesim {

struct AdmissionRules {
  enum class Reserve : std::uint8_t {
    kPrompt,       // the blocks of the tokens to prefill (paged KV: vLLM, Sarathi)
    kMaxModelLen,  // max_model_len tokens' worth (Orca without paging)
    kOutput,       // prompt + output tokens (Orca with an output-length oracle)
    kMaxOutput,    // prompt + the request's max_output_tokens (the limit it was sent with)
  };
  std::int64_t prompt_limit = 0;
  std::int64_t watermark_blocks = 0;
  Reserve reserve = Reserve::kPrompt;
  std::int64_t max_model_len = 0;

  // Tokens whose blocks admitting `r` reserves beyond its prompt (0: none).
  std::int64_t reserve_tokens(const RequestState& r) const {
    switch (reserve) {
      case Reserve::kPrompt:
        return 0;
      case Reserve::kMaxModelLen:
        return max_model_len;
      case Reserve::kOutput:
        return static_cast<std::int64_t>(r.req.prompt_tokens) + r.req.output_tokens;
      case Reserve::kMaxOutput:
        return static_cast<std::int64_t>(r.req.prompt_tokens) + r.req.max_output_tokens;
    }
    return 0;
  }

  // Rejects inadmissible requests at the head of `inst`'s queue; then returns true when the
  // (new) head can be admitted as far as memory goes, false when it must wait or the queue is
  // empty.
  bool head_fits(Instance& inst) const {
    while (inst.has_waiting()) {
      const RequestSlot slot = inst.waiting_head();
      const std::int64_t n = inst.prefill_tokens_needed(slot);
      if (n > prompt_limit) {
        inst.reject_head("prompt_too_long");
        continue;
      }
      const std::int64_t reserve_n = reserve_tokens(inst.request(slot));
      const std::int64_t tokens = std::max(n, reserve_n);
      if (inst.kv().total_blocks() - inst.kv().blocks_for_tokens(tokens) < watermark_blocks) {
        inst.reject_head("exceeds_kv_capacity");
        continue;
      }
      const std::int64_t need =
          reserve_n > n ? inst.kv().blocks_for_tokens(tokens) : inst.admission_blocks(slot);
      return inst.kv().free_blocks() - need >= watermark_blocks;
    }
    return false;
  }
};

// Brings swapped requests back, oldest first, while one more running request stays within
// `max_running` and the pool keeps `watermark_blocks` free (vLLM's can_swap_in).
inline void swap_in_while_room(Instance& inst, std::int64_t max_running,
                               std::int64_t watermark_blocks) {
  while (static_cast<std::int64_t>(inst.num_seated()) + 1 <= max_running &&
         inst.can_swap_in_head(watermark_blocks)) {
    inst.swap_in_head();
  }
}

// vLLM's watermark: int(fraction × total blocks).
inline std::int64_t watermark_blocks(double fraction, std::int64_t total_blocks) {
  return static_cast<std::int64_t>(fraction * static_cast<double>(total_blocks));
}

class BatcherBase : public Batcher {
 public:
  std::int64_t token_budget() const override { return token_budget_; }
  std::int64_t seq_budget() const override { return max_num_seqs_; }
  VictimOrder victim_order() const override { return victim_; }
  std::int64_t watermark_blocks() const override { return rules_.watermark_blocks; }

 protected:
  struct Defaults {
    const char* seqs_key = "max_num_seqs";  // Orca calls it max_batch_size
    std::int64_t max_num_seqs = 256;
    bool watermark = true;  // Orca keeps no watermark
  };
  BatcherBase(ConfigNode& cfg, const BatcherContext& ctx, const Defaults& d)
      : max_num_seqs_key_(d.seqs_key) {
    max_num_seqs_ =
        cfg.get<std::int64_t>(d.seqs_key, d.max_num_seqs, "most running sequences", AtLeast(1));
    if (d.watermark) {
      const double fraction = cfg.get<double>(
          "watermark", 0.01, "fraction of KV blocks kept free at admission", InRange(0.0, 0.5));
      rules_.watermark_blocks = servesim::watermark_blocks(fraction, ctx.total_kv_blocks);
    }
    victim_ = cfg.choice("victim", "newest", {"newest", "lowest_priority"},
                         "preemption victim: the newest running request, or the lowest priority "
                         "(newest among equals)") == "newest"
                  ? VictimOrder::kNewest
                  : VictimOrder::kLowestPriority;
    rules_.prompt_limit = ctx.max_model_len;
    rules_.max_model_len = ctx.max_model_len;
  }
  // REQUIRES: token_budget >= max_num_seqs_ (decodes alone always fit).
  void set_token_budget(ConfigNode& cfg, const char* key, std::int64_t budget) {
    if (budget < max_num_seqs_) {
      cfg.fail(key, "must be >= " + std::string(max_num_seqs_key_) + " (" +
                        std::to_string(max_num_seqs_) + ")");
    }
    token_budget_ = budget;
  }

  const char* max_num_seqs_key_;
  std::int64_t max_num_seqs_ = 0;
  std::int64_t token_budget_ = 0;
  VictimOrder victim_ = VictimOrder::kNewest;
  AdmissionRules rules_;
};

}  // namespace servesim
