// sim/world/cluster.h — the serving cluster: its instances, the router in front of them, the
// table of requests in flight, and the arrival pump that streams the workload into the
// simulation one request ahead (memory stays constant in the length of the trace).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "policies/routing/router.h"
#include "sim/core/simulation.h"
#include "sim/world/instance.h"
#include "sim/world/observer.h"
#include "sim/world/request_table.h"
#include "traces/trace_source.h"

namespace servesim {

class Cluster final : public Component {
 public:
  // Requests with prompt + output tokens above `max_model_len` are rejected at arrival
  // ("exceeds_max_model_len"): the model could not hold their context.
  Cluster(Simulation& sim, std::unique_ptr<TraceSource> source, std::unique_ptr<Router> router,
          std::int64_t max_model_len);

  Instance& add_instance(const InstanceOptions& options, std::unique_ptr<CostModel> cost_model,
                         std::unique_ptr<Batcher> batcher);
  SignalBus& signals() { return signals_; }
  RequestTable& requests() { return requests_; }
  const std::vector<std::unique_ptr<Instance>>& instances() const { return instances_; }
  std::vector<const Instance*> instance_views() const;

  // Schedules the first arrival. Call once, after observers subscribed.
  void start();
  std::uint64_t arrivals() const { return next_request_id_; }

 private:
  void pull_next();
  void on_arrival();

  Simulation& sim_;
  std::unique_ptr<TraceSource> source_;
  std::unique_ptr<Router> router_;
  std::int64_t max_model_len_;
  SignalBus signals_;
  RequestTable requests_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::vector<const Instance*> views_;
  Request pending_;
  std::uint64_t next_request_id_ = 0;
  TimeNs last_arrival_ns_ = 0;
};

}  // namespace servesim
