// sim/world/handoff.h — moves requests from prefill-role to decode-role instances with their KV
// cache (disaggregated serving, DistServe's request path: ALGORITHMS.md §3.2).
//
//  1. A request whose prefill finished waits in the bridge (FIFO), KV still held on its prefill
//     instance (the first token is already out).
//  2. A decode instance accepts the head of the bridge when it passes DistServe's accept rule:
//     the KV it has reserved for requests on their way in is below `accept_waiting_fraction` of
//     its pool, and its free blocks hold the request's KV (prompt + generated − 1 tokens). Among
//     the instances that pass, the decode pool's router picks one (most_free_kv by default). A
//     head that no decode instance accepts holds back those behind it.
//  3. The decode instance reserves the blocks and the KV moves as one network flow per (prefill
//     shard → decode shard) pair (kv_shards.h) over the topology, sharing links with every
//     other transfer; with `transfer.enabled: false` the move takes no time (DistServe's own
//     simulator). With `transfer.layerwise` the part of the copy that the request's prefill
//     time could carry at the route's bandwidth is taken as already sent (at least the last
//     layer remains): an approximation that ignores contention during the prefill and still
//     reserves decode memory only at acceptance.
//  4. When the last flow lands, the prefill instance lets go of the request (a lease, released at
//     once: its blocks are free) and the decode instance attaches it as a decoding request (at
//     its next iteration if one is running).
// Every step is a callback (prefill done, a decode instance freed memory or changed state, a
// flow ended): nothing polls.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "policies/routing/router.h"
#include "sim/world/cluster.h"
#include "sim/world/kv_copy.h"

namespace servesim {

class Handoff final : public ClusterListener {
 public:
  struct DecodePool {
    int pool = 0;
    std::unique_ptr<Router> router;
    double accept_waiting_fraction = 0.05;
    std::vector<Instance*> active;  // kept up to date from instance state changes
  };
  struct Options {
    bool transfer = true;
    bool layerwise = false;
    int kv_dtype_bytes = 2;
  };
  // Every completed hand-off is signalled (SignalBus::transfer) to the observers.
  Handoff(Cluster& cluster, std::vector<DecodePool> decode_pools, Options options);

  void on_prefill_done(Instance& instance, RequestSlot slot) override;
  void on_request_left(Instance& instance, const RequestState& r, LeaveReason why) override;
  void on_instance_state(Instance& instance, InstanceState from) override;
  void on_instance_idle(Instance& instance) override;
  std::size_t waiting() const { return bridge_.size(); }
  std::size_t in_flight() const { return moving_now_.size(); }

 private:
  struct Pending {
    InstanceId from;
    RequestSlot slot;
  };
  struct Moving {
    InstanceId from, to;
    int flows_left = 0;
    double bytes = 0;
  };
  void move_what_fits();
  bool accepts(const Instance& d, const DecodePool& pool, std::int64_t blocks) const;
  void start_move(const Pending& p, Instance& target);
  void finish_move(RequestSlot slot);

  Cluster& cluster_;
  std::vector<DecodePool> decode_pools_;
  KvCopier copier_;                          // its per-pool-pair shard layouts
  std::vector<const Instance*> candidates_;  // scratch
  Options options_;
  std::deque<Pending> bridge_;
  std::map<RequestSlot, Moving> moving_now_;
  bool busy_ = false;   // move_what_fits is running (callbacks it causes must not re-enter)
  bool again_ = false;  // a callback arrived meanwhile: look again
};

}  // namespace servesim
