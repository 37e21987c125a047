// policies/batching/vllm.cc — `vllm`: vLLM v0.4/0.5 default scheduling (ALGORITHMS.md §1.2).
// FCFS continuous batching where an iteration is prefill-only or decode-only:
//  * admit waiting requests FCFS while the KV pool keeps `watermark` of its blocks free and the
//    batch stays within max_num_batched_tokens and max_num_seqs; the head of the queue blocks the
//    queue (no skipping); a request is rejected when its prompt (plus tokens generated before a
//    preemption) exceeds min(max_model_len, max_num_batched_tokens) ("prompt_too_long") or could
//    never fit the pool ("exceeds_kv_capacity");
//  * if nothing was admitted, run every running request's decode step, preempting the newest
//    running request (recompute) when KV blocks run out.
#include <algorithm>

#include "policies/batching/batcher.h"
#include "sim/world/instance.h"

namespace servesim {
namespace {

class VllmBatcher final : public Batcher {
 public:
  VllmBatcher(ConfigNode& cfg, const BatcherContext& ctx) : block_size_(ctx.block_size_tokens) {
    max_num_seqs_ = cfg.get<std::int64_t>("max_num_seqs", 256, "most running sequences (vLLM max_num_seqs)", AtLeast(1));
    max_num_batched_tokens_ = cfg.get<std::int64_t>(
        "max_num_batched_tokens", std::max<std::int64_t>(ctx.max_model_len, 2048),
        "token budget of one iteration; default max(max_model_len, 2048) as vLLM without chunking", AtLeast(1));
    if (max_num_batched_tokens_ < max_num_seqs_) {
      cfg.fail("max_num_batched_tokens", "must be >= max_num_seqs (" + std::to_string(max_num_seqs_) + ")");
    }
    const double watermark = cfg.get<double>("watermark", 0.01, "fraction of KV blocks kept free at admission", InRange(0.0, 0.5));
    watermark_blocks_ = static_cast<std::int64_t>(watermark * static_cast<double>(ctx.total_kv_blocks));
    prompt_limit_ = std::min(ctx.max_model_len, max_num_batched_tokens_);
  }

  void schedule(Instance& inst) override {
    std::int64_t tokens = 0;
    std::int64_t seqs = static_cast<std::int64_t>(inst.num_running());
    bool admitted = false;
    auto& waiting = inst.waiting();
    while (!waiting.empty()) {
      const RequestSlot slot = waiting.front();
      const std::int64_t n = inst.prefill_tokens_needed(slot);
      if (n > prompt_limit_) {
        inst.reject_front("prompt_too_long");
        continue;
      }
      const std::int64_t need = inst.kv().blocks_for_tokens(n);
      if (inst.kv().total_blocks() - need < watermark_blocks_) {
        inst.reject_front("exceeds_kv_capacity");
        continue;
      }
      if (inst.kv().free_blocks() - need < watermark_blocks_) break;  // head-of-line blocks the queue
      if (tokens + n > max_num_batched_tokens_ || seqs + 1 > max_num_seqs_) break;
      inst.admit_front(static_cast<std::int32_t>(n), need);
      tokens += n;
      seqs += 1;
      admitted = true;
    }
    if (!admitted) inst.schedule_decodes();
  }

  std::int64_t token_budget() const override { return max_num_batched_tokens_; }
  std::int64_t seq_budget() const override { return max_num_seqs_; }

 private:
  int block_size_;
  std::int64_t max_num_seqs_ = 0;
  std::int64_t max_num_batched_tokens_ = 0;
  std::int64_t watermark_blocks_ = 0;
  std::int64_t prompt_limit_ = 0;
};

}  // namespace

SERVESIM_REGISTER(Batcher, VllmBatcher, "vllm",
                  "vLLM default: FCFS, prefill-only or decode-only iterations, recompute preemption of the newest")

std::unique_ptr<Batcher> make_batcher(ConfigNode cfg, const BatcherContext& ctx) {
  return Registry<Batcher>::instance().create(cfg, "vllm", ctx);
}

}  // namespace servesim
