// policies/batching/vllm.cc — `vllm`: vLLM v0.4/0.5 default scheduling (ALGORITHMS.md §1.2).
// Continuous batching where an iteration is prefill-only or decode-only:
//  * while no request is swapped out, admit the head of the queue (admission.h; FCFS with the
//    default queue order) within max_num_batched_tokens and max_num_seqs; the head blocks the
//    queue. The token budget counts the whole prompt, prefix-cache hits included, as v0.4 does;
//  * if nothing was admitted, run every running request's decode step, preempting in the
//    victim order (the newest running request by default) when KV blocks run out; if nothing
//    was preempted, swap requests back in (oldest first) while they fit above the watermark
//    and max_num_seqs.
#include <algorithm>

#include "policies/batching/admission.h"

namespace servesim {
namespace {

class VllmBatcher final : public BatcherBase {
 public:
  VllmBatcher(ConfigNode& cfg, const BatcherContext& ctx) : BatcherBase(cfg, ctx, Defaults{}) {
    set_token_budget(cfg, "max_num_batched_tokens",
                     cfg.get<std::int64_t>(
                         "max_num_batched_tokens", std::max<std::int64_t>(ctx.max_model_len, 2048),
                         "token budget of one iteration; default max(max_model_len, 2048) as vLLM "
                         "without chunking",
                         AtLeast(1)));
    rules_.prompt_limit = std::min(ctx.max_model_len, token_budget_);
  }

  void schedule(Instance& inst) override {
    std::int64_t tokens = 0;
    std::int64_t seqs = static_cast<std::int64_t>(inst.num_seated());
    bool admitted = false;
    while (inst.num_swapped() == 0 && rules_.head_fits(inst)) {
      const std::int64_t n = inst.prefill_tokens_needed(inst.waiting_head());
      if (tokens + n > token_budget_ || seqs + 1 > max_num_seqs_) break;
      inst.admit_head(static_cast<std::int32_t>(n));
      tokens += n;
      seqs += 1;
      admitted = true;
    }
    if (admitted) return;
    inst.schedule_decodes();
    if (inst.preempted_this_batch() > 0) return;
    swap_in_while_room(inst, max_num_seqs_, rules_.watermark_blocks);
  }
};

}  // namespace

SERVESIM_REGISTER(
    Batcher, VllmBatcher, "vllm",
    "vLLM default: prefill-only or decode-only iterations, head-of-line admission, recompute "
    "preemption of the newest")

}  // namespace servesim
