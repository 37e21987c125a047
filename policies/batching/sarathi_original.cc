// policies/batching/sarathi_original.cc — `sarathi-original`: the first Sarathi's decode-maximal
// batching (ALGORITHMS.md §2.2): every iteration carries at most one prefill chunk of
// `chunk_size` tokens and piggybacks every running decode (at most max_num_seqs − 1 of them:
// max_num_seqs is the batch size B). An ongoing prefill's next chunk goes before a new request.
// Piggybacking is fullest when the workload's prefill:decode token ratio is about C/(B−1).
#include <algorithm>

#include "policies/batching/admission.h"
#include "policies/batching/batcher.h"

namespace servesim {
namespace {

class SarathiOriginalBatcher final : public Batcher {
 public:
  SarathiOriginalBatcher(ConfigNode& cfg, const BatcherContext& ctx) {
    chunk_size_ = cfg.get<std::int64_t>("chunk_size", 256, "tokens of the one prefill chunk per iteration (C)", AtLeast(1));
    max_num_seqs_ = cfg.get<std::int64_t>("max_num_seqs", 128, "batch size B: one prefill + up to B−1 decodes", AtLeast(2));
    const double watermark = cfg.get<double>("watermark", 0.01, "fraction of KV blocks kept free at admission", InRange(0.0, 0.5));
    rules_.watermark_blocks = watermark_blocks(watermark, ctx.total_kv_blocks);
    rules_.prompt_limit = ctx.max_model_len;
  }

  void schedule(Instance& inst) override {
    inst.schedule_decodes();
    swap_in_while_room(inst, max_num_seqs_ - 1, rules_.watermark_blocks);  // a slot stays for the prefill
    if (!inst.ongoing_prefills().empty()) {
      const RequestSlot s = inst.ongoing_prefills().front();
      inst.continue_prefill(s, static_cast<std::int32_t>(std::min<std::int64_t>(inst.prefill_remaining(s), chunk_size_)));
      return;
    }
    // A new request only while fewer than B sequences run (it becomes the B-th).
    if (inst.num_swapped() == 0 && static_cast<std::int64_t>(inst.num_running()) < max_num_seqs_ && rules_.head_fits(inst)) {
      inst.admit_front(static_cast<std::int32_t>(chunk_size_));
    }
  }

  std::int64_t token_budget() const override { return chunk_size_ + max_num_seqs_ - 1; }
  std::int64_t seq_budget() const override { return max_num_seqs_; }

 private:
  std::int64_t chunk_size_ = 0;
  std::int64_t max_num_seqs_ = 0;
  AdmissionRules rules_;
};

}  // namespace

SERVESIM_REGISTER(Batcher, SarathiOriginalBatcher, "sarathi-original",
                  "Sarathi decode-maximal batching: one prefill chunk + up to B-1 piggybacked decodes per iteration")

}  // namespace servesim
