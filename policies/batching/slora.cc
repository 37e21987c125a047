// policies/batching/slora.cc — `slora`: the scheduler of S-LoRA (LightLLM's router), the server
// the VTC artifact measured its fair schedulers on (ALGORITHMS.md §4.1, "Memory check").
//  * An iteration is prefill-only or decode-only. New requests are admitted when nothing runs,
//    or once `max_wait_tokens` decode steps have passed since the last admission.
//  * The head of the queue is admitted only if the KV tokens of the running requests and it can
//    never exceed the pool: with them sorted by tokens left to generate (max_output_tokens −
//    generated) descending, the i-th to finish last still holds len_i + left_i, so the peak is
//    max_i (Σ_{j≤i} len_j + i·left_i); the check adds i·(block_size − 1) for the partial block of
//    each. Requests are sized by the limit they were sent with, never by their true output, and
//    decoding never preempts. Head-of-line: nothing behind a head that does not fit is admitted.
//  * Budgets: max_num_seqs running requests (S-LoRA's running_max_req_size, 1000) and
//    max_num_batched_tokens prompt tokens per prefill iteration (batch_max_tokens).
// Cost: a head check sorts the running requests, O(running log running) per admitted request.
#include <algorithm>
#include <vector>

#include "policies/batching/admission.h"

namespace servesim {
namespace {

class SloraBatcher final : public BatcherBase {
 public:
  SloraBatcher(ConfigNode& cfg, const BatcherContext& ctx)
      : BatcherBase(cfg, ctx, Defaults{.max_num_seqs = 1000, .watermark = false}) {
    set_token_budget(cfg, "max_num_batched_tokens",
                     cfg.get<std::int64_t>("max_num_batched_tokens",
                                           std::max<std::int64_t>(ctx.max_model_len, 2048),
                                           "prompt tokens of one prefill iteration (S-LoRA's "
                                           "batch_max_tokens)",
                                           AtLeast(1)));
    max_wait_steps_ =
        cfg.get<std::int64_t>("max_wait_tokens", 10,
                              "decode steps between two admissions while requests run", AtLeast(1));
    rules_.prompt_limit = std::min(ctx.max_model_len, token_budget_);
  }

  void schedule(Instance& inst) override {
    if (inst.num_running() == 0 || steps_since_admit_ >= max_wait_steps_) {
      std::int64_t tokens = 0;
      bool admitted = false;
      while (rules_.head_fits(inst) &&
             static_cast<std::int64_t>(inst.num_seated()) < max_num_seqs_) {
        const RequestSlot head = inst.waiting_head();
        const std::int64_t n = inst.prefill_tokens_needed(head);
        if (tokens + n > token_budget_) break;
        if (!peak_fits(inst, head)) {
          // Alone it would never fit: it cannot wait for room that will not come.
          if (inst.num_running() == 0) {
            inst.reject_head("exceeds_kv_capacity");
            continue;
          }
          break;
        }
        inst.admit_head(static_cast<std::int32_t>(n));
        tokens += n;
        admitted = true;
      }
      if (admitted) {
        steps_since_admit_ = 0;
        return;
      }
    }
    inst.schedule_decodes(/*one_free_block_each=*/false);
    ++steps_since_admit_;
  }

 private:
  // Whether the running requests plus `head` can never hold more KV tokens than the pool.
  bool peak_fits(const Instance& inst, RequestSlot head) {
    entries_.clear();
    auto add = [this, &inst](RequestSlot slot, const RequestState& r) {
      const std::int64_t generated = inst.generated_tokens_of(slot);
      entries_.push_back(
          {std::max<std::int64_t>(0, std::int64_t{r.req.max_output_tokens} - generated),
           std::int64_t{r.req.prompt_tokens} + generated});
    };
    inst.for_each_running(add);
    add(head, inst.request(head));
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return a.left > b.left; });
    const std::int64_t capacity = inst.kv().total_blocks() * inst.kv().block_size();
    const std::int64_t slack = inst.kv().block_size() - 1;
    std::int64_t held = 0;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      held += entries_[i].len;
      const auto k = static_cast<std::int64_t>(i + 1);
      if (held + k * (entries_[i].left + slack) > capacity) return false;
    }
    return true;
  }

  struct Entry {
    std::int64_t left = 0, len = 0;
  };
  std::int64_t max_wait_steps_ = 10;
  std::int64_t steps_since_admit_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace

SERVESIM_REGISTER(Batcher, SloraBatcher, "slora",
                  "S-LoRA/LightLLM (the VTC artifact's server): prefill-only or decode-only "
                  "iterations, admission every max_wait_tokens steps when the peak KV of the "
                  "batch fits, never preempts")

}  // namespace servesim
