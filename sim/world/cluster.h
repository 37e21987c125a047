// sim/world/cluster.h — the serving cluster: its pools of instances, the router in front of the
// pools that take arrivals, the table of requests in flight, the arrival pump that streams the
// workload into the simulation one request ahead (memory stays constant in the length of the
// trace), the instance lifecycle, and periodic tasks (controllers, sampling).
//
// Instances: ids are stable for the run and never reused (id == position in instances(), which
// only grows); an instance is never destroyed before the run ends (its events capture it), it
// stops. A pool keeps the recipe (factory) to spawn more at run time. Routers see only the
// active instances of the pools that take arrivals (colocated and prefill roles).
//
// Lifecycle: spawn() → kStarting, kActive after the pool's startup time (at once for the
// instances a scenario starts with); drain() → kDraining: no new requests, the instance serves
// what it holds and stops (kStopped) when empty.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "policies/routing/router.h"
#include "sim/core/simulation.h"
#include "sim/world/cluster_listener.h"
#include "sim/world/instance.h"
#include "sim/world/network.h"
#include "sim/world/observer.h"
#include "sim/world/request_table.h"
#include "traces/trace_source.h"

namespace servesim {

// What a pool is; the per-instance details (KV, cost model, batcher) are in its factory.
struct PoolSpec {
  std::string name;
  InstanceRole role = InstanceRole::kColocated;
  std::string hardware;
  std::string model;
  int tensor_parallel = 1;
  int pipeline_parallel = 1;
  TimeNs startup_ns = 0;             // from spawn to active, for instances spawned at run time
  const HardwareSpec* hw = nullptr;  // REQUIRES: set (the catalog entry of `hardware`)
  std::vector<int> nodes;            // explicit nodes of the initial instances (empty: packed)
  int devices() const { return tensor_parallel * pipeline_parallel; }
};

// Builds one instance of a pool: the pool's recipe.
using InstanceFactory =
    std::function<std::unique_ptr<Instance>(InstanceId id, int pool, const InstanceWorld& world)>;

struct Pool {
  PoolSpec spec;
  InstanceFactory factory;
  std::vector<InstanceId> members;  // every instance it ever spawned, in id order
};

class Cluster final : public Component, private InstanceHost {
 public:
  // Requests with prompt + output tokens above `max_model_len` are rejected at arrival
  // ("exceeds_max_model_len"): the model could not hold their context.
  Cluster(Simulation& sim, std::unique_ptr<TraceSource> source, std::unique_ptr<Router> router,
          std::int64_t max_model_len, TopologyOptions topology = {}, bool contention = true);
  ~Cluster() override;

  int add_pool(PoolSpec spec, InstanceFactory factory);
  const std::vector<Pool>& pools() const { return pools_; }
  // A new instance of `pool`, placed on the topology (on `node` when >= 0, else packed): active
  // at once when `active_now` (the scenario's initial instances), else starting and active after
  // the pool's startup time. Throws std::invalid_argument when `node` cannot take it.
  Instance& spawn(int pool, bool active_now = false, int node = -1);
  // Stops routing to an active (or starting) instance; it stops once empty.
  void drain(InstanceId id);

  Instance& instance(InstanceId id) { return *instances_.at(static_cast<std::size_t>(id)); }
  const std::vector<std::unique_ptr<Instance>>& instances() const { return instances_; }
  // Active instances of the pools that take arrivals, in id order.
  std::span<const Instance* const> routable() const { return routable_; }
  // Active instances of one pool, in id order.
  std::vector<Instance*> active_members(int pool) const;
  // The instance's devices, stage-major (device s·tp + r is pipeline stage s, tensor rank r).
  const std::vector<DeviceId>& devices(InstanceId id) const {
    return devices_.at(static_cast<std::size_t>(id));
  }
  Topology& topology() { return *topology_; }
  Network& network() { return *network_; }
  TimeNs started_ns(InstanceId id) const { return times_.at(static_cast<std::size_t>(id)).first; }
  TimeNs stopped_ns(InstanceId id) const { return times_.at(static_cast<std::size_t>(id)).second; }

  SignalBus& signals() { return signals_; }
  RequestTable& requests() { return requests_; }
  Simulation& sim() { return sim_; }
  void add_listener(ClusterListener* l) { listeners_.push_back(l); }

  // Runs `task` every `period_ns` (first at period_ns) in `phase`, for as long as events other
  // than periodic tasks are pending (so periodic tasks never keep a finished run alive).
  void every(TimeNs period_ns, Phase phase, std::function<void()> task);

  // Schedules the first arrival. Call once, after observers and listeners subscribed.
  void start();
  std::uint64_t arrivals() const { return next_request_id_; }

 private:
  // InstanceHost
  void on_prefill_done(Instance& instance, RequestSlot slot) override;
  void on_request_left(Instance& instance, const RequestState& r, LeaveReason why) override;
  void on_idle(Instance& instance) override;

  void set_state(Instance& instance, InstanceState to);
  void stop_if_drained(Instance& instance);
  void rebuild_routable();
  void pull_next();
  void on_arrival();
  void reject(RequestState& r, RequestSlot slot, const char* reason);
  void run_periodic(std::size_t task);

  struct Periodic {
    TimeNs period_ns;
    Phase phase;
    std::function<void()> task;
  };

  Simulation& sim_;
  std::unique_ptr<TraceSource> source_;
  std::unique_ptr<Router> router_;
  std::int64_t max_model_len_;
  SignalBus signals_;
  RequestTable requests_;
  InstanceWorld world_;
  std::vector<Pool> pools_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::vector<std::pair<TimeNs, TimeNs>> times_;  // (active since, stopped at); −1 = not yet
  std::vector<std::vector<DeviceId>> devices_;
  std::unique_ptr<Topology> topology_;
  std::unique_ptr<Network> network_;
  std::vector<const Instance*> routable_;
  std::vector<ClusterListener*> listeners_;
  std::vector<Periodic> periodic_;
  std::size_t periodic_pending_ = 0;
  Request pending_;
  std::uint64_t next_request_id_ = 0;
  TimeNs last_arrival_ns_ = 0;
};

}  // namespace servesim
