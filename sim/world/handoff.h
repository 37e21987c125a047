// sim/world/handoff.h — moves requests from prefill-role to decode-role instances with their KV
// (disaggregated serving). A request whose prefill finished waits, KV held on its prefill
// instance, in a FIFO bridge; the head moves as soon as an active decode instance has the free
// blocks its KV needs (prompt + generated − 1 tokens): the decode instance with the most free
// blocks (ties: lowest id) reserves them, the request is detached from the prefill instance
// (a KvLease), attached as a decoding member of the decode instance, and the lease released.
// The bridge is FIFO: a head that fits nowhere holds back those behind it (as DistServe's
// bridge queue does).
//
// Transfer time is zero here (DistServe's own simulator models none); the network and its
// contention belong to a transfer model built on the same primitives.
#pragma once

#include <deque>

#include "sim/world/cluster.h"

namespace servesim {

class Handoff final : public ClusterListener {
 public:
  explicit Handoff(Cluster& cluster) : cluster_(cluster) {}

  void on_prefill_done(Instance& instance, RequestSlot slot) override;
  void on_request_left(Instance& instance, const RequestState& r, LeaveReason why) override;
  void on_instance_state(Instance& instance, InstanceState from) override;
  void on_instance_idle(Instance& instance) override;
  std::size_t waiting() const { return bridge_.size(); }

 private:
  struct Pending {
    InstanceId from;
    RequestSlot slot;
  };
  void move_what_fits();

  Cluster& cluster_;
  std::deque<Pending> bridge_;
  bool moving_ = false;  // move_what_fits is running (callbacks it causes must not re-enter)
  bool again_ = false;   // a callback arrived while moving: look again
};

}  // namespace servesim
