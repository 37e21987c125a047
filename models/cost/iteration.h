// models/cost/iteration.h — what one iteration of a decoder-only transformer consists of, shared
// by every op-level cost model (roofline, measured): the per-device shard dimensions of a
// deployment, the aggregates of a batch, the list of operators with their op classes, and the
// assembly of per-op times into an IterationCost (layers, pipeline stages, overhead).
//
// Operators (per transformer block on one device, `per_layer`, or once per iteration):
//   qkv, attention_prefill, attention_decode, o_proj, router (MoE), gate_up, act, down,
//   add_norm (×2: fused residual add + RMSNorm before attention and before the MLP),
//   rope (rotary on Q and K plus the KV-cache write), tp_allreduce (×2, TP > 1),
//   lm_head, embed, sample, logits_gather (TP > 1), pp_send (PP > 1).
// MoE: gate_up, act and down run once per active expert on `tokens_per_expert` tokens, with
// active experts E·(1 − (1 − k/E)^T) (uniform routing of T tokens to k of E experts each).
//
// Pipeline parallelism (PipelineMode):
//   latency    — one batch passes all stages in turn: every layer, (pp − 1) sends; the
//                iteration takes the whole pipeline's latency (no overlap between iterations).
//   throughput — pp micro-batches in flight: the iteration costs the slowest stage,
//                ceil(L/pp) layers + LM head/embedding/sampling + one send.
//
// Contract: a Pricer used with assemble() provides
//   double price(Op, const IterationShape&, bool* fell_back) const   // ns of ONE call of op
// and is only asked for ops that do work in this batch.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "models/cost/cost_model.h"

namespace servesim {

enum class PipelineMode { kLatency, kThroughput };

// One device's shard of the model (tensor parallelism splits heads, FFN and vocabulary).
struct ShardDims {
  double hidden = 0, q_heads = 0, kv_heads = 0, head_dim = 0, ffn_shard = 0, vocab = 0,
         vocab_shard = 0;
  double dtype_bytes = 2, kv_dtype_bytes = 2;
  bool gated = true;
  bool moe = false;
  double experts = 1, top_k = 1;
  int layers = 0, tp = 1, pp = 1;

  static ShardDims of(const Deployment& d);
  double qkv_width() const { return (q_heads + 2.0 * kv_heads) * head_dim; }
  double q_width() const { return q_heads * head_dim; }
  double gate_up_width() const { return (gated ? 2.0 : 1.0) * ffn_shard; }
  int layers_per_stage() const { return (layers + pp - 1) / pp; }
};

// Causal (query, key) pairs of `n` new tokens after `prior` cached ones.
inline double causal_pairs(double n, double prior) { return n * prior + n * (n + 1.0) / 2.0; }

// The aggregates of one batch that the operators need (O(prefill segments) to build).
struct IterationShape {
  std::span<const PrefillSegment> prefills;
  double tokens = 0;  // tokens through the layers: prefill new tokens + one per decode
  double seqs = 0;    // sequences that sample a token: prefill segments + decodes
  double prefill_segments = 0;
  double prefill_tokens = 0;
  double prefill_pairs = 0;  // Σ causal_pairs(new, prior) over the segments
  double prefill_prior = 0;  // Σ prior tokens over the segments
  double decode_requests = 0;
  double decode_context = 0;     // Σ context over decoding requests
  double active_experts = 0;     // MoE only
  double tokens_per_expert = 0;  // MoE only: T·k / active
  // Bytes the elementwise kernels of one block move (2 add_norm, rope, act; see roofline.h).
  double elementwise_layer_bytes = 0;

