// sim/world/cluster_listener.h — callbacks from the cluster to the components that may change the
// world in response (controllers, the prefill→decode hand-off): a request's prefill finished on
// a prefill-role instance, a request left an instance, an instance changed state. Observers
// (observer.h) get signals instead and never change the world; listeners run inside the event
// that caused the callback, in subscription order.
#pragma once

#include "sim/world/instance.h"

namespace servesim {

class ClusterListener {
 public:
  virtual ~ClusterListener() = default;
  // The request is kHandoff on `instance`, its KV held there, until someone moves it.
  virtual void on_prefill_done(Instance& /*instance*/, RequestSlot /*slot*/) {}
  // The request left `instance` (finished, rejected or detached); its state is valid during the
  // call.
  virtual void on_request_left(Instance& /*instance*/, const RequestState& /*r*/,
                               LeaveReason /*why*/) {}
  // `instance` went from `from` to its current state.
  virtual void on_instance_state(Instance& /*instance*/, InstanceState /*from*/) {}
  // `instance` has nothing left to run (it may still hold leases or reservations).
  virtual void on_instance_idle(Instance& /*instance*/) {}
};

}  // namespace servesim
