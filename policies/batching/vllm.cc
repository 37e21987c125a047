// policies/batching/vllm.cc — `vllm`: vLLM v0.4/0.5 default scheduling (ALGORITHMS.md §1.2).
// FCFS continuous batching where an iteration is prefill-only or decode-only:
//  * while no request is swapped out, admit waiting requests FCFS (admission.h) within
//    max_num_batched_tokens and max_num_seqs; the head of the queue blocks the queue. The
//    token budget counts the whole prompt, prefix-cache hits included, as v0.4 does;
//  * if nothing was admitted, run every running request's decode step, preempting the newest
//    running request when KV blocks run out; if nothing was preempted, swap requests back in
//    (oldest first) while they fit above the watermark and max_num_seqs.
#include <algorithm>

#include "policies/batching/admission.h"
#include "policies/batching/batcher.h"

namespace servesim {
namespace {

class VllmBatcher final : public Batcher {
 public:
  VllmBatcher(ConfigNode& cfg, const BatcherContext& ctx) {
    max_num_seqs_ = cfg.get<std::int64_t>("max_num_seqs", 256, "most running sequences (vLLM max_num_seqs)", AtLeast(1));
    max_num_batched_tokens_ = cfg.get<std::int64_t>(
        "max_num_batched_tokens", std::max<std::int64_t>(ctx.max_model_len, 2048),
        "token budget of one iteration; default max(max_model_len, 2048) as vLLM without chunking", AtLeast(1));
    if (max_num_batched_tokens_ < max_num_seqs_) {
      cfg.fail("max_num_batched_tokens", "must be >= max_num_seqs (" + std::to_string(max_num_seqs_) + ")");
    }
    const double watermark = cfg.get<double>("watermark", 0.01, "fraction of KV blocks kept free at admission", InRange(0.0, 0.5));
    rules_.watermark_blocks = watermark_blocks(watermark, ctx.total_kv_blocks);
    rules_.prompt_limit = std::min(ctx.max_model_len, max_num_batched_tokens_);
  }

  void schedule(Instance& inst) override {
    std::int64_t tokens = 0;
    std::int64_t seqs = static_cast<std::int64_t>(inst.num_running());
    bool admitted = false;
    while (inst.num_swapped() == 0 && rules_.head_fits(inst)) {
      const std::int64_t n = inst.prefill_tokens_needed(inst.waiting().front());
      if (tokens + n > max_num_batched_tokens_ || seqs + 1 > max_num_seqs_) break;
      inst.admit_front(static_cast<std::int32_t>(n));
      tokens += n;
      seqs += 1;
      admitted = true;
    }
    if (admitted) return;
    inst.schedule_decodes();
    if (inst.preempted_this_batch() > 0) return;
    swap_in_while_room(inst, max_num_seqs_, rules_.watermark_blocks);
  }

  std::int64_t token_budget() const override { return max_num_batched_tokens_; }
  std::int64_t seq_budget() const override { return max_num_seqs_; }

 private:
  std::int64_t max_num_seqs_ = 0;
  std::int64_t max_num_batched_tokens_ = 0;
  AdmissionRules rules_;
};

}  // namespace

SERVESIM_REGISTER(Batcher, VllmBatcher, "vllm",
                  "vLLM default: FCFS, prefill-only or decode-only iterations, recompute preemption of the newest")

std::unique_ptr<Batcher> make_batcher(ConfigNode cfg, const BatcherContext& ctx) {
  return Registry<Batcher>::instance().create(cfg, "vllm", ctx);
}

}  // namespace servesim
