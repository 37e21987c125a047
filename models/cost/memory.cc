// models/cost/memory.cc — see memory.h.
#include "models/cost/memory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace servesim {

MemoryPlan plan_memory(const Deployment& d, double gpu_memory_utilization,
                       double activation_reserve_bytes, int block_size_tokens) {
  const ModelSpec& m = *d.model;
  const int tp = d.tensor_parallel, pp = d.pipeline_parallel;
  MemoryPlan p;
  p.block_size_tokens = block_size_tokens;
  p.layers_per_device = layers_per_device(m, pp);
  p.device_memory_bytes = d.hardware->memory_bytes();
  p.usable_bytes = p.device_memory_bytes * gpu_memory_utilization;
  p.activation_reserve_bytes = activation_reserve_bytes;

  // One layer's weights on one device: attention heads and the MLP are split over tp; KV heads
  // are replicated when there are fewer than tp of them; norms are replicated.
  const double h = m.hidden_size, hd = m.head_dim;
  const double q_heads = heads_per_device(m, tp), kv_heads = kv_heads_per_device(m, tp);
  const double attn = h * (q_heads + 2.0 * kv_heads) * hd + q_heads * hd * h +
                      (m.attention_bias ? (q_heads + 2.0 * kv_heads) * hd : 0.0);
  const double ffn_shard = std::ceil(static_cast<double>(m.ffn_size) / tp);
  const double mlp = (m.gated_mlp ? 3.0 : 2.0) * h * ffn_shard * m.num_experts +
                     (m.is_moe() ? h * m.num_experts : 0.0);
  const double norms = 2.0 * h * (m.norm == "layernorm" ? 2.0 : 1.0);
  const double layer_params = attn + mlp + norms;
  const double vocab_shard = std::ceil(static_cast<double>(m.vocab_size) / tp) * h;
  // Stage 0 holds the embedding, the last stage the LM head (both when pp == 1, once if tied;
  // with pp > 1 a tied LM head is still a copy of its own on the last stage's device).
  const double first_stage_extra =
      vocab_shard + ((pp == 1 && !m.tied_embeddings) ? vocab_shard : 0.0);
  const double last_stage_extra = pp == 1 ? first_stage_extra : vocab_shard;
  const double params =
      p.layers_per_device * layer_params + std::max(first_stage_extra, last_stage_extra);
  p.weight_bytes_per_device = params * m.dtype_bytes;

  p.kv_bytes_per_token = 2.0 * p.layers_per_device * kv_heads * hd * d.kv_dtype_bytes;
  p.kv_bytes_per_block = p.kv_bytes_per_token * block_size_tokens;
  const double free_bytes = p.usable_bytes - p.weight_bytes_per_device - p.activation_reserve_bytes;
  p.kv_blocks =
      free_bytes > 0 ? static_cast<std::int64_t>(std::floor(free_bytes / p.kv_bytes_per_block)) : 0;
  return p;
}

std::string MemoryPlan::describe() const {
  const double gib = 1073741824.0;
  char buf[640];
  std::snprintf(
      buf, sizeof buf,
      "device memory %.2f GiB x utilisation = %.2f GiB usable; weights per device %.2f GiB "
      "(%d layers per device); activation reserve %.2f GiB; KV %.0f bytes/token per device "
      "(%.2f MiB per %d-token block) => %lld KV blocks (%lld tokens)",
      device_memory_bytes / gib, usable_bytes / gib, weight_bytes_per_device / gib,
      layers_per_device, activation_reserve_bytes / gib, kv_bytes_per_token,
      kv_bytes_per_block / 1048576.0, block_size_tokens, static_cast<long long>(kv_blocks),
      static_cast<long long>(kv_capacity_tokens()));
  return buf;
}

}  // namespace servesim
