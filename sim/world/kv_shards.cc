// sim/world/kv_shards.cc — see kv_shards.h.
#include "sim/world/kv_shards.h"

#include <algorithm>
#include <map>
#include <utility>

namespace servesim {
namespace {

struct Range {
  double lo = 0, hi = 0;
};

Range layers_of(int layers, int pp, int stage) {
  const int per = (layers + pp - 1) / pp;
  return Range{static_cast<double>(std::min(layers, stage * per)),
               static_cast<double>(std::min(layers, (stage + 1) * per))};
}

Range heads_of(int heads, int tp, int rank) {
  if (heads >= tp) {
    return Range{static_cast<double>(rank) * heads / tp,
                 static_cast<double>(rank + 1) * heads / tp};
  }
  const int h = rank * heads / tp;  // one head, replicated over tp / heads ranks
  return Range{static_cast<double>(h), static_cast<double>(h + 1)};
}

double overlap(Range a, Range b) {
  return std::max(0.0, std::min(a.hi, b.hi) - std::max(a.lo, b.lo));
}

}  // namespace

double kv_bytes(const ModelSpec& model, int kv_dtype_bytes, std::int64_t tokens) {
  return 2.0 * model.num_layers * model.num_kv_heads * model.head_dim * kv_dtype_bytes *
         static_cast<double>(tokens);
}

std::vector<KvShardFlow> kv_shard_flows(const ModelSpec& model, int kv_dtype_bytes,
                                        std::int64_t tokens, int src_tp, int src_pp, int dst_tp,
                                        int dst_pp) {
  const double per_layer_head = 2.0 * model.head_dim * kv_dtype_bytes * static_cast<double>(tokens);
  const int heads = model.num_kv_heads;
  std::map<std::pair<int, int>, double> bytes;
  for (int ds = 0; ds < dst_pp; ++ds) {
    const Range dl = layers_of(model.num_layers, dst_pp, ds);
    for (int dr = 0; dr < dst_tp; ++dr) {
      const Range dh = heads_of(heads, dst_tp, dr);
      for (int ss = 0; ss < src_pp; ++ss) {
        const double layers = overlap(dl, layers_of(model.num_layers, src_pp, ss));
        if (layers <= 0) continue;
        // Each head range the destination needs comes from the lowest source rank holding it.
        double covered = 0;
        for (int sr = 0; sr < src_tp && covered < dh.hi - dh.lo; ++sr) {
          const Range sh = heads_of(heads, src_tp, sr);
          const Range need{dh.lo + covered, dh.hi};
          const double h = overlap(need, sh);
          if (h <= 0) continue;
          covered += h;
          bytes[{ss * src_tp + sr, ds * dst_tp + dr}] += layers * h * per_layer_head;
        }
      }
    }
  }
  std::vector<KvShardFlow> out;
  for (const auto& [pair, b] : bytes) out.push_back(KvShardFlow{pair.first, pair.second, b});
  return out;
}

}  // namespace servesim
