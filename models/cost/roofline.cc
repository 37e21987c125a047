// models/cost/roofline.cc — the analytic roofline cost model; see roofline.h for the equations.
#include "models/cost/roofline.h"

#include <algorithm>
#include <cmath>

#include "models/cost/memory.h"

namespace servesim {

const char* op_class_name(OpClass c) {
  switch (c) {
    case OpClass::kGemm: return "gemm";
    case OpClass::kAttentionPrefill: return "attention_prefill";
    case OpClass::kAttentionDecode: return "attention_decode";
    case OpClass::kElementwise: return "elementwise";
    case OpClass::kCommunication: return "communication";
    case OpClass::kOverhead: return "overhead";
    case OpClass::kCount: break;
  }
  return "?";
}

namespace {
RooflineParams read_params(ConfigNode& c) {
  RooflineParams p;
  p.gemm_compute_efficiency = c.get<double>("gemm_compute_efficiency", p.gemm_compute_efficiency,
                                            "fraction of dense peak FLOP/s reached by GEMMs", OpenFraction());
  p.attention_compute_efficiency = c.get<double>("attention_compute_efficiency", p.attention_compute_efficiency,
                                                 "fraction of peak FLOP/s reached by prefill attention", OpenFraction());
  p.memory_efficiency = c.get<double>("memory_efficiency", p.memory_efficiency,
                                      "fraction of peak memory bandwidth reached", OpenFraction());
  p.link_efficiency = c.get<double>("link_efficiency", p.link_efficiency,
                                    "fraction of link bandwidth reached by collectives", OpenFraction());
  p.comm_latency_us = c.get<double>("comm_latency_us", p.comm_latency_us,
                                    "latency per all-reduce ring step or pipeline send, us", NonNegative());
  p.min_kernel_us = c.get<double>("min_kernel_us", p.min_kernel_us, "shortest time any kernel takes, us", NonNegative());
  p.step_overhead_us = c.get<double>("step_overhead_us", p.step_overhead_us,
                                     "per-iteration framework overhead, us (< 0: the hardware catalog's)");
  p.use_fp8 = c.get<bool>("use_fp8", p.use_fp8, "run GEMMs at the FP8 peak");
  return p;
}
}  // namespace

RooflineCostModel::RooflineCostModel(ConfigNode& cfg, const Deployment& d) : RooflineCostModel(d, read_params(cfg)) {
  if (p_.use_fp8 && d.hardware->fp8_tflops <= 0) cfg.fail("use_fp8", "hardware '" + d.hardware->name + "' has no FP8 peak");
}

RooflineCostModel::RooflineCostModel(const Deployment& d, const RooflineParams& p) : d_(d), p_(p) {
  const HardwareSpec& hw = *d.hardware;
  const ModelSpec& m = *d.model;
  const double tflops = (p.use_fp8 && hw.fp8_tflops > 0) ? hw.fp8_tflops : hw.bf16_tflops;
  peak_flops_ = tflops * 1e12 * p.gemm_compute_efficiency * 1e-9;             // FLOP per ns
  peak_attn_flops_ = hw.bf16_tflops * 1e12 * p.attention_compute_efficiency * 1e-9;
  bw_bytes_per_ns_ = hw.memory_bandwidth_gbps * p.memory_efficiency;          // GB/s == bytes/ns
  link_bytes_per_ns_ = hw.intra_node_link_gbps * p.link_efficiency;
  q_heads_ = heads_per_device(m, d.tensor_parallel);
  kv_heads_ = kv_heads_per_device(m, d.tensor_parallel);
  ffn_shard_ = std::ceil(static_cast<double>(m.ffn_size) / d.tensor_parallel);
  vocab_shard_ = std::ceil(static_cast<double>(m.vocab_size) / d.tensor_parallel);
  layers_ = m.num_layers;
  overhead_ns_ = (p.step_overhead_us >= 0 ? p.step_overhead_us : hw.step_overhead_us) * 1e3;
  min_kernel_ns_ = p.min_kernel_us * 1e3;
}

RooflineCostModel::OpCost RooflineCostModel::gemm(double m, double n, double k, int dtype_bytes) {
  return OpCost{2.0 * m * n * k, (m * k + k * n + m * n) * dtype_bytes};
}

double RooflineCostModel::time_ns(const OpCost& op, double flops_per_ns) const {
  return std::max({op.flops / flops_per_ns, op.bytes / bw_bytes_per_ns_, min_kernel_ns_});
}

double RooflineCostModel::gemm_ns(double m, double n, double k) const {
  return time_ns(gemm(m, n, k, d_.model->dtype_bytes), peak_flops_);
}

double RooflineCostModel::prefill_attention_ns(const PrefillSegment& s) const {
  const double n = s.new_tokens, p = s.prior_tokens, hd = d_.model->head_dim;
  const double pairs = n * p + n * (n + 1.0) / 2.0;  // causal (query, key) pairs
  OpCost op;
  op.flops = 4.0 * hd * q_heads_ * pairs;            // QK^T and PV, 2 FLOPs per multiply-add
  op.bytes = (2.0 * n * q_heads_ * hd + (p + n) * 2.0 * kv_heads_ * hd) * d_.model->dtype_bytes;
  return time_ns(op, peak_attn_flops_);
}

double RooflineCostModel::decode_attention_ns(std::int64_t requests, std::int64_t context_tokens) const {
  if (requests == 0) return 0;
  const double hd = d_.model->head_dim, ctx = static_cast<double>(context_tokens);
  OpCost op;
  op.flops = 4.0 * hd * q_heads_ * ctx;
  op.bytes = ctx * 2.0 * kv_heads_ * hd * d_.kv_dtype_bytes +
             2.0 * static_cast<double>(requests) * q_heads_ * hd * d_.model->dtype_bytes;
  return time_ns(op, peak_attn_flops_);
}

double RooflineCostModel::allreduce_ns(double bytes) const {
  const int tp = d_.tensor_parallel;
  if (tp <= 1 || bytes <= 0) return 0;
  // Ring: reduce-scatter + all-gather, 2(tp−1) steps each moving bytes/tp per device.
  return 2.0 * (tp - 1) * (bytes / tp / link_bytes_per_ns_ + p_.comm_latency_us * 1e3);
}

IterationCost RooflineCostModel::estimate(const BatchShape& batch) const {
  IterationCost c;
  if (batch.empty()) return c;
  const ModelSpec& m = *d_.model;
  const double b = m.dtype_bytes, h = m.hidden_size, hd = m.head_dim;
  const double tokens = static_cast<double>(batch.prefill_tokens() + batch.decode_requests);
  const double sampling_seqs = static_cast<double>(batch.prefills.size() + batch.decode_requests);

  // --- one transformer block on one device
  double gemm = gemm_ns(tokens, (q_heads_ + 2.0 * kv_heads_) * hd, h)  // QKV
                + gemm_ns(tokens, h, q_heads_ * hd);                      // O
  if (m.is_moe()) {
    const double e = m.num_experts, k = m.experts_top_k;
    const double active = e * (1.0 - std::pow(1.0 - k / e, tokens));  // experts receiving >= 1 token
    const double routed = tokens * k;                                  // token-expert pairs
    const double mats = m.gated_mlp ? 3.0 : 2.0;
    OpCost experts;
    experts.flops = 2.0 * routed * h * ffn_shard_ * mats;
    experts.bytes = (active * mats * h * ffn_shard_ + routed * (2.0 * h + (mats - 1.0) * ffn_shard_)) * b;
    gemm += gemm_ns(tokens, e, h)  // router
            + time_ns(experts, peak_flops_);
  } else if (m.gated_mlp) {
    gemm += gemm_ns(tokens, 2.0 * ffn_shard_, h) + gemm_ns(tokens, h, ffn_shard_);
  } else {
    gemm += gemm_ns(tokens, ffn_shard_, h) + gemm_ns(tokens, h, ffn_shard_);
  }
  double attn_prefill = 0;
  for (const PrefillSegment& s : batch.prefills) attn_prefill += prefill_attention_ns(s);
  const double attn_decode = decode_attention_ns(batch.decode_requests, batch.decode_context_tokens);
  // Two norms (read+write), two residual adds (2 reads + 1 write), rotary on Q and K (read+write),
  // activation (read gate+up, write one), KV-cache write of the new tokens.
  const double act_width = m.is_moe() ? ffn_shard_ * m.experts_top_k : ffn_shard_;
  const double elem_bytes = tokens * b *
                            (4.0 * h + 6.0 * h + 2.0 * (q_heads_ + kv_heads_) * hd +
                             (m.gated_mlp ? 3.0 : 2.0) * act_width + 2.0 * kv_heads_ * hd);
  const double elementwise = std::max(elem_bytes / bw_bytes_per_ns_, 4.0 * min_kernel_ns_);
  c.per_layer_ns = gemm + attn_prefill + attn_decode + elementwise;

  // --- communication
  const double act_bytes = tokens * h * b;
  const double tp_comm_per_layer = 2.0 * allreduce_ns(act_bytes);
  const int pp = d_.pipeline_parallel;
  const double pp_comm = (pp - 1) * (act_bytes / link_bytes_per_ns_ + p_.comm_latency_us * 1e3);

  // --- once per iteration: embedding gather, LM head on sampling sequences, logits gather, sampling
  const double lm_head = gemm_ns(sampling_seqs, vocab_shard_, h);
  const double logits_gather =
      d_.tensor_parallel > 1 ? (sampling_seqs * vocab_shard_ * (d_.tensor_parallel - 1) * b) / link_bytes_per_ns_ +
                                   p_.comm_latency_us * 1e3
                             : 0.0;
  const double embed_and_sample = std::max(tokens * h * b / bw_bytes_per_ns_, min_kernel_ns_) +
                                  std::max(sampling_seqs * m.vocab_size * 4.0 * 2.0 / bw_bytes_per_ns_, min_kernel_ns_);

  auto& bd = c.breakdown_ns;
  const double layers = layers_;
  bd[static_cast<int>(OpClass::kGemm)] = layers * gemm + lm_head;
  bd[static_cast<int>(OpClass::kAttentionPrefill)] = layers * attn_prefill;
  bd[static_cast<int>(OpClass::kAttentionDecode)] = layers * attn_decode;
  bd[static_cast<int>(OpClass::kElementwise)] = layers * elementwise + embed_and_sample;
  bd[static_cast<int>(OpClass::kCommunication)] = layers * tp_comm_per_layer + pp_comm + logits_gather;
  bd[static_cast<int>(OpClass::kOverhead)] = overhead_ns_;
  c.comm_ns = bd[static_cast<int>(OpClass::kCommunication)];
  c.overhead_ns = overhead_ns_;
  double total = 0;
  for (double x : bd) total += x;
  c.duration_ns = static_cast<TimeNs>(std::llround(total));
  return c;
}

SERVESIM_REGISTER(CostModel, RooflineCostModel, "roofline",
                  "analytic: max(FLOPs/peak, bytes/bandwidth) per op, TP all-reduce, PP sends, fixed step overhead")

std::unique_ptr<CostModel> make_cost_model(ConfigNode cfg, const Deployment& deployment) {
  return Registry<CostModel>::instance().create(cfg, "roofline", deployment);
}

}  // namespace servesim
