// sim/world/network.cc — see network.h.
#include "sim/world/network.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace servesim {

Network::Network(Simulation& sim, Topology& topology, bool contention)
    : sim_(sim), topology_(topology), contention_(contention) {}

double Network::rate(FlowId id) const {
  const auto it = flows_.find(id);
  return it == flows_.end() ? 0.0 : it->second.rate;
}

void Network::advance(TimeNs now) {
  if (stats_.size() < topology_.num_links()) {
    stats_.resize(topology_.num_links());
    link_flows_.resize(topology_.num_links(), 0);
  }
  const TimeNs dt = now - last_ns_;
  if (dt > 0) {
    for (auto& [id, f] : flows_)
      f.remaining_bytes = std::max(0.0, f.remaining_bytes - f.rate * static_cast<double>(dt));
    for (std::size_t l = 0; l < link_flows_.size(); ++l) {
      if (link_flows_[l] > 0) stats_[l].busy_ns += dt;
    }
  }
  last_ns_ = now;
}

Network::FlowId Network::start(DeviceId src, DeviceId dst, double bytes,
                               std::function<void()> done) {
  if (!(bytes >= 0)) throw std::logic_error("Network::start: negative bytes");
  advance(sim_.now());
  const FlowId id = next_id_++;
  Flow f;
  f.route = topology_.route(src, dst);
  f.remaining_bytes = f.route.empty() ? 0.0 : bytes;
  f.total_bytes = f.remaining_bytes;
  f.latency_ns = topology_.route_latency_ns(f.route);
  f.done = std::move(done);
  if (stats_.size() < topology_.num_links()) {
    stats_.resize(topology_.num_links());
    link_flows_.resize(topology_.num_links(), 0);
  }
  for (LinkId l : f.route) ++link_flows_[static_cast<std::size_t>(l)];
  flows_.emplace(id, std::move(f));
  reallocate();
  return id;
}

bool Network::cancel(FlowId id) {
  auto it = flows_.find(id);
  if (it == flows_.end()) return false;
  advance(sim_.now());
  sim_.cancel(it->second.event);
  for (LinkId l : it->second.route) --link_flows_[static_cast<std::size_t>(l)];
  flows_.erase(it);
  reallocate();
  return true;
}

void Network::reallocate() {
  const TimeNs now = sim_.now();
  // New rates.
  std::map<FlowId, double> rate;
  if (!contention_) {
    for (auto& [id, f] : flows_) {
      double r = std::numeric_limits<double>::infinity();
      for (LinkId l : f.route) r = std::min(r, topology_.link(l).bytes_per_ns);
      rate[id] = r;
    }
  } else {
    // Progressive filling over the links the active flows cross.
    std::vector<double> capacity(topology_.num_links(), 0.0);
    std::vector<int> unfrozen(topology_.num_links(), 0);
    std::vector<LinkId> used;
    for (auto& [id, f] : flows_) {
      for (LinkId l : f.route) {
        if (unfrozen[static_cast<std::size_t>(l)]++ == 0) {
          used.push_back(l);
          capacity[static_cast<std::size_t>(l)] = topology_.link(l).bytes_per_ns;
        }
      }
      if (f.route.empty()) rate[id] = std::numeric_limits<double>::infinity();
    }
    std::sort(used.begin(), used.end());
    std::size_t left = flows_.size() - rate.size();
    while (left > 0) {
      LinkId bottleneck = -1;
      double share = std::numeric_limits<double>::infinity();
      for (LinkId l : used) {
        const auto li = static_cast<std::size_t>(l);
        if (unfrozen[li] == 0) continue;
        const double s = capacity[li] / unfrozen[li];
        if (s < share) {
          share = s;
          bottleneck = l;
        }
      }
      for (auto& [id, f] : flows_) {
        if (rate.count(id)) continue;
        bool crosses = false;
        for (LinkId l : f.route) crosses = crosses || l == bottleneck;
        if (!crosses) continue;
        rate[id] = share;
        --left;
        for (LinkId l : f.route) {
          capacity[static_cast<std::size_t>(l)] =
              std::max(0.0, capacity[static_cast<std::size_t>(l)] - share);
          --unfrozen[static_cast<std::size_t>(l)];
        }
      }
    }
  }
  // Move completion events whose time changed.
  for (auto& [id, f] : flows_) {
    f.rate = rate[id];
    if (f.remaining_bytes <= 0 && f.event.valid())
      continue;  // in its latency tail: its end is fixed
    const double data_ns = f.remaining_bytes <= 0 ? 0.0 : std::ceil(f.remaining_bytes / f.rate);
    const TimeNs finish = now + static_cast<TimeNs>(data_ns) + f.latency_ns;
    if (finish == f.finish_ns && f.event.valid()) continue;
    if (f.event.valid()) sim_.cancel(f.event);
    f.finish_ns = finish;
    const FlowId fid = id;
    f.event = sim_.schedule_at(finish, Phase::kCompletion, [this, fid] { complete(fid); });
  }
}

void Network::complete(FlowId id) {
  auto it = flows_.find(id);
  if (it == flows_.end()) return;
  advance(sim_.now());
  Flow f = std::move(it->second);
  flows_.erase(it);
  for (LinkId l : f.route) {
    --link_flows_[static_cast<std::size_t>(l)];
    stats_[static_cast<std::size_t>(l)].bytes += f.total_bytes;
  }
  reallocate();
  if (f.done) f.done();
}

const std::vector<Network::LinkStats>& Network::link_stats() {
  advance(sim_.now());
  return stats_;
}

}  // namespace servesim
