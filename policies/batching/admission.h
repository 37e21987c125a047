// policies/batching/admission.h — the admission checks every vLLM-family batcher applies to the
// head of the waiting queue (ALGORITHMS.md §1.2, §2.2), in one place:
//  * tokens to prefill above `prompt_limit`             → reject "prompt_too_long";
//  * blocks it needs would leave fewer than the watermark even in an empty pool
//                                                        → reject "exceeds_kv_capacity";
//  * blocks it takes would leave fewer than the watermark free now → wait (head-of-line:
//    nothing behind it is admitted in this iteration).
#pragma once

#include <algorithm>
#include <cstdint>

#include "sim/world/instance.h"

namespace servesim {

struct AdmissionRules {
  std::int64_t prompt_limit = 0;
  std::int64_t watermark_blocks = 0;

  // Rejects inadmissible requests at the head of `inst`'s queue; then returns true when the
  // (new) head can be admitted as far as memory goes, false when it must wait or the queue is
  // empty. `reserve_tokens` (Orca) makes a request take at least that many tokens' blocks.
  bool head_fits(Instance& inst, std::int64_t reserve_tokens = 0) const {
    auto& waiting = inst.waiting();
    while (!waiting.empty()) {
      const RequestSlot slot = waiting.front();
      const std::int64_t n = inst.prefill_tokens_needed(slot);
      if (n > prompt_limit) {
        inst.reject_front("prompt_too_long");
        continue;
      }
      const std::int64_t tokens = std::max(n, reserve_tokens);
      if (inst.kv().total_blocks() - inst.kv().blocks_for_tokens(tokens) < watermark_blocks) {
        inst.reject_front("exceeds_kv_capacity");
        continue;
      }
      const std::int64_t need = reserve_tokens > n ? inst.kv().blocks_for_tokens(tokens) : inst.admission_blocks(slot);
      return inst.kv().free_blocks() - need >= watermark_blocks;
    }
    return false;
  }
};

// Brings swapped requests back, oldest first, while one more running request stays within
// `max_running` and the pool keeps `watermark_blocks` free (vLLM's can_swap_in).
inline void swap_in_while_room(Instance& inst, std::int64_t max_running, std::int64_t watermark_blocks) {
  while (static_cast<std::int64_t>(inst.num_running()) + 1 <= max_running && inst.can_swap_in_front(watermark_blocks)) {
    inst.swap_in_front();
  }
}

// vLLM's watermark: int(fraction × total blocks).
inline std::int64_t watermark_blocks(double fraction, std::int64_t total_blocks) {
  return static_cast<std::int64_t>(fraction * static_cast<double>(total_blocks));
}

}  // namespace servesim
