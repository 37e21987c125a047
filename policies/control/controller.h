// policies/control/controller.h — cluster-wide control policies (autoscaling, migration,
// rebalancing): a Controller runs every period_ns() in the `control` phase (after the arrivals
// of the same instant, before batches form) with access to the cluster — its pools, instances
// and their movement primitives — and also hears the cluster's callbacks (ClusterListener:
// prefill done, request left, instance state changed). Controllers never touch the results
// database: what they do shows through signals. One file per controller, registered with
// SERVESIM_REGISTER(Controller, Class, "name", "description"); a scenario lists them under
// `policies.controllers: [{impl: ...}, ...]`.
//
// Contract:
//  * period_ns() is constant (0: the controller only reacts to callbacks and to events it
//    schedules itself through cluster.sim());
//  * tick() and the callbacks run inside an event; whatever they change, the cluster's
//    invariants (KV books, every request finished or rejected) must still hold afterwards;
//  * periodic ticks stop once nothing but periodic tasks is pending (Cluster::every).
#pragma once

#include <memory>

#include "sim/core/registry.h"
#include "sim/world/cluster.h"

namespace servesim {

struct ControllerContext {
  Cluster* cluster = nullptr;
};

class Controller : public ClusterListener {
 public:
  using Context = ControllerContext;
  static constexpr const char* kKind = "controller";
  virtual TimeNs period_ns() const = 0;
  virtual void tick() {}
};

std::unique_ptr<Controller> make_controller(ConfigNode cfg, const ControllerContext& ctx);

}  // namespace servesim
