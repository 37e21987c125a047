// policies/batching/sarathi_original.cc — `sarathi-original`: the first Sarathi's decode-maximal
// batching (ALGORITHMS.md §2.2): a batch of B = max_num_seqs sequences is one prefill chunk of
// `chunk_size` (C) tokens plus up to B − 1 piggybacked decodes. An ongoing prefill's next chunk
// goes before a new request. A new request is admitted only while fewer than B − 1 requests run,
// so that when its prefill completes the decodes still leave the prefill slot free: no
// iteration carries more than B − 1 decodes. Piggybacking is fullest when the workload's
// prefill:decode token ratio is about C/(B−1).
#include <algorithm>

#include "policies/batching/admission.h"

namespace servesim {
namespace {

class SarathiOriginalBatcher final : public BatcherBase {
 public:
  SarathiOriginalBatcher(ConfigNode& cfg, const BatcherContext& ctx)
      : BatcherBase(cfg, ctx, Defaults{.max_num_seqs = 128}) {
    if (max_num_seqs_ < 2)
      cfg.fail("max_num_seqs", "must be >= 2 (one prefill + at least one decode)");
    chunk_size_ = cfg.get<std::int64_t>(
        "chunk_size", 256, "tokens of the one prefill chunk per iteration (C)", AtLeast(1));
    token_budget_ = chunk_size_ + max_num_seqs_ - 1;
  }

  void schedule(Instance& inst) override {
    inst.schedule_decodes();
    swap_in_while_room(inst, max_num_seqs_ - 1,
                       rules_.watermark_blocks);  // a slot stays for the prefill
    if (!inst.ongoing_prefills().empty()) {
      const RequestSlot s = inst.ongoing_prefills().front();
      inst.continue_prefill(s, static_cast<std::int32_t>(
                                   std::min<std::int64_t>(inst.prefill_remaining(s), chunk_size_)));
      return;
    }
    // A new request only while fewer than B − 1 run (it becomes the (B−1)-th decode at most).
    if (inst.num_swapped() == 0 &&
        static_cast<std::int64_t>(inst.num_seated()) < max_num_seqs_ - 1 &&
        rules_.head_fits(inst)) {
      inst.admit_head(static_cast<std::int32_t>(chunk_size_));
    }
  }

 private:
  std::int64_t chunk_size_ = 0;
};

}  // namespace

SERVESIM_REGISTER(Batcher, SarathiOriginalBatcher, "sarathi-original",
                  "Sarathi decode-maximal batching: one prefill chunk + up to B-1 piggybacked "
                  "decodes per iteration")

}  // namespace servesim
