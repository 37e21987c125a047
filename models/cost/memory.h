// models/cost/memory.h — device memory accounting for one instance (tp × pp devices):
// weights per device, KV bytes per token, activation reserve ⇒ number of KV blocks.
//   kv_blocks = floor((memory × utilisation − weights − activation reserve) / bytes per block)
// on the most loaded device (the pipeline stage with the most layers plus the embedding or the
// LM head). Every device of the instance holds the same token positions, so that device's block
// count is the instance's.
#pragma once

#include <cstdint>
#include <string>

#include "models/cost/cost_model.h"

namespace servesim {

struct MemoryPlan {
  double device_memory_bytes = 0;
  double usable_bytes = 0;             // device memory × utilisation
  double weight_bytes_per_device = 0;  // on the most loaded device
  double activation_reserve_bytes = 0;
  double kv_bytes_per_token = 0;  // per device (its layers, its KV-head shard)
  double kv_bytes_per_block = 0;
  std::int64_t kv_blocks = 0;  // may be <= 0 when the model does not fit
  int block_size_tokens = 0;
  int layers_per_device = 0;

  std::int64_t kv_capacity_tokens() const { return kv_blocks * block_size_tokens; }
  // Multi-line human-readable account of the numbers (for "does not fit" errors and --describe).
  std::string describe() const;
};

MemoryPlan plan_memory(const Deployment& d, double gpu_memory_utilization,
                       double activation_reserve_bytes, int block_size_tokens);

// Per-device shard sizes used by both the memory plan and the cost models.
inline int ceil_div(int a, int b) { return (a + b - 1) / b; }
inline int heads_per_device(const ModelSpec& m, int tp) {
  return ceil_div(m.num_attention_heads, tp);
}
inline int kv_heads_per_device(const ModelSpec& m, int tp) {
  return ceil_div(m.num_kv_heads, tp);
}  // replicated when kv < tp
inline int layers_per_device(const ModelSpec& m, int pp) { return ceil_div(m.num_layers, pp); }

}  // namespace servesim
