// policies/batching/sarathi.cc — `sarathi`: Sarathi-Serve stall-free hybrid batching
// (ALGORITHMS.md §2.2; sarathi/core/scheduler/sarathi_scheduler.py). Every iteration holds at
// most `chunk_size` (τ) tokens, decodes counting one each:
//  1. every running decode first — never stalled by a prefill (preempting in the victim order,
//     recompute or swap, when KV blocks run out); then swapped requests come back, oldest
//     first, before any new admission;
//  2. ongoing chunked prefills continue, in admission order, each with min(remaining, τ − used)
//     tokens;
//  3. the head of the queue is admitted while memory (watermark) and max_num_seqs allow, each
//     with a first chunk of min(prompt, τ − used) tokens; their whole prompt's KV blocks are
//     allocated up front.
// Dynamic chunking (enable_dynamic_chunking_schedule): a prefill's chunk shrinks as its processed
// prefix grows, through `chunk_schedule_stages` sizes from high_chunk_size down to low_chunk_size
// (multiples of 32), stage = processed // ceil(chunk_schedule_max_tokens / stages); τ is then
// high_chunk_size.
#include <algorithm>
#include <cmath>
#include <vector>

#include "policies/batching/admission.h"

namespace servesim {
namespace {

class SarathiBatcher final : public BatcherBase {
 public:
  SarathiBatcher(ConfigNode& cfg, const BatcherContext& ctx)
      : BatcherBase(cfg, ctx, Defaults{.max_num_seqs = 128}) {
    std::int64_t chunk_size = cfg.get<std::int64_t>(
        "chunk_size", 512, "token budget τ of one iteration (decodes count 1 each)", AtLeast(1));
    dynamic_ = cfg.get<bool>("enable_dynamic_chunking_schedule", false,
                             "shrink chunks as a prompt's processed prefix grows");
    const std::int64_t low = cfg.get<std::int64_t>("low_chunk_size", 128,
                                                   "smallest chunk (dynamic schedule)", AtLeast(1));
    const std::int64_t high = cfg.get<std::int64_t>("high_chunk_size", 2048,
                                                    "largest chunk (dynamic schedule)", AtLeast(1));
    max_tokens_ = cfg.get<std::int64_t>("chunk_schedule_max_tokens", 131072,
                                        "prefix length the schedule spans (dynamic)", AtLeast(1));
    stages_ = cfg.get<std::int64_t>("chunk_schedule_stages", 16, "number of chunk sizes (dynamic)",
                                    AtLeast(1));
    if (dynamic_) {
      if (high < low) cfg.fail("high_chunk_size", "must be >= low_chunk_size");
      chunk_size = high;
      const std::int64_t quantum = std::min<std::int64_t>(32, low);
      for (std::int64_t i = 0; i < stages_; ++i) {
        const double x = stages_ == 1
                             ? static_cast<double>(high)
                             : static_cast<double>(high) +
                                   (static_cast<double>(low - high) * static_cast<double>(i)) /
                                       static_cast<double>(stages_ - 1);
        chunk_sizes_.push_back(std::max<std::int64_t>(
            quantum, static_cast<std::int64_t>(std::llround(x / quantum)) * quantum));
      }
    }
    if (max_num_seqs_ > chunk_size) {
      cfg.fail("max_num_seqs", "must be <= chunk_size (" + std::to_string(chunk_size) +
                                   ") so decodes alone fit the budget");
    }
    token_budget_ = chunk_size;  // chunking removes the per-iteration prompt limit (prompt_limit =
                                 // max_model_len)
  }

  void schedule(Instance& inst) override {
    inst.schedule_decodes();
    swap_in_while_room(inst, max_num_seqs_, rules_.watermark_blocks);
    std::int64_t used = inst.batch_tokens();
    for (RequestSlot s : inst.ongoing_prefills()) {
      const std::int64_t c = std::min<std::int64_t>(
          {inst.prefill_remaining(s), chunk_cap(inst, s), token_budget_ - used});
      if (c <= 0) continue;
      inst.continue_prefill(s, static_cast<std::int32_t>(c));
      used += c;
    }
    while (used < token_budget_ && inst.num_swapped() == 0 && rules_.head_fits(inst)) {
      if (static_cast<std::int64_t>(inst.num_seated()) >= max_num_seqs_) break;
      const std::int64_t cap = dynamic_ ? chunk_sizes_.front() : token_budget_;
      used += inst.admit_head(static_cast<std::int32_t>(std::min(cap, token_budget_ - used)));
    }
  }

 private:
  std::int64_t chunk_cap(const Instance& inst, RequestSlot s) const {
    if (!dynamic_) return token_budget_;
    const RequestState& r = inst.request(s);
    const std::int64_t per_stage = (max_tokens_ + stages_ - 1) / stages_;
    const std::int64_t stage = std::min<std::int64_t>(r.prefilled_tokens / per_stage, stages_ - 1);
    return chunk_sizes_[static_cast<std::size_t>(stage)];
  }

  bool dynamic_ = false;
  std::int64_t max_tokens_ = 0, stages_ = 0;
  std::vector<std::int64_t> chunk_sizes_;
};

}  // namespace

SERVESIM_REGISTER(Batcher, SarathiBatcher, "sarathi",
                  "Sarathi-Serve stall-free batching: decodes first, then prefill chunks, <= "
                  "chunk_size tokens per iteration")

}  // namespace servesim
