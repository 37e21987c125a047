// models/kernels/bench/layer.h — one whole decoder layer composed from the backend's
// kernels, timed as one unit for a batch shape (the "layers" entries of the profile).
//
// A layer, for T tokens (prefill tokens first, then one token per decode sequence):
//   add_rms_norm(hidden, residual) -> normed          [T, hidden]
//   gemm_qkv(normed) -> qkv                            [T, (heads + 2 kv_heads) head_dim]
//   rope_cache(qkv) : rotate q,k in place; write k,v into the paged cache
//   attn_prefill(q of prefill tokens) -> attn[0:P]     (when there are prefill segments)
//   attn_decode(q of decode tokens) -> attn[P:T]       (when there are decode sequences)
//   gemm_o(attn) -> o                                  [T, hidden]
//   add_rms_norm(o, residual) -> normed
//   gemm_gate_up(normed) -> gu                         [T, 2 ffn]
//   act(gu) -> a                                       [T, ffn]
//   gemm_down(a) -> hidden                             [T, hidden]
// The residual add of the next layer's input happens in its first add_rms_norm, so a
// chain of these is a chain of layers. On one GPU of a TP>1 shard, the two all-reduces
// (after gemm_o and gemm_down) are not included: they are profiled as "allreduce".
#ifndef SERVESIM_MODELS_KERNELS_BENCH_LAYER_H_
#define SERVESIM_MODELS_KERNELS_BENCH_LAYER_H_

#include <string>
#include <vector>

#include "op_bench.h"

namespace servesim::kernels {

struct PrefillSegment {
  int tokens = 0;  // new tokens of the sequence in this iteration
  int prior = 0;   // tokens already in the cache
};

struct LayerShape {
  std::string kind;                     // "prefill" | "decode" | "mixed"
  std::vector<PrefillSegment> prefill;  // empty for decode
  int decode_batch = 0;                 // decode sequences (one token each)
  int decode_context = 0;               // context of each decode sequence, current token included
};

// A handful of prefill, decode and mixed shapes; `quick` gives small ones (CPU, tests).
std::vector<LayerShape> DefaultLayerShapes(bool quick);

// Times one layer of `shard` (bf16 weights and activations) for `shape`.
// Returns a null json when the point exceeds ctx.max_point_bytes.
Json BenchLayer(BenchContext& ctx, const ModelShape& shard, const LayerShape& shape);

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_BENCH_LAYER_H_
