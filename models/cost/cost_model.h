// models/cost/cost_model.h — the cost-model interface: "how long does this batch take on this
// instance?" An instance is one model replica on tp × pp devices of one hardware type.
//
// Contract (every implementation):
//  * estimate() is a pure function of the BatchShape (same shape ⇒ same cost), thread-compatible.
//  * Its cost is O(number of prefill segments): decoding requests arrive as two aggregates
//    (count and Σ context), never one by one. (Implementations that interpolate per-request
//    tables use the mean context Σctx/B.)
//  * An empty batch costs 0.
//  * duration_ns == round(Σ breakdown_ns); comm_ns and overhead_ns repeat their classes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "models/catalog.h"
#include "sim/core/registry.h"
#include "sim/core/time.h"

namespace servesim {

// A prompt (or a chunk of one) in a batch: `new_tokens` computed now, after `prior_tokens`
// already in the KV cache (chunked prefill, prefix-cache hits).
struct PrefillSegment {
  std::int32_t new_tokens = 0;
  std::int32_t prior_tokens = 0;
};

struct BatchShape {
  std::span<const PrefillSegment> prefills;
  std::int64_t decode_requests = 0;
  // Σ over decoding requests of the tokens each one attends to in this iteration (its context,
  // including the token being decoded).
  std::int64_t decode_context_tokens = 0;

  std::int64_t prefill_tokens() const {
    std::int64_t n = 0;
    for (const auto& s : prefills) n += s.new_tokens;
    return n;
  }
  bool empty() const { return prefills.empty() && decode_requests == 0; }
};

enum class OpClass : int {
  kGemm = 0,          // QKV, O, MLP projections (MoE experts included), LM head
  kAttentionPrefill,  // attention of prefill segments (causal, with prior context)
  kAttentionDecode,   // attention of decoding requests over their KV cache
  kElementwise,       // norms, rotary, activation, residual adds, embedding, sampling
  kCommunication,     // tensor-parallel all-reduce, pipeline send/recv
  kOverhead,          // per-iteration framework/launch overhead
  kCount
};
inline constexpr int kNumOpClasses = static_cast<int>(OpClass::kCount);
const char* op_class_name(OpClass c);

struct IterationCost {
  TimeNs duration_ns = 0;
  // Time per op class over the whole iteration (all layers, all pipeline stages), ns.
  std::array<double, kNumOpClasses> breakdown_ns{};
  // One transformer block (norms, QKV, attention, O, MLP) on one device, without communication.
  double per_layer_ns = 0;
  double comm_ns = 0;      // == breakdown_ns[kCommunication]
  double overhead_ns = 0;  // == breakdown_ns[kOverhead]
  // Bit i set ⇔ op class i was (partly) estimated outside measured data (measured model only).
  std::uint32_t fallback_mask = 0;
};

struct OpTimes;  // per-operator detail (iteration.h)

// What a cost model is built for: one instance's hardware, model and parallelism.
// A duration in ns from a double, kTimeNever when beyond the int64 clock (or NaN): the instance
// then refuses the iteration with a clear error instead of wrapping time.
inline TimeNs duration_from_ns(double ns) {
  return ns >= 0 && ns < 9.0e18 ? static_cast<TimeNs>(std::llround(ns)) : kTimeNever;
}

struct Deployment {
  const HardwareSpec* hardware = nullptr;
  const ModelSpec* model = nullptr;
  int tensor_parallel = 1;
  int pipeline_parallel = 1;
  int kv_dtype_bytes = 2;
  std::string data_dir;  // for models that read measured tables
};

// A cost model is a pure function of the batch: equal batches give bit-identical costs, whatever
// was asked before. One object is shared by all instances of a pool and serves one simulation
// (thread) at a time — a model may memoise inside its const methods.
class CostModel {
 public:
  using Context = Deployment;
  static constexpr const char* kKind = "cost-model";
  virtual ~CostModel() = default;
  virtual IterationCost estimate(const BatchShape& batch) const = 0;
  // estimate() plus, for op-level models, the time and fallback of every operator in *detail
  // (left untouched by models that have no operators). Not for the hot path.
  virtual IterationCost explain(const BatchShape& batch, OpTimes* detail) const {
    (void)detail;
    return estimate(batch);
  }
};

// Builds the cost model described by `cfg` ("impl": roofline | measured | ...).
std::unique_ptr<CostModel> make_cost_model(ConfigNode cfg, const Deployment& deployment);

}  // namespace servesim
