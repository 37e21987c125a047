// sim/world/kv_shards.h — how a request's KV cache is split over an instance's devices, and
// which bytes must go from which device of one instance to which device of another when the KV
// moves (prefill → decode hand-off, migration) between instances of different parallelism.
//
// A device at pipeline stage s holds the layers [s·⌈L/pp⌉, (s+1)·⌈L/pp⌉) ∩ [0, L) and, at
// tensor rank r, the KV heads [r·H/tp, (r+1)·H/tp) (H ≥ tp), or the one head ⌊r·H/tp⌋ replicated
// over tp/H ranks (H < tp). A destination device needs its layers × heads; each piece comes
// from the lowest-ranked source device that holds it. Bytes per token, layer and head:
// 2 (K and V) × head_dim × kv dtype bytes. Devices are numbered stage-major (s·tp + r).
#pragma once

#include <cstdint>
#include <vector>

#include "models/catalog.h"

namespace servesim {

struct KvShardFlow {
  int src = 0;  // device index within the source instance
  int dst = 0;  // device index within the destination instance
  double bytes = 0;
};

// The flows that move `tokens` tokens of KV between the two layouts, merged per device pair,
// in (src, dst) order. Their bytes add up to what the destination devices hold.
std::vector<KvShardFlow> kv_shard_flows(const ModelSpec& model, int kv_dtype_bytes,
                                        std::int64_t tokens, int src_tp, int src_pp, int dst_tp,
                                        int dst_pp);

// The KV bytes of `tokens` tokens over the whole model (every layer and KV head once).
double kv_bytes(const ModelSpec& model, int kv_dtype_bytes, std::int64_t tokens);

}  // namespace servesim
