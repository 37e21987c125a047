// sim/world/network.h — data transfers (flows) over the topology's links, sharing bandwidth.
//
// A flow moves `bytes` from one device to another along the topology's route. Active flows share
// every link they cross by max-min fairness (progressive filling: repeatedly find the link whose
// remaining capacity per unfrozen flow is smallest, give its flows that rate, remove them),
// recomputed whenever a flow starts or ends; a flow whose rate changed gets its completion event
// moved (the event core's cancel). The route's latency is added once per flow, at its end; a
// flow keeps its share until its completion. With `contention: false` every flow gets its
// route's bottleneck bandwidth alone (bytes / bandwidth + latency).
//
// Cost: a start or end recomputes only the flows connected to it through shared links,
// O(those flows × links on their routes); no per-byte or per-block events. Used by the
// prefill→decode hand-off and by anything else that copies KV (migration).
//
// Accounting: per link, the bytes carried and the time at least one flow was on it (busy).
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "sim/core/simulation.h"
#include "sim/world/topology.h"

namespace servesim {

class Network {
 public:
  using FlowId = std::uint64_t;
  Network(Simulation& sim, Topology& topology, bool contention);

  // Starts a flow; `done` runs in the completion phase when its last byte (and the route's
  // latency) has arrived. src == dst completes at once (in its own event). REQUIRES: bytes >= 0.
  FlowId start(DeviceId src, DeviceId dst, double bytes, std::function<void()> done);
  // Stops a flow in progress; its `done` never runs. False when it already completed.
  bool cancel(FlowId id);

  std::size_t active_flows() const { return flows_.size(); }
  // The current rate of a flow, bytes per ns (0 when unknown). For tests and samples.
  double rate(FlowId id) const;

  struct LinkStats {
    double bytes = 0;
    TimeNs busy_ns = 0;
  };
  // Per-link totals, brought up to now.
  const std::vector<LinkStats>& link_stats();
  Topology& topology() { return topology_; }

 private:
  struct Flow {
    // The topology's cached route (Topology::route's answers live as long as the topology).
    const std::vector<LinkId>* route = nullptr;
    double remaining_bytes = 0;
    double total_bytes = 0;
    double rate = 0;  // bytes per ns
    TimeNs latency_ns = 0;
    TimeNs updated_ns = 0;  // remaining_bytes is as of then
    TimeNs finish_ns = -1;
    EventId event;
    std::uint64_t mark = 0;  // component search
    std::function<void()> done;
  };
  struct LinkState {
    std::vector<FlowId> flows;  // active flows on the link, in start order
    TimeNs busy_since_ns = 0;
    LinkStats stats;
    double capacity = 0;  // scratch for progressive filling
    int unfrozen = 0;
  };
  void grow_links();
  void add_to_links(FlowId id, const Flow& f);
  void remove_from_links(FlowId id, const Flow& f);
  void end_flow(std::unordered_map<FlowId, Flow>::iterator it);
  // The flows connected to `seeds` through shared links (seeds first, then breadth first), in
  // component_ (scratch, reused: no allocation per flow once warm).
  const std::vector<FlowId>& component_of(const std::vector<FlowId>& seeds);
  // New rates for a component; completion events moved where they changed.
  void reallocate(const std::vector<FlowId>& component);
  void complete(FlowId id);

  Simulation& sim_;
  Topology& topology_;
  bool contention_;
  std::unordered_map<FlowId, Flow> flows_;
  FlowId next_id_ = 1;
  std::uint64_t mark_ = 0;
  std::vector<LinkState> links_;
  std::vector<LinkStats> stats_;
  // Scratch buffers of start/end_flow/component_of/reallocate.
  std::vector<FlowId> seeds_, component_;
  std::vector<Flow*> component_flows_;
  std::vector<LinkId> used_links_;
};

}  // namespace servesim
