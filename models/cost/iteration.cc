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
  if (d.moe && s.tokens > 0) {
    const double e = d.experts, k = d.top_k;
    s.active_experts = e * (1.0 - std::pow(1.0 - k / e, s.tokens));
    s.tokens_per_expert = s.tokens * k / s.active_experts;
  }
  return s;
}

const OpSpec& op_spec(Op op) {
  static const OpSpec kSpecs[kNumOps] = {
      {"qkv", OpClass::kGemm, true},
      {"attention_prefill", OpClass::kAttentionPrefill, true},
      {"attention_decode", OpClass::kAttentionDecode, true},
      {"o_proj", OpClass::kGemm, true},
      {"router", OpClass::kGemm, true},
      {"gate_up", OpClass::kGemm, true},
      {"act", OpClass::kElementwise, true},
      {"down", OpClass::kGemm, true},
      {"add_norm", OpClass::kElementwise, true},
      {"rope", OpClass::kElementwise, true},
      {"tp_allreduce", OpClass::kCommunication, true},
      {"lm_head", OpClass::kGemm, false},
      {"embed", OpClass::kElementwise, false},
      {"sample", OpClass::kElementwise, false},
      {"logits_gather", OpClass::kCommunication, false},
      {"pp_send", OpClass::kCommunication, false},
  };
  return kSpecs[static_cast<int>(op)];
}

GemmDims gemm_dims(Op op, const IterationShape& s, const ShardDims& d) {
  const double expert_m = d.moe ? s.tokens_per_expert : s.tokens;
  switch (op) {
    case Op::kQkv: return {s.tokens, d.qkv_width(), d.hidden};
    case Op::kOProj: return {s.tokens, d.hidden, d.q_width()};
    case Op::kRouter: return {s.tokens, d.experts, d.hidden};
    case Op::kGateUp: return {expert_m, d.gate_up_width(), d.hidden};
    case Op::kDown: return {expert_m, d.hidden, d.ffn_shard};
    case Op::kLmHead: return {s.seqs, d.vocab_shard, d.hidden};
    default: return {};
  }
}

double op_calls(Op op, const IterationShape& s, const ShardDims& d, PipelineMode mode) {
  if (s.tokens <= 0) return 0;
  switch (op) {
    case Op::kQkv:
    case Op::kOProj:
    case Op::kRope:
    case Op::kLmHead:
    case Op::kEmbed:
    case Op::kSample: return 1;
    case Op::kAttnPrefill: return s.prefill_segments > 0 ? 1 : 0;
    case Op::kAttnDecode: return s.decode_requests > 0 ? 1 : 0;
    case Op::kRouter: return d.moe ? 1 : 0;
    case Op::kGateUp:
    case Op::kAct:
    case Op::kDown: return d.moe ? s.active_experts : 1;
    case Op::kAddNorm: return 2;
    case Op::kTpAllReduce: return d.tp > 1 ? 2 : 0;
    case Op::kLogitsGather: return d.tp > 1 ? 1 : 0;
    case Op::kPpSend: return d.pp > 1 ? (mode == PipelineMode::kThroughput ? 1.0 : d.pp - 1.0) : 0;
    case Op::kCount: break;
  }
  return 0;
}

}  // namespace servesim
