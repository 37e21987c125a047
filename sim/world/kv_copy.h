// sim/world/kv_copy.h — copies a request's KV cache between two instances over the cluster
// network: one flow per (source device, destination device) pair of their shard layouts
// (kv_shards.h), each sharing the links it crosses with every other transfer (network.h).
// Shard layouts are computed once per pair of pools. Used by live migration; the prefill →
// decode hand-off shares the layout cache.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "sim/world/cluster.h"
#include "sim/world/kv_shards.h"

namespace servesim {

class KvCopier {
 public:
  KvCopier(Cluster& cluster, int kv_dtype_bytes)
      : cluster_(cluster), kv_dtype_bytes_(kv_dtype_bytes) {}

  // Per-token flows between the layouts of two pools, in (src, dst) device order.
  const std::vector<KvShardFlow>& shard_flows(int src_pool, int dst_pool);

  struct Copy {
    std::vector<Network::FlowId> flows;
    double bytes = 0;
  };
  // Starts copying `tokens` tokens of KV from instance `src` to `dst`; `done` runs (in the
  // completion phase) when the last flow has landed. A copy of 0 tokens still takes each
  // route's latency (the handshake).
  Copy start(InstanceId src, InstanceId dst, std::int64_t tokens, std::function<void()> done);
  // Stops a copy in progress; `done` never runs.
  void cancel(const Copy& copy);

 private:
  Cluster& cluster_;
  int kv_dtype_bytes_;
  std::map<std::pair<int, int>, std::vector<KvShardFlow>> shard_flows_;
};

}  // namespace servesim
