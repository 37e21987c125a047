// sim/scenario/pools.cc — see pools.h.
#include "sim/scenario/pools.h"

#include <set>

#include "policies/batching/batcher.h"
#include "policies/queueing/queue_order.h"

namespace servesim {
namespace {

constexpr double kGiB = 1073741824.0;

// The keys of one pool that the flat form reads from `cluster` itself.
const char* const kPoolKeys[] = {
    "instances", "hardware",   "model",     "tensor_parallel", "pipeline_parallel",
    "kv_cache",  "cost_model", "startup_s", "nodes",           "usd_per_hour"};

void read_topology(ConfigNode cluster, ClusterPlan& plan) {
  ConfigNode t = cluster.child("topology");
  plan.topology.nic_per_device =
      t.choice("nic", "per_device", {"per_device", "per_node"},
               "one NIC per device (DGX-style) or one per node, each of nic_gbps") == "per_device";
  plan.topology.nic_gbps =
      t.get<double>("nic_gbps", 0.0,
                    "NIC bandwidth per direction, GB/s (0: the hardware catalog's)", NonNegative());
  plan.topology.fabric_gbps =
      t.get<double>("fabric_gbps", 0.0,
                    "intra-node fabric bandwidth per device and direction, GB/s (0: the catalog's)",
                    NonNegative());
  plan.topology.nic_latency_us =
      t.get<double>("nic_latency_us", -1.0,
                    "per-transfer latency over the NIC, us (-1: the catalog's)", AtLeast(-1));
  plan.topology.fabric_latency_us =
      t.get<double>("fabric_latency_us", -1.0,
                    "per-transfer latency over the fabric, us (-1: the catalog's)", AtLeast(-1));
  plan.contention =
      t.get<bool>("contention", true, "transfers share links (max-min fair); false: each alone");
  ConfigNode x = cluster.child("transfer");
  plan.transfer.enabled = x.get<bool>(
      "enabled", true, "KV moves prefill → decode over the topology; false: zero-time hand-off");
  plan.transfer.layerwise =
      x.get<bool>("layerwise", false,
                  "stream the KV layer by layer while the prefill runs (overlaps the copy)");
}

// Hardware, model, parallelism, KV memory and instance options of one pool.
PoolPlan read_pool(ConfigNode c, const std::string& data_dir, std::int64_t* max_model_len) {
  PoolPlan p;
  const Catalog& catalog = Catalog::builtin();
  p.instances =
      c.get<int>("instances", 1, "model replicas in the pool at the start (0: only spawned later)",
                 InRange(0, 100000));
  p.spec.hardware =
      c.get<std::string>("hardware", "h100-sxm", "device type (servesim list hardware)");
  p.spec.model = c.get<std::string>("model", "llama-3-8b", "model (servesim list models)");
  try {
    p.deployment.hardware = &catalog.hardware(p.spec.hardware);
  } catch (const ConfigError& e) {
    c.fail("hardware", e.what());
  }
  try {
    p.deployment.model = &catalog.model(p.spec.model);
  } catch (const ConfigError& e) {
    c.fail("model", e.what());
  }
  p.spec.hw = p.deployment.hardware;
  p.usd_per_hour =
      c.get<double>("usd_per_hour", p.deployment.hardware->usd_per_hour,
                    "price per device-hour, USD (default: the hardware catalog's)", NonNegative());
  p.instance.model = p.deployment.model;
  p.config = c;
  for (const std::int64_t n : c.get<std::vector<std::int64_t>>(
           "nodes", {}, "topology node of each initial instance (default: packed in order)",
           InRange(0, 1e6))) {
    p.spec.nodes.push_back(static_cast<int>(n));
  }
  if (!p.spec.nodes.empty() && static_cast<int>(p.spec.nodes.size()) != p.instances) {
    c.fail("nodes", "needs one node per initial instance (" + std::to_string(p.instances) + ")");
  }
  const ModelSpec& m = *p.deployment.model;
  p.deployment.tensor_parallel =
      c.get<int>("tensor_parallel", 1, "devices per pipeline stage (TP degree)", AtLeast(1));
  p.deployment.pipeline_parallel =
      c.get<int>("pipeline_parallel", 1, "pipeline stages (PP degree)", AtLeast(1));
  p.spec.tensor_parallel = p.deployment.tensor_parallel;
  p.spec.pipeline_parallel = p.deployment.pipeline_parallel;
  if (const std::string why = m.tensor_parallel_problem(p.deployment.tensor_parallel);
      !why.empty()) {
    c.fail("tensor_parallel", std::to_string(p.deployment.tensor_parallel) + " " + why);
  }
  if (p.deployment.pipeline_parallel > m.num_layers) {
    c.fail("pipeline_parallel", "exceeds the model's " + std::to_string(m.num_layers) + " layers");
  }
  if (p.deployment.tensor_parallel > p.deployment.hardware->devices_per_node) {
    c.fail("tensor_parallel", "exceeds the " +
                                  std::to_string(p.deployment.hardware->devices_per_node) +
                                  " devices of one " + p.spec.hardware + " node");
  }
  p.deployment.data_dir = data_dir;
  // Default start-up: loading the weight shard over the host link (PCIe).
  const double load_s = m.total_params() * m.dtype_bytes /
                        (p.deployment.tensor_parallel * p.deployment.pipeline_parallel) /
                        (p.deployment.hardware->host_link_gbps * 1e9);
  p.spec.startup_ns = s_to_ns(c.get<double>(
      "startup_s", load_s,
      "time from spawning an instance at run time to serving, s (default: its weight shard "
      "over the host link)",
      InRange(0.0, 1e6)));
  if (max_model_len) {
    *max_model_len = c.get<std::int64_t>(
        "max_model_len", m.max_context_tokens,
        "longest context (prompt + output) served; default: the model's", AtLeast(1));
  }
  ConfigNode kv = c.child("kv_cache");
  const int block_size = kv.get<int>("block_size", 16, "tokens per KV block", InRange(1, 1024));
  const double util =
      kv.get<double>("gpu_memory_utilization", 0.9, "fraction of device memory the engine may use",
                     OpenFraction());
  const double reserve_gib = kv.get<double>(
      "activation_reserve_gib", 2.0,
      "memory kept for activations, CUDA graphs and workspace, GiB per device", NonNegative());
  const std::int64_t forced_blocks = kv.get<std::int64_t>(
      "num_blocks", 0, "KV blocks per instance; 0 = from memory accounting", NonNegative());
  p.memory = plan_memory(p.deployment, util, reserve_gib * kGiB, block_size);
  if (forced_blocks > 0) p.memory.kv_blocks = forced_blocks;
  p.kv_blocks_forced = forced_blocks > 0;
  InstanceOptions& io = p.instance;
  io.kv_blocks = p.memory.kv_blocks;
  io.block_size_tokens = block_size;
  io.prefix_caching = kv.get<bool>("enable_prefix_caching", false,
                                   "automatic prefix caching of full prompt blocks");
  io.apc_discount_cached_in_admission = kv.get<bool>(
      "apc_discount_cached_in_admission", false,
      "admission counts only the blocks it really takes (vLLM v1 counts the whole prompt: false)");
  const std::string mode = kv.choice(
      "preemption_mode", "recompute", {"recompute", "swap"},
      "what a preempted decoding request does: recompute its KV later, or swap it to host memory");
  io.preemption_mode = mode == "swap" ? PreemptionMode::kSwap : PreemptionMode::kRecompute;
  const double swap_gib = kv.get<double>(
      "swap_space_gib", 4.0, "host memory for swapped KV, GiB per device", NonNegative());
  io.swap_blocks = static_cast<std::int64_t>(swap_gib * kGiB / p.memory.kv_bytes_per_block);
  io.kv_bytes_per_block = p.memory.kv_bytes_per_block;
  io.host_link_bytes_per_ns = p.deployment.hardware->host_link_gbps;
  p.cost_model = c.child("cost_model");
  return p;
}

void check_fits(const PoolPlan& p, ConfigNode c, std::int64_t max_model_len) {
  if (p.memory.kv_capacity_tokens() < max_model_len) {
    c.fail(p.kv_blocks_forced ? "kv_cache.num_blocks" : "model",
           "the KV cache cannot hold one request of max_model_len = " +
               std::to_string(max_model_len) + " tokens: " + p.memory.describe() +
               ". Use more tensor/pipeline parallelism, a larger gpu_memory_utilization, or a "
               "smaller max_model_len.");
  }
}

}  // namespace

bool ClusterPlan::disaggregated() const {
  bool prefill = false, decode = false;
  for (const PoolPlan& p : pools) {
    prefill |= p.spec.role == InstanceRole::kPrefill;
    decode |= p.spec.role == InstanceRole::kDecode;
  }
  return prefill && decode;
}

ClusterPlan read_cluster(ConfigNode cluster, ConfigNode policies, const std::string& data_dir) {
  ClusterPlan plan;
  if (!cluster.has("pools")) {
    PoolPlan p = read_pool(cluster, data_dir, &plan.max_model_len);
    if (plan.max_model_len > p.deployment.model->max_context_tokens) {
      cluster.fail("max_model_len", "exceeds " + p.spec.model + "'s context of " +
                                        std::to_string(p.deployment.model->max_context_tokens) +
                                        " tokens");
    }
    check_fits(p, cluster, plan.max_model_len);
    p.spec.name = "default";
    p.batcher = policies.child("batcher");
    p.queue_order = policies.child("queue_order");
    plan.pools.push_back(std::move(p));
    read_topology(cluster, plan);
    return plan;
  }
  for (const char* key : kPoolKeys) {
    if (cluster.has(key)) cluster.fail(key, "set it per pool: cluster.pools is given");
  }
  std::vector<ConfigNode> nodes = cluster.child_list("pools");
  if (nodes.empty()) cluster.fail("pools", "needs at least one pool");
  std::set<std::string> names;
  bool any_default_batcher = false, any_default_order = false;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    ConfigNode& n = nodes[i];
    PoolPlan p = read_pool(n, data_dir, nullptr);
    p.spec.name = n.required<std::string>("name", "pool name (stored with its instances)");
    if (!names.insert(p.spec.name).second)
      n.fail("name", "duplicate pool name '" + p.spec.name + "'");
    const std::string role =
        n.choice("role", "colocated", {"colocated", "prefill", "decode"},
                 "colocated: prefill and decode; prefill / decode: one phase (disaggregated)");
    p.spec.role = role == "prefill"
                      ? InstanceRole::kPrefill
                      : (role == "decode" ? InstanceRole::kDecode : InstanceRole::kColocated);
    p.instance.role = p.spec.role;
    if (p.spec.role == InstanceRole::kDecode) {
      p.router = n.child("router");
      p.accept_waiting_fraction = n.get<double>("accept_waiting_fraction", 0.05,
                                                "accept a hand-off only while KV reserved for "
                                                "incoming requests is below this share of the pool",
                                                InRange(0.0, 1.0));
    } else if (n.has("router")) {
      n.fail("router",
             "only decode pools choose among their instances; arrivals use policies.router");
    }
    if (i > 0 && p.spec.model != plan.pools[0].spec.model) {
      n.fail("model", "pool '" + p.spec.name + "' serves " + p.spec.model + " but pool '" +
                          plan.pools[0].spec.name + "' serves " + plan.pools[0].spec.model +
                          "; every pool must serve the same model");
    }
    if (n.has("batcher")) {
      p.batcher = n.child("batcher");
    } else {
      p.batcher = policies.child("batcher");
      any_default_batcher = true;
    }
    if (n.has("queue_order")) {
      p.queue_order = n.child("queue_order");
    } else {
      p.queue_order = policies.child("queue_order");
      any_default_order = true;
    }
    plan.pools.push_back(std::move(p));
  }
  const ModelSpec& m = *plan.pools[0].deployment.model;
  plan.max_model_len = cluster.get<std::int64_t>(
      "max_model_len", m.max_context_tokens,
      "longest context (prompt + output) served; default: the model's", AtLeast(1));
  if (plan.max_model_len > m.max_context_tokens) {
    cluster.fail("max_model_len", "exceeds " + plan.pools[0].spec.model + "'s context of " +
                                      std::to_string(m.max_context_tokens) + " tokens");
  }
  for (std::size_t i = 0; i < nodes.size(); ++i)
    check_fits(plan.pools[i], nodes[i], plan.max_model_len);
  if (!any_default_batcher && policies.has("batcher")) {
    policies.fail("batcher", "unused: every pool sets its own batcher");
  }
  if (!any_default_order && policies.has("queue_order")) {
    policies.fail("queue_order", "unused: every pool sets its own queue_order");
  }
  bool prefill = false, decode = false, entry = false;
  for (const PoolPlan& p : plan.pools) {
    prefill |= p.spec.role == InstanceRole::kPrefill;
    decode |= p.spec.role == InstanceRole::kDecode;
    entry |= p.spec.role != InstanceRole::kDecode;
  }
  if (prefill != decode) {
    cluster.fail("pools", std::string("a ") + (prefill ? "prefill" : "decode") + " pool needs a " +
                              (prefill ? "decode" : "prefill") + " pool to hand requests to");
  }
  if (!entry) cluster.fail("pools", "no pool takes arrivals (a colocated or prefill pool)");
  read_topology(cluster, plan);
  return plan;
}

