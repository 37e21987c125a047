// models/cost/roofline.h — the analytic `roofline` cost model.
//
// Every operator of an iteration costs max(FLOPs / (peak × compute efficiency),
// bytes / (bandwidth × memory efficiency)), at least `min_kernel_us`. Per transformer block on
// one device (tensor-parallel shard): QKV projection, prefill attention (causal FLOPs over the
// new tokens and their prior context), decode attention (KV bytes read per request), O
// projection, MLP (gated or not; MoE: tokens routed top-k, weights read for the experts that get
// at least one token, uniform routing), norms/rotary/activation/residual bytes. Tensor
// parallelism adds two ring all-reduces of the activations per block; pipeline parallelism runs
// the stages one after another for one batch (latency of a single iteration; no overlap of
// successive iterations) with an activation send between stages. Once per iteration: embedding
// gather, LM head over the sequences that sample, the logits gather under TP, sampling, and a
// fixed framework overhead. Efficiency factors are named parameters (RooflineParams).
#pragma once

#include "models/cost/cost_model.h"

namespace servesim {

struct RooflineParams {
  double gemm_compute_efficiency = 0.75;       // fraction of dense peak reached by large GEMMs
  double attention_compute_efficiency = 0.55;  // fraction of peak reached by prefill attention
  double memory_efficiency = 0.85;             // fraction of peak HBM bandwidth reached
  double link_efficiency = 0.80;               // fraction of link bandwidth reached by collectives
  double comm_latency_us = 8.0;                // latency per all-reduce ring step / p2p send
  double min_kernel_us = 2.0;                  // no kernel takes less (launch + ramp)
  double step_overhead_us = -1;                // per-iteration overhead; < 0 → the hardware's
  bool use_fp8 = false;                        // GEMMs at the FP8 peak (weights stay dtype_bytes)
};

class RooflineCostModel final : public CostModel {
 public:
  RooflineCostModel(const Deployment& d, const RooflineParams& p);
  RooflineCostModel(ConfigNode& cfg, const Deployment& d);
  IterationCost estimate(const BatchShape& batch) const override;

  // Building blocks, exposed for the measured model's fallbacks and for tests.
  struct OpCost {
    double flops = 0;
    double bytes = 0;
  };
  // One GEMM of an [m, k] activation by a [k, n] weight on one device.
  static OpCost gemm(double m, double n, double k, int dtype_bytes);
  double time_ns(const OpCost& op, double efficiency) const;  // roofline time of one op
  double gemm_ns(double m, double n, double k) const;
  double prefill_attention_ns(const PrefillSegment& s) const;
  double decode_attention_ns(std::int64_t requests, std::int64_t context_tokens) const;
  double allreduce_ns(double bytes) const;  // one ring all-reduce over tp devices
  const RooflineParams& params() const { return p_; }
  const Deployment& deployment() const { return d_; }

 private:
  Deployment d_;
  RooflineParams p_;
  // Derived once.
  double peak_flops_ = 0, peak_attn_flops_ = 0, bw_bytes_per_ns_ = 0, link_bytes_per_ns_ = 0;
  double q_heads_ = 0, kv_heads_ = 0, ffn_shard_ = 0, vocab_shard_ = 0;
  int layers_ = 0;
  double overhead_ns_ = 0, min_kernel_ns_ = 0;
};

}  // namespace servesim