  static IterationShape of(const BatchShape& b, const ShardDims& d);
};

enum class Op : int {
  kQkv = 0,
  kAttnPrefill,
  kAttnDecode,
  kOProj,
  kRouter,
  kGateUp,
  kAct,
  kDown,
  kAddNorm,
  kRope,
  kTpAllReduce,
  kLmHead,
  kEmbed,
  kSample,
  kLogitsGather,
  kPpSend,
  kCount
};
inline constexpr int kNumOps = static_cast<int>(Op::kCount);

struct OpSpec {
  const char* name;
  OpClass op_class;
  bool per_layer;
};

// The (m, n, k) of a GEMM op on one device for this batch (m: rows = tokens).
struct GemmDims {
  double m = 0, n = 0, k = 0;
};

// op_spec(op): name, class, per layer or once. gemm_dims(op, s, d): the GEMM's (m, n, k).
// op_calls(op, s, d, mode): calls of `op` per layer (per_layer ops) or per iteration; 0 when the
// op does no work (pp_send: pp − 1 stage boundaries per batch in latency mode, one per stage in
// throughput mode). Inline: the hot path.
inline constexpr OpSpec kOpSpecs[kNumOps] = {
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
inline const OpSpec& op_spec(Op op) { return kOpSpecs[static_cast<int>(op)]; }

// The ops that are one GEMM of an activation by a weight (gemm_dims gives their shape).
inline bool is_gemm(Op op) {
  return op == Op::kQkv || op == Op::kOProj || op == Op::kRouter || op == Op::kGateUp ||
         op == Op::kDown || op == Op::kLmHead;
}

inline GemmDims gemm_dims(Op op, const IterationShape& s, const ShardDims& d) {
  const double expert_m = d.moe ? s.tokens_per_expert : s.tokens;
  switch (op) {
    case Op::kQkv:
      return {s.tokens, d.qkv_width(), d.hidden};
    case Op::kOProj:
      return {s.tokens, d.hidden, d.q_width()};
    case Op::kRouter:
      return {s.tokens, d.experts, d.hidden};
    case Op::kGateUp:
      return {expert_m, d.gate_up_width(), d.hidden};
    case Op::kDown:
      return {expert_m, d.hidden, d.ffn_shard};
    case Op::kLmHead:
      return {s.seqs, d.vocab_shard, d.hidden};
    default:
      return {};
  }
}

inline double op_calls(Op op, const IterationShape& s, const ShardDims& d, PipelineMode mode) {
  if (s.tokens <= 0) return 0;
  switch (op) {
    case Op::kQkv:
    case Op::kOProj:
    case Op::kRope:
    case Op::kLmHead:
    case Op::kEmbed:
    case Op::kSample:
      return 1;
    case Op::kAttnPrefill:
      return s.prefill_segments > 0 ? 1 : 0;
    case Op::kAttnDecode:
      return s.decode_requests > 0 ? 1 : 0;
    case Op::kRouter:
      return d.moe ? 1 : 0;
    case Op::kGateUp:
    case Op::kAct:
    case Op::kDown:
      return d.moe ? s.active_experts : 1;
    case Op::kAddNorm:
      return 2;
    case Op::kTpAllReduce:
      return d.tp > 1 ? 2 : 0;
    case Op::kLogitsGather:
      return d.tp > 1 ? 1 : 0;
    case Op::kPpSend:
      return d.pp > 1 ? (mode == PipelineMode::kThroughput ? 1.0 : d.pp - 1.0) : 0;
    case Op::kCount:
      break;
  }
  return 0;
}

// Per-op times of one iteration (ns of all calls of the op in one layer, or once), for `explain`.
struct OpTimes {
  std::array<double, kNumOps> ns{};
  std::array<double, kNumOps> calls{};
  std::array<bool, kNumOps> fell_back{};
};

// Attention ops are the only ones whose price depends on more than the batch's token and
// sequence counts (IterationShape's other fields are functions of those two), and the only
// members of their classes.
inline bool is_attention(Op op) { return op == Op::kAttnPrefill || op == Op::kAttnDecode; }

// An exact memo of the per-class sums of every op but attention, keyed by (tokens, seqs), for a
// pricer whose non-attention prices depend on nothing else (the roofline). Direct-mapped: a
// colliding key overwrites. Since attention ops alone make up their classes, adding them to a
// remembered sum gives the same doubles as pricing everything afresh.
class TokenOpsMemo {
 public:
  struct Entry {
    double tokens = -1, seqs = -1;
    std::uint32_t fallback_mask = 0;
    std::array<double, kNumOpClasses> layer{}, once{};
  };
  Entry& slot(double tokens, double seqs) {
    if (slots_.empty()) slots_.resize(kSlots);
    const auto t = static_cast<std::uint64_t>(tokens), q = static_cast<std::uint64_t>(seqs);
    return slots_[(t * 0x9E3779B1u + q) & (kSlots - 1)];
  }

 private:
  static constexpr std::size_t kSlots = 2048;
  std::vector<Entry> slots_;
};

template <class Pricer>
IterationCost assemble(const Pricer& pricer, const ShardDims& d, const BatchShape& batch,
                       PipelineMode mode, double overhead_ns, OpTimes* detail = nullptr,
                       TokenOpsMemo* memo = nullptr) {
  IterationCost c;
  if (batch.empty()) return c;
  const IterationShape s = IterationShape::of(batch, d);
  std::array<double, kNumOpClasses> layer{}, once{};
  auto add = [&](int i) {
    const Op op = static_cast<Op>(i);
    const double calls = op_calls(op, s, d, mode);
    if (calls <= 0) return;
    bool fb = false;
    const double ns = calls * pricer.price(op, s, &fb);
    const OpSpec& spec = op_spec(op);
    const int cls = static_cast<int>(spec.op_class);
    (spec.per_layer ? layer : once)[cls] += ns;
    if (fb) c.fallback_mask |= 1u << cls;
    if (detail != nullptr) {
      detail->ns[i] = ns;
      detail->calls[i] = calls;
      detail->fell_back[i] = fb;
    }
  };
  if (memo == nullptr || detail != nullptr) {
    for (int i = 0; i < kNumOps; ++i) add(i);
  } else {
    TokenOpsMemo::Entry& e = memo->slot(s.tokens, s.seqs);
    if (e.tokens == s.tokens && e.seqs == s.seqs) {
      layer = e.layer;
      once = e.once;
      c.fallback_mask = e.fallback_mask;
    } else {
      for (int i = 0; i < kNumOps; ++i) {
        if (!is_attention(static_cast<Op>(i))) add(i);
      }
      e.tokens = s.tokens;
      e.seqs = s.seqs;
      e.layer = layer;
      e.once = once;
      e.fallback_mask = c.fallback_mask;
    }
    add(static_cast<int>(Op::kAttnPrefill));
    add(static_cast<int>(Op::kAttnDecode));
  }
  const int comm = static_cast<int>(OpClass::kCommunication);
  const int overhead = static_cast<int>(OpClass::kOverhead);
  for (int k = 0; k < kNumOpClasses; ++k) {
    if (k != comm) c.per_layer_ns += layer[k];
  }
  const double layers = mode == PipelineMode::kThroughput ? d.layers_per_stage() : d.layers;
  double total = 0;
  for (int k = 0; k < kNumOpClasses; ++k) {
    c.breakdown_ns[k] = layers * layer[k] + once[k] + (k == overhead ? overhead_ns : 0.0);
    total += c.breakdown_ns[k];
  }
  c.comm_ns = c.breakdown_ns[comm];
  c.overhead_ns = c.breakdown_ns[overhead];
  c.duration_ns = duration_from_ns(total);
  return c;
}

}  // namespace servesim
