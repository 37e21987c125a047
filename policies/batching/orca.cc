// policies/batching/orca.cc — `orca`: iteration-level scheduling as in Orca (OSDI'22): every
// iteration runs all running decodes plus whole prompts of newly admitted requests (mixed
// batches, no chunking), FCFS up to max_batch_size sequences and max_num_batched_tokens tokens.
// Without paged memory, Orca reserves each request's maximum KV up front: `reserve: max_model_len`
// (default; prompt + output may reach max_model_len) or `reserve: output` (an oracle that knows
// the output length). Reserved requests never need blocks while decoding, so never preempt.
#include <algorithm>

#include "policies/batching/admission.h"
#include "policies/batching/batcher.h"

namespace servesim {
namespace {

class OrcaBatcher final : public Batcher {
 public:
  OrcaBatcher(ConfigNode& cfg, const BatcherContext& ctx) : max_model_len_(ctx.max_model_len) {
    max_batch_size_ = cfg.get<std::int64_t>("max_batch_size", 256, "most sequences per iteration", AtLeast(1));
    max_num_batched_tokens_ = cfg.get<std::int64_t>("max_num_batched_tokens", std::max<std::int64_t>(ctx.max_model_len, 2048),
                                                    "token budget of one iteration", AtLeast(1));
    if (max_num_batched_tokens_ < max_batch_size_) {
      cfg.fail("max_num_batched_tokens", "must be >= max_batch_size (" + std::to_string(max_batch_size_) + ")");
    }
    reserve_output_ = cfg.choice("reserve", "max_model_len", {"max_model_len", "output"},
                                 "KV reserved per request: up to max_model_len, or exactly prompt + output (oracle)") == "output";
    rules_.watermark_blocks = 0;
    rules_.prompt_limit = std::min(ctx.max_model_len, max_num_batched_tokens_);
  }

  void schedule(Instance& inst) override {
    inst.schedule_decodes(/*one_free_block_each=*/false);
    swap_in_while_room(inst, max_batch_size_, 0);
    std::int64_t used = inst.batch_tokens();
    while (static_cast<std::int64_t>(inst.num_running()) < max_batch_size_ && inst.num_swapped() == 0) {
      if (inst.waiting().empty()) break;
      const RequestState& r = inst.request(inst.waiting().front());
      const std::int64_t reserve = reserve_output_ ? r.req.prompt_tokens + r.req.output_tokens : max_model_len_;
      if (!rules_.head_fits(inst, reserve)) break;
      const std::int64_t n = inst.prefill_tokens_needed(inst.waiting().front());
      if (used + n > max_num_batched_tokens_) break;
      used += inst.admit_front(static_cast<std::int32_t>(n), reserve);
    }
  }

  std::int64_t token_budget() const override { return max_num_batched_tokens_; }
  std::int64_t seq_budget() const override { return max_batch_size_; }

 private:
  std::int64_t max_model_len_;
  std::int64_t max_batch_size_ = 0;
  std::int64_t max_num_batched_tokens_ = 0;
  bool reserve_output_ = false;
  AdmissionRules rules_;
};

}  // namespace

SERVESIM_REGISTER(Batcher, OrcaBatcher, "orca",
                  "Orca iteration-level scheduling: mixed batches of whole prompts and decodes, max KV reserved up front")

}  // namespace servesim
