// sim/world/topology.h — the devices of the cluster and the links between them, as a Boost.Graph
// directed graph (one edge per link direction, each with its own bandwidth):
//
//   device ──fabric──► node switch ──fabric──► device        (same node: NVLink/NVSwitch, HCCS,
//   ...) device ──NIC──► spine ──NIC──► device                     (nic: per_device, the DGX
//   layout) node switch ──NIC──► spine ──NIC──► node switch           (nic: per_node: one NIC per
//   node)
//
// Nodes hold `devices_per_node` devices of one hardware type (from the catalog); the spine is a
// non-blocking core. A link's latency is split evenly over its two directions' hops so that a
// route's latency is the catalog's per-transfer latency (fabric: intra_node_latency_us, NIC:
// nic_latency_us). Routes are shortest paths by hop count found by breadth-first search; ties go
// to the edge added first, and fabric edges are added before NIC edges, so two devices of one
// node talk over the fabric. Routes are cached (adding a node never shortens an existing route).
//
// Placement: instances are packed onto nodes of their hardware in the order they are placed —
// first fit in node order for an instance that fits one node (its devices stay on one node),
// whole new nodes for a larger one — as DistServe's low-affinity placement packs the prefill and
// decode segments of a model onto the same node. An explicit node (a pool's `nodes` list) must
// exist with that hardware and room, or be the next new node.
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "models/catalog.h"
#include "sim/core/time.h"

namespace servesim {

using DeviceId = std::int32_t;  // a device vertex of the topology
using LinkId = std::int32_t;

struct TopologyOptions {
  bool nic_per_device = true;     // false: one NIC per node
  double nic_gbps = 0;            // 0: the catalog's per-device NIC bandwidth
  double fabric_gbps = 0;         // 0: the catalog's intra_node_link_gbps
  double nic_latency_us = -1;     // < 0: the catalog's
  double fabric_latency_us = -1;  // < 0: the catalog's
};

struct Link {
  std::string name;         // e.g. "n0.d3>sw0" (from > to)
  std::string kind;         // the fabric's name (nvlink4, hccs, ...) or "nic"
  double bytes_per_ns = 0;  // == GB/s
  TimeNs latency_ns = 0;
};

class Topology {
 public:
  explicit Topology(TopologyOptions options);

  // Places `devices` devices of hardware `hw` (see the header); `node` >= 0 asks for that node.
  // Returns the devices, stage-major (device s·tp + r is pipeline stage s, tensor rank r).
  // Throws std::invalid_argument naming the problem when an explicit node cannot take them.
  std::vector<DeviceId> place(const HardwareSpec& hw, int devices, int node = -1);

  // The links from `a` to `b` in order (empty when a == b).
  const std::vector<LinkId>& route(DeviceId a, DeviceId b);
  TimeNs route_latency_ns(const std::vector<LinkId>& route) const;

  int node_of(DeviceId d) const { return device_node_.at(static_cast<std::size_t>(d)); }
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  const Link& link(LinkId id) const { return links_.at(static_cast<std::size_t>(id)); }
  std::size_t num_links() const { return links_.size(); }

 private:
  struct Vertex {
    DeviceId device = -1;  // −1 for switches
  };
  struct Edge {
    LinkId link = -1;
  };
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, Vertex, Edge>;
  struct Node {
    const HardwareSpec* hw = nullptr;
    int free_devices = 0;
    std::vector<DeviceId> devices;
  };

  int add_node(const HardwareSpec& hw);
  void add_link(std::size_t from, std::size_t to, const std::string& name, const std::string& kind,
                double gbps, double latency_us);

  TopologyOptions options_;
  Graph graph_;
  std::size_t spine_ = 0;
  std::vector<Node> nodes_;
  std::vector<std::size_t> device_vertex_;
  std::vector<int> device_node_;
  std::vector<Link> links_;
  std::map<std::pair<DeviceId, DeviceId>, std::vector<LinkId>> routes_;
};

}  // namespace servesim
