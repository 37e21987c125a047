// models/cost/roofline.h — the analytic `roofline` cost model.
//
// Every operator costs max(FLOPs / (peak × compute efficiency), bytes / (bandwidth × memory
// efficiency), floor), the floor being min_kernel (GEMMs and attention may have their own; an
// attention call also costs attention_per_sequence per sequence). Per transformer block on one
// device (tensor-parallel shard), the operators of iteration.h:
//   GEMM (m tokens, [k → n] weight): 2mnk FLOPs, (mk + kn + mn)·b bytes — QKV, O, gate/up, down;
//     MoE: router, then each active expert on T·k/active tokens (only active experts' weights
//     are read);
//   prefill attention per segment of n new tokens after p cached: 4·hd·heads·(np + n(n+1)/2)
//     FLOPs (causal), Q/O plus K/V of p + n tokens read;
//   decode attention: 4·hd·heads·Σctx FLOPs, Σctx·2·kv_heads·hd·b_kv KV bytes read;
//   elementwise (bytes only): 2 × fused residual-add + RMSNorm 5·T·h·b, rotary + KV write
//     T·b·(2(heads + kv_heads)hd + 2·kv_heads·hd), activation T·(3 gated | 2)·ffn·b; the four
//     kernels of a block take together at least 4 × min_kernel (shared by bytes below that);
//   tensor parallelism: two ring all-reduces of T·h·b bytes per block,
//     collective_base + 2(tp − 1)·(bytes/tp / (link × link efficiency) + comm_latency);
//   once per iteration: embedding gather, LM head over the sampling sequences, the logits
//     all-gather under TP, sampling (fp32 logits read twice), per-iteration step overhead;
//   pipeline parallelism: activations sent between stages (T·h·b / link + collective_base +
//     comm_latency), and `pipeline_mode` (iteration.h) decides whether an iteration costs the
//     whole pipeline (latency, default) or its slowest stage (throughput, pp micro-batches in
//     flight).
// Efficiency factors are named parameters (RooflineParams), defaults below.
#pragma once

#include "models/cost/cost_model.h"
#include "models/cost/iteration.h"

namespace servesim {

struct RooflineParams {
  double gemm_compute_efficiency = 0.75;       // fraction of dense peak reached by large GEMMs
  double attention_compute_efficiency = 0.55;  // fraction of peak reached by prefill attention
  double memory_efficiency = 0.85;             // fraction of peak HBM bandwidth reached
  // Collective defaults fitted to the measured NCCL all-reduces (servesim's own on 2 × H200,
  // aiconfigurator's on A100/H100/H200 at TP 2/4/8; tools/experiments/allreduce_fit.py).
  double link_efficiency = 0.68;    // fraction of link bandwidth reached by collectives
  double comm_latency_us = 0.56;    // latency per all-reduce ring step / p2p send
  double collective_base_us = 8.9;  // fixed cost of one collective call or send
  // Floors: the smallest times measured (tools/experiments/kernel_floors.py): a block's four
  // elementwise kernels ≥ 11.8 µs (servesim's H100/H200 profiles), GEMMs ≥ 2.4 µs
  // (aiconfigurator A100/H100/H200), attention calls ≥ 4.2 µs (servesim's kernels; vLLM's ≥ 9.8).
  double min_kernel_us = 2.9;            // floor of a memory-bound kernel (4× per block)
  double gemm_min_kernel_us = 2.4;       // floor of one GEMM; < 0 → min_kernel_us
  double attention_min_kernel_us = 4.0;  // floor of one attention call; < 0 → min_kernel_us
  double attention_per_sequence_us = 0;  // per-sequence cost of an attention call (metadata)
  double step_overhead_us = -1;          // per-iteration overhead; < 0 → the hardware's
  HostOverhead host_overhead;  // per-kind host overhead; enabled → replaces the constant
  bool use_fp8 = false;        // GEMMs at the FP8 peak (weights stay dtype_bytes)
  PipelineMode pipeline_mode = PipelineMode::kLatency;
};

// Reads the RooflineParams keys from `cfg` (shared by `roofline` and `measured`).
RooflineParams read_roofline_params(ConfigNode& cfg, const Deployment& d);

class RooflineCostModel final : public CostModel {
 public:
  RooflineCostModel(const Deployment& d, const RooflineParams& p);
  RooflineCostModel(ConfigNode& cfg, const Deployment& d);
  IterationCost estimate(const BatchShape& batch) const override;
  IterationCost explain(const BatchShape& batch, OpTimes* detail) const override;