void build_pools(Cluster& cluster, const ClusterPlan& plan, bool validate_only) {
  for (const PoolPlan& pool : plan.pools) {
    auto recipe = std::make_shared<const PoolPlan>(pool);
    const BatcherContext bctx{recipe->memory.kv_blocks, plan.max_model_len,
                              recipe->spec.pipeline_parallel, recipe->spec.role};
    // One cost model per pool, shared by its instances: models are pure functions of the batch
    // (their memos included), so sharing changes no result and keeps one memo per pool.
    auto shared_cost = std::make_shared<std::shared_ptr<const CostModel>>();
    InstanceFactory factory = [recipe, bctx, clients = plan.known_clients, shared_cost](
                                  InstanceId id, int pool_index, const InstanceWorld& world) {
      if (!*shared_cost) *shared_cost = make_cost_model(*recipe->cost_model, recipe->deployment);
      std::shared_ptr<const CostModel> cost = *shared_cost;
      auto batcher = make_batcher(*recipe->batcher, bctx);
      ConfigNode order_cfg = *recipe->queue_order;
      return std::make_unique<Instance>(id, pool_index, world, recipe->instance, std::move(cost),
                                        std::move(batcher),
                                        [order_cfg, clients](const QueueOrderContext& ctx) {
                                          QueueOrderContext with_clients = ctx;
                                          with_clients.known_clients = clients.get();
                                          return make_queue_order(order_cfg, with_clients);
                                        });
    };
    // A pool that starts empty still builds one instance, and drops it, so that a mistake in its
    // configuration is reported now and not when a controller first spawns it.
    if (pool.instances == 0) {
      Simulation scratch(0);
      RequestTable requests;
      SignalBus signals;
      struct NoHost final : InstanceHost {
        void on_prefill_done(Instance&, RequestSlot) override {}
        void on_request_left(Instance&, const RequestState&, LeaveReason) override {}
        void on_idle(Instance&) override {}
      } host;
      factory(0, 0, InstanceWorld{scratch, requests, signals, host});
    }
    const int index = cluster.add_pool(pool.spec, std::move(factory));
    for (int i = 0; i < pool.instances; ++i) {
      const int node = pool.spec.nodes.empty() ? -1 : pool.spec.nodes[static_cast<std::size_t>(i)];
      try {
        if (validate_only && i > 0) {
          cluster.topology().place(*pool.spec.hw, pool.spec.devices(), node);
        } else {
          cluster.spawn(index, /*active_now=*/true, node);
        }
      } catch (const std::invalid_argument& e) {
        pool.config->fail("nodes", e.what());
      }
    }
  }
}

}  // namespace servesim
