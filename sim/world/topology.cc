// sim/world/topology.cc — see topology.h.
#include "sim/world/topology.h"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string_view>

namespace servesim {

Topology::Topology(TopologyOptions options) : options_(options) {
  spine_ = boost::add_vertex(Vertex{}, graph_);
}

void Topology::add_link(std::size_t from, std::size_t to, const std::string& name,
                        const std::string& kind, double gbps, double latency_us) {
  const auto id = static_cast<LinkId>(links_.size());
  links_.push_back(Link{name, kind, gbps, static_cast<TimeNs>(latency_us * 1000.0 + 0.5)});
  boost::add_edge(from, to, Edge{id}, graph_);
}

int Topology::add_node(const HardwareSpec& hw) {
  const int n = static_cast<int>(nodes_.size());
  nodes_.push_back(Node{&hw, hw.devices_per_node, {}});
  // (names are built by appending: GCC 12 warns falsely on "literal" + std::string here)
  std::string node = "n";
  node += std::to_string(n);
  auto name = [](std::initializer_list<std::string_view> parts) {
    std::string out;
    for (std::string_view p : parts) out.append(p);
    return out;
  };
  const double fabric_gbps =
      options_.fabric_gbps > 0 ? options_.fabric_gbps : hw.intra_node_link_gbps;
  const double nic_gbps = options_.nic_gbps > 0 ? options_.nic_gbps : hw.nic_gbps;
  const double fabric_lat =
      options_.fabric_latency_us >= 0 ? options_.fabric_latency_us : hw.intra_node_latency_us;
  const double nic_lat = options_.nic_latency_us >= 0 ? options_.nic_latency_us : hw.nic_latency_us;
  const std::size_t sw = boost::add_vertex(Vertex{}, graph_);
  std::vector<std::size_t> vertices;
  for (int d = 0; d < hw.devices_per_node; ++d) {
    const auto id = static_cast<DeviceId>(device_vertex_.size());
    const std::size_t v = boost::add_vertex(Vertex{id}, graph_);
    device_vertex_.push_back(v);
    device_node_.push_back(n);
    nodes_.back().devices.push_back(id);
    vertices.push_back(v);
  }
  // Fabric edges first: same-node routes prefer them over an equally short NIC route.
  for (int d = 0; d < hw.devices_per_node; ++d) {
    const std::string index = std::to_string(d);
    add_link(vertices[static_cast<std::size_t>(d)], sw, name({node, ".d", index, ">sw"}),
             hw.intra_node_link, fabric_gbps, fabric_lat / 2);
    add_link(sw, vertices[static_cast<std::size_t>(d)], name({node, ".sw>d", index}),
             hw.intra_node_link, fabric_gbps, fabric_lat / 2);
  }
  if (options_.nic_per_device) {
    for (int d = 0; d < hw.devices_per_node; ++d) {
      const std::string dev = name({node, ".d", std::to_string(d)});
      add_link(vertices[static_cast<std::size_t>(d)], spine_, name({dev, ">spine"}), "nic",
               nic_gbps, nic_lat / 2);
      add_link(spine_, vertices[static_cast<std::size_t>(d)], name({"spine>", dev}), "nic",
               nic_gbps, nic_lat / 2);
    }
  } else {
    add_link(sw, spine_, name({node, ".sw>spine"}), "nic", nic_gbps, nic_lat / 2);
    add_link(spine_, sw, name({"spine>", node, ".sw"}), "nic", nic_gbps, nic_lat / 2);
  }
  return n;
}

std::vector<DeviceId> Topology::place(const HardwareSpec& hw, int devices, int node) {
  if (devices < 1) throw std::invalid_argument("an instance needs at least one device");
  const int per_node = hw.devices_per_node;
  std::vector<DeviceId> out;
  auto take = [&](Node& n, int count) {
    const auto first = static_cast<std::size_t>(per_node - n.free_devices);
    for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i)
      out.push_back(n.devices[first + i]);
    n.free_devices -= count;
  };
  if (node >= 0) {
    if (node > num_nodes()) {
      throw std::invalid_argument("node " + std::to_string(node) +
                                  " does not exist (next new node: " + std::to_string(num_nodes()) +
                                  ")");
    }
    if (node == num_nodes()) add_node(hw);
    Node& n = nodes_[static_cast<std::size_t>(node)];
    if (n.hw->name != hw.name) {
      throw std::invalid_argument("node " + std::to_string(node) + " holds " + n.hw->name +
                                  " devices, not " + hw.name);
    }
    if (n.free_devices < devices) {
      throw std::invalid_argument("node " + std::to_string(node) + " has " +
                                  std::to_string(n.free_devices) +
                                  " free devices, the instance needs " + std::to_string(devices));
    }
    take(n, devices);
    return out;
  }
  if (devices <= per_node) {
    for (Node& n : nodes_) {
      if (n.hw->name == hw.name && n.free_devices >= devices) {
        take(n, devices);
        return out;
      }
    }
    take(nodes_[static_cast<std::size_t>(add_node(hw))], devices);
    return out;
  }
  for (int left = devices; left > 0; left -= per_node) {
    take(nodes_[static_cast<std::size_t>(add_node(hw))], std::min(left, per_node));
  }
  return out;
}

const std::vector<LinkId>& Topology::route(DeviceId a, DeviceId b) {
  const auto key = std::make_pair(a, b);
  if (auto it = routes_.find(key); it != routes_.end()) return it->second;
  std::vector<LinkId> path;
  if (a != b) {
    const std::size_t n = boost::num_vertices(graph_);
    using EdgeDesc = boost::graph_traits<Graph>::edge_descriptor;
    std::vector<EdgeDesc> pred(n);
    std::vector<bool> seen(n, false);
    const std::size_t from = device_vertex_.at(static_cast<std::size_t>(a));
    const std::size_t to = device_vertex_.at(static_cast<std::size_t>(b));
    // Plain BFS over out-edges in insertion order (what makes ties stable).
    std::vector<std::size_t> frontier{from};
    seen[from] = true;
    for (std::size_t i = 0; i < frontier.size() && !seen[to]; ++i) {
      const std::size_t u = frontier[i];
      for (auto [e, end] = boost::out_edges(u, graph_); e != end; ++e) {
        const std::size_t v = boost::target(*e, graph_);
        if (seen[v]) continue;
        seen[v] = true;
        pred[v] = *e;
        frontier.push_back(v);
      }
    }
    if (!seen[to]) throw std::logic_error("topology: no route between devices");
    for (std::size_t v = to; v != from; v = boost::source(pred[v], graph_))
      path.push_back(graph_[pred[v]].link);
    std::reverse(path.begin(), path.end());
  }
  return routes_.emplace(key, std::move(path)).first->second;
}

TimeNs Topology::route_latency_ns(const std::vector<LinkId>& route) const {
  TimeNs total = 0;
  for (LinkId l : route) total += links_[static_cast<std::size_t>(l)].latency_ns;
  return total;
}

}  // namespace servesim
