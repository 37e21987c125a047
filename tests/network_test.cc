// tests/network_test.cc — the topology (placement, routes) and the network's flows: exact time
// on an idle link, fair sharing, max-min rates on a hand-computed example, a rate change
// mid-way, cancellation, and the link accounting.
#include "sim/world/network.h"

#include <gtest/gtest.h>

namespace servesim {
namespace {

// A made-up device: 2 per node, 100 GB/s fabric, 10 GB/s NIC, 2 us / 4 us latencies.
HardwareSpec test_device() {
  HardwareSpec h;
  h.name = "testgpu";
  h.devices_per_node = 2;
  h.intra_node_link_gbps = 100;
  h.intra_node_link = "fabric";
  h.nic_gbps = 10;
  h.intra_node_latency_us = 2;
  h.nic_latency_us = 4;
  return h;
}

TEST(Topology, PacksInstancesOntoNodesAndRoutesOverTheFabricFirst) {
  const HardwareSpec hw = test_device();
  Topology t(TopologyOptions{});
  const auto a = t.place(hw, 1);  // node 0
  const auto b = t.place(hw, 1);  // node 0 (first fit)
  const auto c = t.place(hw, 2);  // node 1
  const auto d = t.place(hw, 3);  // whole new nodes 2 and 3
  EXPECT_EQ(t.node_of(a[0]), 0);
  EXPECT_EQ(t.node_of(b[0]), 0);
  EXPECT_EQ(t.node_of(c[0]), 1);
  EXPECT_EQ(t.node_of(c[1]), 1);
  EXPECT_EQ(t.node_of(d[0]), 2);
  EXPECT_EQ(t.node_of(d[2]), 3);
  EXPECT_EQ(t.num_nodes(), 4);
  const auto& same = t.route(a[0], b[0]);
  ASSERT_EQ(same.size(), 2u);
  EXPECT_EQ(t.link(same[0]).kind, "fabric");
  EXPECT_EQ(t.route_latency_ns(same), 2000);
  const auto& cross = t.route(a[0], c[0]);
  ASSERT_EQ(cross.size(), 2u);
  EXPECT_EQ(t.link(cross[0]).kind, "nic");
  EXPECT_EQ(t.route_latency_ns(cross), 4000);
  EXPECT_TRUE(t.route(a[0], a[0]).empty());
  EXPECT_THROW(t.place(hw, 1, 7), std::invalid_argument) << "node 7 is neither there nor next";
  EXPECT_THROW(t.place(hw, 1, 1), std::invalid_argument) << "node 1 is full";
  EXPECT_EQ(t.node_of(t.place(hw, 1, 4)[0]), 4) << "the next new node may be named";
}

struct Rig {
  explicit Rig(bool contention = true, TopologyOptions o = {})
      : topo(o), net(sim, topo, contention) {
    const HardwareSpec hw = test_device();
    spec = hw;
    for (int i = 0; i < 4; ++i) devs.push_back(topo.place(spec, 1)[0]);  // n0: d0 d1, n1: d2 d3
  }
  Simulation sim{1};
  Topology topo;
  Network net;
  HardwareSpec spec;
  std::vector<DeviceId> devs;
  std::map<int, TimeNs> done;
  void flow(int tag, int from, int to, double bytes) {
    net.start(devs[static_cast<std::size_t>(from)], devs[static_cast<std::size_t>(to)], bytes,
              [this, tag] { done[tag] = sim.now(); });
  }
};

TEST(Network, IdleLinkTakesBytesOverBandwidthPlusLatency) {
  Rig r;
  r.flow(0, 0, 2, 1e6);  // over the NICs: 1e6 B / 10 B/ns + 4 us
  r.flow(1, 0, 1, 1e6);  // over the fabric: 1e6 / 100 + 2 us
  r.sim.run();
  EXPECT_EQ(r.done.at(0), 100000 + 4000);
  EXPECT_EQ(r.done.at(1), 10000 + 2000);
}

TEST(Network, TwoEqualFlowsOnOneLinkEachTakeTwiceAsLong) {
  Rig r;
  r.flow(0, 0, 2, 1e6);
  r.flow(1, 0, 3, 1e6);  // shares d0's NIC uplink
  r.sim.run();
  EXPECT_EQ(r.done.at(0), 200000 + 4000);
  EXPECT_EQ(r.done.at(1), 200000 + 4000);
  // Without contention each has the link alone.
  Rig q(false);
  q.flow(0, 0, 2, 1e6);
  q.flow(1, 0, 3, 1e6);
  q.sim.run();
  EXPECT_EQ(q.done.at(1), 100000 + 4000);
}

TEST(Network, MaxMinRatesOnAHandComputedExample) {
  // One NIC per node (10 GB/s), fabric 100 GB/s. F1 d0→d2 and F2 d1→d3 share node 0's NIC
  // (5 each); F3 d0→d1 shares d0's fabric uplink with F1 and gets the rest: 100 − 5 = 95.
  TopologyOptions o;
  o.nic_per_device = false;
  Rig r(true, o);
  const auto f1 = r.net.start(r.devs[0], r.devs[2], 1e9, [] {});
  const auto f2 = r.net.start(r.devs[1], r.devs[3], 1e9, [] {});
  const auto f3 = r.net.start(r.devs[0], r.devs[1], 1e9, [] {});
  EXPECT_DOUBLE_EQ(r.net.rate(f1), 5.0);
  EXPECT_DOUBLE_EQ(r.net.rate(f2), 5.0);
  EXPECT_DOUBLE_EQ(r.net.rate(f3), 95.0);
  EXPECT_TRUE(r.net.cancel(f2));
  EXPECT_DOUBLE_EQ(r.net.rate(f1), 10.0);
  EXPECT_DOUBLE_EQ(r.net.rate(f3), 90.0);
  EXPECT_FALSE(r.net.cancel(f2));
}

TEST(Network, AFlowWhoseRateChangesMidWayFinishesAtTheHandComputedTime) {
  // No latencies. X (1e6 B) runs alone at 10 B/ns for 50 us (5e5 B); Y (2.5e5 B) joins and both
  // get 5 B/ns: Y ends at 100 us, X has 2.5e5 B left and ends alone at 125 us.
  TopologyOptions o;
  o.nic_latency_us = 0;
  o.fabric_latency_us = 0;
  Rig r(true, o);
  r.flow(0, 0, 2, 1e6);
  r.sim.schedule_at(50000, Phase::kArrival, [&] { r.flow(1, 0, 3, 2.5e5); });
  r.sim.run();
  EXPECT_EQ(r.done.at(1), 100000);
  EXPECT_EQ(r.done.at(0), 125000);
  const auto& stats = r.net.link_stats();
  const LinkId up = r.topo.route(r.devs[0], r.devs[2])[0];
  EXPECT_DOUBLE_EQ(stats[static_cast<std::size_t>(up)].bytes, 1.25e6);
  EXPECT_EQ(stats[static_cast<std::size_t>(up)].busy_ns, 125000);
}

TEST(Network, SameDeviceFlowCompletesAtOnce) {
  Rig r;
  r.sim.schedule_at(7, Phase::kArrival, [&] { r.flow(0, 1, 1, 5e9); });
  r.sim.run();
  EXPECT_EQ(r.done.at(0), 7);
}

}  // namespace
}  // namespace servesim
