// models/cost/iteration.cc — see iteration.h.
#include "models/cost/iteration.h"

#include "models/cost/memory.h"

namespace servesim {

ShardDims ShardDims::of(const Deployment& dep) {
  const ModelSpec& m = *dep.model;
  ShardDims d;
  d.tp = dep.tensor_parallel;
  d.pp = dep.pipeline_parallel;
  d.hidden = m.hidden_size;
  d.q_heads = heads_per_device(m, d.tp);
  d.kv_heads = kv_heads_per_device(m, d.tp);
  d.head_dim = m.head_dim;
  d.ffn_shard = std::ceil(static_cast<double>(m.ffn_size) / d.tp);
  d.vocab = m.vocab_size;
  d.vocab_shard = std::ceil(static_cast<double>(m.vocab_size) / d.tp);
  d.dtype_bytes = m.dtype_bytes;
  d.kv_dtype_bytes = dep.kv_dtype_bytes;
  d.gated = m.gated_mlp;
  d.moe = m.is_moe();
  d.experts = m.num_experts;
  d.top_k = m.experts_top_k;
  d.layers = m.num_layers;
  return d;
}

IterationShape IterationShape::of(const BatchShape& b, const ShardDims& d) {
  IterationShape s;
  s.prefills = b.prefills;
  for (const PrefillSegment& seg : b.prefills) {
    s.prefill_tokens += seg.new_tokens;
    s.prefill_pairs += causal_pairs(seg.new_tokens, seg.prior_tokens);
    s.prefill_prior += seg.prior_tokens;
  }
  s.prefill_segments = static_cast<double>(b.prefills.size());
  s.decode_requests = static_cast<double>(b.decode_requests);
  s.decode_context = static_cast<double>(b.decode_context_tokens);
  s.tokens = s.prefill_tokens + s.decode_requests;
  s.seqs = s.prefill_segments + s.decode_requests;
  s.elementwise_layer_bytes = s.tokens * d.dtype_bytes *
                              (10.0 * d.hidden + 2.0 * (d.q_heads + d.kv_heads) * d.head_dim +
                               2.0 * d.kv_heads * d.head_dim +
                               (d.gated ? 3.0 : 2.0) * d.ffn_shard * (d.moe ? d.top_k : 1.0));
  if (d.moe && s.tokens > 0) {
    const double e = d.experts, k = d.top_k;
    s.active_experts = e * (1.0 - std::pow(1.0 - k / e, s.tokens));
    s.tokens_per_expert = s.tokens * k / s.active_experts;
  }
  return s;
}

}  // namespace servesim
