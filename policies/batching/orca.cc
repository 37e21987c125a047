// policies/batching/orca.cc — `orca`: iteration-level scheduling as in Orca (OSDI'22): every
// iteration runs all running decodes plus whole prompts of newly admitted requests (mixed
// batches, no chunking), in queue order up to max_batch_size sequences and
// max_num_batched_tokens tokens. Without paged memory, Orca reserves each request's maximum KV
// up front: `reserve: max_model_len` (default; prompt + output may reach max_model_len),
// `reserve: max_output` (prompt + the limit the request was sent with) or `reserve: output` (an
// oracle that knows the output length). A reserved request never needs a
// block while decoding, so nothing is ever preempted (or swapped).
#include <algorithm>

#include "policies/batching/admission.h"

namespace servesim {
namespace {

class OrcaBatcher final : public BatcherBase {
 public:
  OrcaBatcher(ConfigNode& cfg, const BatcherContext& ctx)
      : BatcherBase(
            cfg, ctx,
            Defaults{.seqs_key = "max_batch_size", .max_num_seqs = 256, .watermark = false}) {
    set_token_budget(cfg, "max_num_batched_tokens",
                     cfg.get<std::int64_t>("max_num_batched_tokens",
                                           std::max<std::int64_t>(ctx.max_model_len, 2048),
                                           "token budget of one iteration", AtLeast(1)));
    const std::string reserve =
        cfg.choice("reserve", "max_model_len", {"max_model_len", "max_output", "output"},
                   "KV reserved per request: up to max_model_len, prompt + the request's "
                   "max_output_tokens, or exactly prompt + output (oracle)");
    rules_.reserve = reserve == "output"       ? AdmissionRules::Reserve::kOutput
                     : reserve == "max_output" ? AdmissionRules::Reserve::kMaxOutput
                                               : AdmissionRules::Reserve::kMaxModelLen;
    rules_.prompt_limit = std::min(ctx.max_model_len, token_budget_);
  }

  void schedule(Instance& inst) override {
    inst.schedule_decodes(/*one_free_block_each=*/false);
    std::int64_t used = inst.batch_tokens();
    while (static_cast<std::int64_t>(inst.num_seated()) < max_num_seqs_ && rules_.head_fits(inst)) {
      // The reservation of the head that fits (head_fits may have rejected earlier heads).
      const RequestSlot head = inst.waiting_head();
      const std::int64_t n = inst.prefill_tokens_needed(head);
      if (used + n > token_budget_) break;
      used +=
          inst.admit_head(static_cast<std::int32_t>(n), rules_.reserve_tokens(inst.request(head)));
    }
  }
};

}  // namespace

SERVESIM_REGISTER(Batcher, OrcaBatcher, "orca",
                  "Orca iteration-level scheduling: mixed batches of whole prompts and decodes, "
                  "max KV reserved up front")

}  // namespace servesim
