// models/cost/roofline.cc — the analytic roofline cost model; see roofline.h for the equations.
#include "models/cost/roofline.h"

#include <algorithm>
#include <cmath>

#include "models/cost/memory.h"

namespace servesim {

const char* op_class_name(OpClass c) {
  switch (c) {
    case OpClass::kGemm:
      return "gemm";
    case OpClass::kAttentionPrefill:
      return "attention_prefill";
    case OpClass::kAttentionDecode:
      return "attention_decode";
    case OpClass::kElementwise:
      return "elementwise";
    case OpClass::kCommunication:
      return "communication";
    case OpClass::kOverhead:
      return "overhead";
    case OpClass::kCount:
      break;
  }
  return "?";
}

RooflineParams read_roofline_params(ConfigNode& c, const Deployment& d) {
  RooflineParams p;
  p.gemm_compute_efficiency =
      c.get<double>("gemm_compute_efficiency", p.gemm_compute_efficiency,
                    "fraction of dense peak FLOP/s reached by GEMMs", OpenFraction());
  p.attention_compute_efficiency =
      c.get<double>("attention_compute_efficiency", p.attention_compute_efficiency,
                    "fraction of peak FLOP/s reached by prefill attention", OpenFraction());
  p.memory_efficiency = c.get<double>("memory_efficiency", p.memory_efficiency,
                                      "fraction of peak memory bandwidth reached", OpenFraction());
  p.link_efficiency =
      c.get<double>("link_efficiency", p.link_efficiency,
                    "fraction of link bandwidth reached by collectives", OpenFraction());
  p.comm_latency_us =
      c.get<double>("comm_latency_us", p.comm_latency_us,
                    "latency per all-reduce ring step or pipeline send, us", NonNegative());
  p.collective_base_us =
      c.get<double>("collective_base_us", p.collective_base_us,
                    "fixed cost of one all-reduce, all-gather or pipeline send (launch, sync), us",
                    NonNegative());
  p.min_kernel_us = c.get<double>("min_kernel_us", p.min_kernel_us,
                                  "shortest time any kernel takes, us", NonNegative());
  p.gemm_min_kernel_us = c.get<double>("gemm_min_kernel_us", p.gemm_min_kernel_us,
                                       "shortest time of one GEMM, us (< 0: min_kernel_us)");
  p.attention_min_kernel_us =
      c.get<double>("attention_min_kernel_us", p.attention_min_kernel_us,
                    "shortest time of one attention call, us (< 0: min_kernel_us)");
  p.attention_per_sequence_us =
      c.get<double>("attention_per_sequence_us", p.attention_per_sequence_us,
                    "added time per sequence of an attention call, us", NonNegative());
  p.step_overhead_us =
      c.get<double>("step_overhead_us", p.step_overhead_us,
                    "per-iteration framework overhead, us (< 0: the hardware catalog's)");
  if (c.has("step_overhead_us") && c.has("host_overhead"))
    c.fail("host_overhead", "give either step_overhead_us (a constant) or host_overhead, not both");
  // An explicit constant wins over the hardware's host-overhead lines.
  p.host_overhead = read_host_overhead(
      c, "host_overhead", p.step_overhead_us >= 0 ? HostOverhead{} : d.hardware->host_overhead);
  p.use_fp8 = c.get<bool>("use_fp8", p.use_fp8, "run GEMMs at the FP8 peak");
  if (p.use_fp8 && d.hardware->fp8_tflops <= 0)
    c.fail("use_fp8", "hardware '" + d.hardware->name + "' has no FP8 peak");
  const std::string mode =
      c.choice("pipeline_mode", "latency", {"latency", "throughput"},
               "PP: an iteration costs the whole pipeline (latency) or its slowest stage "
               "(throughput, pp micro-batches in flight)");
  p.pipeline_mode = mode == "throughput" ? PipelineMode::kThroughput : PipelineMode::kLatency;
  return p;
}

RooflineCostModel::RooflineCostModel(ConfigNode& cfg, const Deployment& d)
    : RooflineCostModel(d, read_roofline_params(cfg, d)) {}

RooflineCostModel::RooflineCostModel(const Deployment& d, const RooflineParams& p) : d_(d), p_(p) {
  const HardwareSpec& hw = *d.hardware;
  dims_ = ShardDims::of(d);
  const double tflops = (p.use_fp8 && hw.fp8_tflops > 0) ? hw.fp8_tflops : hw.bf16_tflops;
  peak_flops_ = tflops * 1e12 * p.gemm_compute_efficiency * 1e-9;  // FLOP per ns
  peak_attn_flops_ = hw.bf16_tflops * 1e12 * p.attention_compute_efficiency * 1e-9;
  bw_bytes_per_ns_ = hw.memory_bandwidth_gbps * p.memory_efficiency;  // GB/s == bytes/ns
  link_bytes_per_ns_ = hw.intra_node_link_gbps * p.link_efficiency;
  overhead_ns_ = (p.step_overhead_us >= 0 ? p.step_overhead_us : hw.step_overhead_us) * 1e3;
  min_kernel_ns_ = p.min_kernel_us * 1e3;
  gemm_floor_ns_ = (p.gemm_min_kernel_us >= 0 ? p.gemm_min_kernel_us : p.min_kernel_us) * 1e3;
  attention_floor_ns_ =
      (p.attention_min_kernel_us >= 0 ? p.attention_min_kernel_us : p.min_kernel_us) * 1e3;
  attention_per_seq_ns_ = p.attention_per_sequence_us * 1e3;
  comm_latency_ns_ = p.comm_latency_us * 1e3;
  collective_base_ns_ = p.collective_base_us * 1e3;
}

RooflineCostModel::OpCost RooflineCostModel::gemm(double m, double n, double k, int dtype_bytes) {
  return OpCost{2.0 * m * n * k, (m * k + k * n + m * n) * dtype_bytes};
}

double RooflineCostModel::time_ns(const OpCost& op, double flops_per_ns) const {
  return time_ns(op, flops_per_ns, min_kernel_ns_);
}

double RooflineCostModel::time_ns(const OpCost& op, double flops_per_ns, double floor_ns) const {
  return std::max({op.flops / flops_per_ns, op.bytes / bw_bytes_per_ns_, floor_ns});
}

double RooflineCostModel::gemm_ns(double m, double n, double k) const {
  return time_ns(gemm(m, n, k, d_.model->dtype_bytes), peak_flops_, gemm_floor_ns_);
}

double RooflineCostModel::memory_ns(double bytes) const {
  return std::max(bytes / bw_bytes_per_ns_, min_kernel_ns_);
}

double RooflineCostModel::elementwise_ns(const IterationShape& s, double bytes) const {
  // The block's elementwise kernels (2 add_norm, rope, act) take together at least
  // 4 × min_kernel; below that floor each one gets its share by bytes.
  const double layer_bytes = s.elementwise_layer_bytes;
  const double floor_ns = 4.0 * min_kernel_ns_;
  const double layer_ns = layer_bytes / bw_bytes_per_ns_;
  const double scale = layer_ns < floor_ns && layer_bytes > 0 ? floor_ns / layer_ns : 1.0;
  return bytes / bw_bytes_per_ns_ * scale;
}

RooflineCostModel::AttentionShape RooflineCostModel::attention_shape() const {
  return AttentionShape{dims_.q_heads, dims_.kv_heads, dims_.head_dim, dims_.dtype_bytes,
                        dims_.kv_dtype_bytes};
}

double RooflineCostModel::prefill_attention_ns(const AttentionShape& a, double batch, double tokens,
                                               double prior) const {
  OpCost op;
  op.flops = 4.0 * a.head_dim * a.q_heads * causal_pairs(tokens, prior) * batch;  // QK^T and PV
  op.bytes = batch * (2.0 * tokens * a.q_heads * a.head_dim * a.dtype_bytes +
                      (prior + tokens) * 2.0 * a.kv_heads * a.head_dim * a.kv_dtype_bytes);
  return time_ns(op, peak_attn_flops_, attention_floor_ns_) + batch * attention_per_seq_ns_;
}

double RooflineCostModel::decode_attention_ns(const AttentionShape& a, double batch,
                                              double context) const {
  if (batch <= 0) return 0;
  OpCost op;
  op.flops = 4.0 * a.head_dim * a.q_heads * context * batch;
  op.bytes = batch * (context * 2.0 * a.kv_heads * a.head_dim * a.kv_dtype_bytes +
                      2.0 * a.q_heads * a.head_dim * a.dtype_bytes);
  return time_ns(op, peak_attn_flops_, attention_floor_ns_) + batch * attention_per_seq_ns_;
}

double RooflineCostModel::prefill_attention_ns(const PrefillSegment& s) const {
  return prefill_attention_ns(attention_shape(), 1.0, s.new_tokens, s.prior_tokens);
}

double RooflineCostModel::decode_attention_ns(std::int64_t requests,
                                              std::int64_t context_tokens) const {
  if (requests == 0) return 0;
  const double b = static_cast<double>(requests);
  return decode_attention_ns(attention_shape(), b, static_cast<double>(context_tokens) / b);
}

double RooflineCostModel::allreduce_ns(double bytes, int gpus) const {
  if (gpus <= 1 || bytes <= 0) return 0;
  // Ring: reduce-scatter + all-gather, 2(n−1) steps each moving bytes/n per device.
  return collective_base_ns_ +
         2.0 * (gpus - 1) * (bytes / gpus / link_bytes_per_ns_ + comm_latency_ns_);
}

double RooflineCostModel::allreduce_ns(double bytes) const {
  return allreduce_ns(bytes, d_.tensor_parallel);
}

double RooflineCostModel::allgather_ns(double total_bytes, int gpus) const {
  if (gpus <= 1 || total_bytes <= 0) return 0;
  // Each device receives the other (n−1)/n of the result.
  return total_bytes * (gpus - 1) / gpus / link_bytes_per_ns_ + collective_base_ns_ +
         comm_latency_ns_;
}

double RooflineCostModel::send_ns(double bytes) const {
  return bytes / link_bytes_per_ns_ + collective_base_ns_ + comm_latency_ns_;
}

double RooflineCostModel::price(Op op, const IterationShape& s, bool* /*fell_back*/) const {
  const ShardDims& d = dims_;
  const double b = d.dtype_bytes;
  switch (op) {
    case Op::kQkv:
    case Op::kOProj:
    case Op::kRouter:
    case Op::kGateUp:
    case Op::kDown:
    case Op::kLmHead: {
      const GemmDims g = gemm_dims(op, s, d);
      return gemm_ns(g.m, g.n, g.k);
    }
    case Op::kAttnPrefill: {
      double ns = 0;
      for (const PrefillSegment& seg : s.prefills) ns += prefill_attention_ns(seg);
      return ns;
    }
    case Op::kAttnDecode:
      return decode_attention_ns(attention_shape(), s.decode_requests,
                                 s.decode_context / s.decode_requests);
    case Op::kAddNorm:
      return elementwise_ns(s, s.tokens * b * 5.0 * d.hidden);
    case Op::kRope:
      return elementwise_ns(
          s, s.tokens * b *
                 (2.0 * (d.q_heads + d.kv_heads) * d.head_dim + 2.0 * d.kv_heads * d.head_dim));
    case Op::kAct:
      return elementwise_ns(
          s, (d.moe ? s.tokens_per_expert : s.tokens) * b * (d.gated ? 3.0 : 2.0) * d.ffn_shard);
    case Op::kTpAllReduce:
      return allreduce_ns(s.tokens * d.hidden * b);
    case Op::kEmbed:
      return memory_ns(s.tokens * d.hidden * b);
    case Op::kSample:
      return memory_ns(s.seqs * d.vocab * 4.0 * 2.0);
    case Op::kLogitsGather:
      return allgather_ns(s.seqs * d.vocab * b, d.tp);
    case Op::kPpSend:
      return send_ns(s.tokens * d.hidden * b);
    case Op::kCount:
      break;
  }
  return 0;
}

IterationCost RooflineCostModel::estimate(const BatchShape& batch) const {
  return assemble(*this, dims_, batch, p_.pipeline_mode, overhead_ns(batch), nullptr, &memo_);
}

IterationCost RooflineCostModel::explain(const BatchShape& batch, OpTimes* detail) const {
  return assemble(*this, dims_, batch, p_.pipeline_mode, overhead_ns(batch), detail);
}

SERVESIM_REGISTER(
    CostModel, RooflineCostModel, "roofline",
    "analytic: max(FLOPs/peak, bytes/bandwidth, min kernel) per op, ring TP all-reduce, PP sends, "
    "step overhead")

}  // namespace servesim