  // The Pricer of iteration.h: ns of one call of `op`. Never sets *fell_back.
  double price(Op op, const IterationShape& s, bool* fell_back) const;

  // Building blocks, exposed for the measured model's fallbacks, the accuracy report and tests.
  struct OpCost {
    double flops = 0;
    double bytes = 0;
  };
  // One GEMM of an [m, k] activation by a [k, n] weight on one device.
  static OpCost gemm(double m, double n, double k, int dtype_bytes);
  double time_ns(const OpCost& op,
                 double flops_per_ns) const;  // roofline time of one op (min_kernel floor)
  double time_ns(const OpCost& op, double flops_per_ns, double floor_ns) const;
  double gemm_ns(double m, double n, double k) const;  // in the model's dtype
  double memory_ns(double bytes) const;                // a bandwidth-bound kernel
  // One elementwise kernel of a block moving `bytes`, sharing the block's elementwise floor.
  double elementwise_ns(const IterationShape& s, double bytes) const;

  // Attention of one head configuration (a device's shard), independent of the deployment.
  struct AttentionShape {
    double q_heads = 0, kv_heads = 0, head_dim = 0;
    double dtype_bytes = 2, kv_dtype_bytes = 2;
  };
  AttentionShape attention_shape() const;  // the deployment's shard
  // `batch` sequences, each `tokens` new tokens after `prior` cached ones (one kernel call).
  double prefill_attention_ns(const AttentionShape& a, double batch, double tokens,
                              double prior) const;
  // `batch` sequences each attending to `context` tokens (the current one included).
  double decode_attention_ns(const AttentionShape& a, double batch, double context) const;
  // The deployment's shard: one segment; `requests` decodes with Σ context `context_tokens`.
  double prefill_attention_ns(const PrefillSegment& s) const;
  double decode_attention_ns(std::int64_t requests, std::int64_t context_tokens) const;

  double allreduce_ns(double bytes) const;            // ring all-reduce over the TP group
  double allreduce_ns(double bytes, int gpus) const;  // over `gpus` devices
  double allgather_ns(double total_bytes, int gpus) const;
  double send_ns(double bytes) const;  // one point-to-point send

  const RooflineParams& params() const { return p_; }
  const Deployment& deployment() const { return d_; }
  const ShardDims& dims() const { return dims_; }
  // The per-iteration overhead of `batch`: the host-overhead lines when enabled, else the
  // constant step overhead.
  double overhead_ns(const BatchShape& batch) const {
    if (!p_.host_overhead.enabled) return overhead_ns_;
    std::int64_t tokens = batch.decode_requests;
    for (const PrefillSegment& s : batch.prefills) tokens += s.new_tokens;
    return p_.host_overhead.us(static_cast<std::int64_t>(batch.prefills.size()),
                               batch.decode_requests, tokens) *
           1e3;
  }

 private:
  Deployment d_;
  RooflineParams p_;
  ShardDims dims_;
  // Derived once.
  double peak_flops_ = 0, peak_attn_flops_ = 0, bw_bytes_per_ns_ = 0, link_bytes_per_ns_ = 0;
  double overhead_ns_ = 0, min_kernel_ns_ = 0, comm_latency_ns_ = 0, collective_base_ns_ = 0;
  double gemm_floor_ns_ = 0, attention_floor_ns_ = 0, attention_per_seq_ns_ = 0;
  // `estimate` remembers the non-attention ops' sums by (tokens, seqs): exact (iteration.h).
  mutable TokenOpsMemo memo_;
};

}  // namespace servesim
