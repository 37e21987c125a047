// sim/world/network.cc — see network.h.
//
// Max-min rates only change inside the connected component (flows linked by shared links) of the
// flow that started or ended, so only that component is recomputed: the cost of an event is
// O(flows in the component × links on their routes), not O(all active flows).
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

void Network::grow_links() {
  if (links_.size() < topology_.num_links()) links_.resize(topology_.num_links());
}

void Network::add_to_links(FlowId id, const Flow& f) {
  const TimeNs now = sim_.now();
  for (LinkId l : *f.route) {
    LinkState& s = links_[static_cast<std::size_t>(l)];
    if (s.flows.empty()) s.busy_since_ns = now;
    s.flows.push_back(id);
  }
}

void Network::remove_from_links(FlowId id, const Flow& f) {
  const TimeNs now = sim_.now();
  for (LinkId l : *f.route) {
    LinkState& s = links_[static_cast<std::size_t>(l)];
    s.flows.erase(std::find(s.flows.begin(), s.flows.end(), id));
    if (s.flows.empty()) s.stats.busy_ns += now - s.busy_since_ns;
  }
}

Network::FlowId Network::start(DeviceId src, DeviceId dst, double bytes,
                               std::function<void()> done) {
  if (!(bytes >= 0)) throw std::logic_error("Network::start: negative bytes");
  grow_links();
  const FlowId id = next_id_++;
  Flow f;
  f.route = &topology_.route(src, dst);
  f.remaining_bytes = f.route->empty() ? 0.0 : bytes;
  f.total_bytes = f.remaining_bytes;
  f.latency_ns = topology_.route_latency_ns(*f.route);
  f.updated_ns = sim_.now();
  f.done = std::move(done);
  Flow& stored = flows_.emplace(id, std::move(f)).first->second;
  add_to_links(id, stored);
  seeds_.assign(1, id);
  reallocate(component_of(seeds_));
  return id;
}

bool Network::cancel(FlowId id) {
  auto it = flows_.find(id);
  if (it == flows_.end()) return false;
  sim_.cancel(it->second.event);
  end_flow(it);
  return true;
}

void Network::complete(FlowId id) {
  auto it = flows_.find(id);
  if (it == flows_.end()) return;
  std::function<void()> done = std::move(it->second.done);
  for (LinkId l : *it->second.route)
    links_[static_cast<std::size_t>(l)].stats.bytes += it->second.total_bytes;
  end_flow(it);
  if (done) done();
}

void Network::end_flow(std::unordered_map<FlowId, Flow>::iterator it) {
  const FlowId id = it->first;
  std::vector<FlowId>& neighbours = seeds_;
  neighbours.clear();
  for (LinkId l : *it->second.route) {
    for (FlowId other : links_[static_cast<std::size_t>(l)].flows) {
      if (other != id) neighbours.push_back(other);
    }
  }
  remove_from_links(id, it->second);
  flows_.erase(it);
  if (!neighbours.empty()) reallocate(component_of(neighbours));
}

const std::vector<Network::FlowId>& Network::component_of(const std::vector<FlowId>& seeds) {
  ++mark_;
  std::vector<FlowId>& out = component_;
  out.clear();
  for (FlowId s : seeds) {
    Flow& f = flows_.at(s);
    if (f.mark == mark_) continue;
    f.mark = mark_;
    out.push_back(s);
  }
  if (!contention_) return out;  // rates do not depend on other flows
  for (std::size_t i = 0; i < out.size(); ++i) {
    const Flow& f = flows_.at(out[i]);
    for (LinkId l : *f.route) {
      for (FlowId other : links_[static_cast<std::size_t>(l)].flows) {
        Flow& g = flows_.at(other);
        if (g.mark == mark_) continue;
        g.mark = mark_;
        out.push_back(other);
      }
    }
  }
  return out;
}

void Network::reallocate(const std::vector<FlowId>& component) {
  const TimeNs now = sim_.now();
  // Bring the component's flows up to now at their old rates.
  std::vector<Flow*>& flows = component_flows_;
  flows.clear();
  for (FlowId id : component) {
    Flow& f = flows_.at(id);
    f.remaining_bytes =
        std::max(0.0, f.remaining_bytes - f.rate * static_cast<double>(now - f.updated_ns));
    f.updated_ns = now;
    f.rate = -1;  // not yet assigned
    flows.push_back(&f);
  }
  if (!contention_) {
    for (Flow* f : flows) {
      double r = std::numeric_limits<double>::infinity();
      for (LinkId l : *f->route) r = std::min(r, topology_.link(l).bytes_per_ns);
      f->rate = r;
    }
  } else {
    // Progressive filling over the component's links (in id order, for stable ties).
    std::vector<LinkId>& used = used_links_;
    used.clear();
    for (Flow* f : flows) {
      if (f->route->empty()) f->rate = std::numeric_limits<double>::infinity();
      for (LinkId l : *f->route) used.push_back(l);
    }
    std::sort(used.begin(), used.end());
    used.erase(std::unique(used.begin(), used.end()), used.end());
    for (LinkId l : used) {
      LinkState& s = links_[static_cast<std::size_t>(l)];
      s.capacity = topology_.link(l).bytes_per_ns;
      s.unfrozen = static_cast<int>(s.flows.size());
    }
    std::size_t left = 0;
    for (Flow* f : flows) left += f->rate < 0 ? 1 : 0;
    while (left > 0) {
      LinkId bottleneck = -1;
      double share = std::numeric_limits<double>::infinity();
      for (LinkId l : used) {
        const LinkState& s = links_[static_cast<std::size_t>(l)];
        if (s.unfrozen > 0 && s.capacity / s.unfrozen < share) {
          share = s.capacity / s.unfrozen;
          bottleneck = l;
        }
      }
      for (FlowId id : links_[static_cast<std::size_t>(bottleneck)].flows) {
        Flow& f = flows_.at(id);
        if (f.rate >= 0) continue;
        f.rate = share;
        --left;
        for (LinkId l : *f.route) {
          LinkState& s = links_[static_cast<std::size_t>(l)];
          s.capacity = std::max(0.0, s.capacity - share);
          --s.unfrozen;
        }
      }
    }
  }
  // Move completion events whose time changed.
  for (std::size_t i = 0; i < flows.size(); ++i) {
    Flow& f = *flows[i];
    if (f.remaining_bytes <= 0 && f.event.valid())
      continue;  // in its latency tail: its end is fixed
    const double data_ns = f.remaining_bytes <= 0 ? 0.0 : std::ceil(f.remaining_bytes / f.rate);
    const TimeNs finish = now + static_cast<TimeNs>(data_ns) + f.latency_ns;
    if (finish == f.finish_ns && f.event.valid()) continue;
    if (f.event.valid()) sim_.cancel(f.event);
    f.finish_ns = finish;
    const FlowId fid = component[i];
    f.event = sim_.schedule_at(finish, Phase::kCompletion, [this, fid] { complete(fid); });
  }
}

const std::vector<Network::LinkStats>& Network::link_stats() {
  grow_links();
  const TimeNs now = sim_.now();
  stats_.assign(links_.size(), LinkStats{});
  for (std::size_t l = 0; l < links_.size(); ++l) {
    stats_[l] = links_[l].stats;
    if (!links_[l].flows.empty()) stats_[l].busy_ns += now - links_[l].busy_since_ns;
  }
  return stats_;
}

}  // namespace servesim
