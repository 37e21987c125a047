// sim/scenario/pools.h — reads the cluster section of a scenario into pool plans and builds the
// pools into a Cluster.
//
// Two forms, one meaning:
//   cluster: {instances, hardware, model, tensor_parallel, pipeline_parallel, kv_cache,
//             cost_model, startup_s, max_model_len}
//     one implicit colocated pool named "default", with policies.batcher and
//     policies.queue_order;
//   cluster: {max_model_len, pools: [{name, role, instances, hardware, model, tensor_parallel,
//             pipeline_parallel, kv_cache, cost_model, batcher, queue_order, startup_s}, ...]}
//     a pool without its own batcher / queue_order uses policies.batcher / policies.queue_order;
//     decode pools also take `router` (which decode instance takes a hand-off; default
//     most_free_kv) and `accept_waiting_fraction`; any pool may pin its initial instances to
//     topology nodes with `nodes: [...]`.
//   Both forms: cluster.topology {nic, nic_gbps, fabric_gbps, nic_latency_us, fabric_latency_us,
//   contention} and cluster.transfer {enabled, layerwise}.
// Validation names the key: unknown hardware or model, parallelism that does not fit a node or
// the model, a KV cache that cannot hold one max_model_len request (with the memory numbers),
// pools serving different models, a prefill pool without a decode pool or the reverse, flat
// keys mixed with `pools`, duplicate pool names.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/cost/memory.h"
#include "sim/config/config.h"
#include "sim/world/cluster.h"

namespace servesim {

struct PoolPlan {
  PoolSpec spec;
  int instances = 1;
  Deployment deployment;
  MemoryPlan memory;
  InstanceOptions instance;
  bool kv_blocks_forced = false;  // kv_cache.num_blocks was given
  double usd_per_hour = 0;        // per device-hour (the catalog's unless the pool overrides it)
  std::optional<ConfigNode> cost_model, batcher, queue_order;
  std::optional<ConfigNode> router;       // decode pools: which decode instance takes a hand-off
  double accept_waiting_fraction = 0.05;  // decode pools: DistServe's accept rule (handoff.h)
  std::optional<ConfigNode> config;       // the pool's own node (for errors about it)
};

// How KV moves from prefill to decode instances (handoff.h).
struct TransferOptions {
  bool enabled = true;     // false: a zero-time hand-off (DistServe's own simulator)
  bool layerwise = false;  // the copy overlaps the prefill, layer by layer
};

struct ClusterPlan {
  std::int64_t max_model_len = 0;
  std::vector<PoolPlan> pools;
  TopologyOptions topology;
  bool contention = true;
  TransferOptions transfer;
  bool disaggregated() const;  // has prefill and decode pools
  // The workload's client ids when its source knows them in advance (generators); empty when
  // it does not (trace files). Queue orders check their per-client settings against it.
  std::shared_ptr<const std::vector<std::uint32_t>> known_clients;
};

ClusterPlan read_cluster(ConfigNode cluster, ConfigNode policies, const std::string& data_dir);

// Adds every pool to `cluster` with its recipe and spawns its initial instances (active from
// time 0). Building the first instance of a pool validates its cost model, batcher and queue
// order configuration. With `validate_only` (run --print-config/--describe, build-only runs) every
// instance is placed on the topology (placement errors are found) but only the first of each pool
// is built: validation costs the same for 100,000 instances as for one.
void build_pools(Cluster& cluster, const ClusterPlan& plan, bool validate_only = false);

}  // namespace servesim
