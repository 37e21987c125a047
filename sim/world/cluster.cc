// sim/world/cluster.cc — see cluster.h.
#include "sim/world/cluster.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "sim/config/errors.h"

namespace servesim {

Cluster::Cluster(Simulation& sim, std::unique_ptr<TraceSource> source,
                 std::unique_ptr<Router> router, std::int64_t max_model_len,
                 TopologyOptions topology, bool contention)
    : sim_(sim),
      source_(std::move(source)),
      router_(std::move(router)),
      max_model_len_(max_model_len),
      world_{sim_, requests_, signals_, *this},
      topology_(std::make_unique<Topology>(topology)),
      network_(std::make_unique<Network>(sim_, *topology_, contention)) {}

Cluster::~Cluster() = default;

int Cluster::add_pool(PoolSpec spec, InstanceFactory factory) {
  pools_.push_back(Pool{std::move(spec), std::move(factory), {}});
  return static_cast<int>(pools_.size()) - 1;
}

Instance& Cluster::spawn(int pool, bool active_now, int node) {
  Pool& p = pools_.at(static_cast<std::size_t>(pool));
  devices_.push_back(topology_->place(*p.spec.hw, p.spec.devices(), node));
  const auto id = static_cast<InstanceId>(instances_.size());
  instances_.push_back(p.factory(id, pool, world_));
  times_.emplace_back(-1, -1);
  p.members.push_back(id);
  Instance& inst = *instances_.back();
  inst.set_state(InstanceState::kStarting);
  if (active_now || p.spec.startup_ns == 0) {
    set_state(inst, InstanceState::kActive);
  } else {
    sim_.schedule_in(p.spec.startup_ns, Phase::kControl, [this, id] {
      Instance& i = instance(id);
      if (i.state() == InstanceState::kStarting) set_state(i, InstanceState::kActive);
    });
  }
  return inst;
}

void Cluster::drain(InstanceId id) {
  Instance& inst = instance(id);
  if (inst.state() != InstanceState::kActive && inst.state() != InstanceState::kStarting) return;
  set_state(inst, InstanceState::kDraining);
  stop_if_drained(inst);
}

std::vector<Instance*> Cluster::active_members(int pool) const {
  std::vector<Instance*> out;
  for (InstanceId id : pools_.at(static_cast<std::size_t>(pool)).members) {
    Instance* inst = instances_[static_cast<std::size_t>(id)].get();
    if (inst->state() == InstanceState::kActive) out.push_back(inst);
  }
  return out;
}

void Cluster::set_state(Instance& inst, InstanceState to) {
  const InstanceState from = inst.state();
  if (from == to) return;
  inst.set_state(to);
  auto& t = times_[static_cast<std::size_t>(inst.id())];
  if (to == InstanceState::kActive && t.first < 0) t.first = sim_.now();
  if (to == InstanceState::kStopped) t.second = sim_.now();
  rebuild_routable();
  signals_.instance_state(inst.id(), from, to, sim_.now());
  for (ClusterListener* l : listeners_) l->on_instance_state(inst, from);
}

void Cluster::stop_if_drained(Instance& inst) {
  if (inst.state() == InstanceState::kDraining && inst.empty())
    set_state(inst, InstanceState::kStopped);
}

void Cluster::rebuild_routable() {
  routable_.clear();
  for (const auto& inst : instances_) {
    if (inst->state() == InstanceState::kActive && inst->role() != InstanceRole::kDecode)
      routable_.push_back(inst.get());
  }
}

// ------------------------------------------------------------------------------ InstanceHost

void Cluster::on_prefill_done(Instance& inst, RequestSlot slot) {
  for (ClusterListener* l : listeners_) l->on_prefill_done(inst, slot);
}

void Cluster::on_request_left(Instance& inst, const RequestState& r, LeaveReason why) {
  for (ClusterListener* l : listeners_) l->on_request_left(inst, r, why);
  stop_if_drained(inst);
}

void Cluster::on_idle(Instance& inst) {
  for (ClusterListener* l : listeners_) l->on_instance_idle(inst);
  stop_if_drained(inst);
}

// ------------------------------------------------------------------------------ periodic tasks

void Cluster::every(TimeNs period_ns, Phase phase, std::function<void()> task) {
  if (period_ns <= 0) throw std::logic_error("Cluster::every: period must be positive");
  periodic_.push_back(Periodic{period_ns, phase, std::move(task)});
}

void Cluster::run_periodic(std::size_t i) {
  --periodic_pending_;
  periodic_[i].task();
  // Re-arm only while something other than periodic tasks can still happen.
  if (sim_.events_pending() > periodic_pending_) {
    ++periodic_pending_;
    sim_.schedule_in(periodic_[i].period_ns, periodic_[i].phase, [this, i] { run_periodic(i); });
  }
}

// ------------------------------------------------------------------------------ arrivals

void Cluster::start() {
  pull_next();
  for (std::size_t i = 0; i < periodic_.size(); ++i) {
    ++periodic_pending_;
    sim_.schedule_in(periodic_[i].period_ns, periodic_[i].phase, [this, i] { run_periodic(i); });
  }
}

void Cluster::pull_next() {
  if (!source_->next(pending_)) return;  // (sources fill every field of the request they return)
  if (pending_.arrival_ns > kMaxSimulatedNs) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "workload: request %llu arrives at %.6g s, beyond the simulator's horizon of "
                  "%.3g s",
                  static_cast<unsigned long long>(next_request_id_), ns_to_s(pending_.arrival_ns),
                  kMaxSimulatedS);
    throw InputError(buf);
  }
  if (pending_.arrival_ns < last_arrival_ns_) {
    throw InputError("workload: request " + std::to_string(next_request_id_) + " arrives at " +
                     std::to_string(ns_to_s(pending_.arrival_ns)) +
                     " s, before the previous one (" + std::to_string(ns_to_s(last_arrival_ns_)) +
                     " s); arrivals must not decrease");
  }
  if (pending_.prompt_tokens < 1 || pending_.output_tokens < 1) {
    throw InputError("workload: request " + std::to_string(next_request_id_) +
                     " needs at least one prompt token and one output token");
  }
  last_arrival_ns_ = pending_.arrival_ns;
  sim_.schedule_at(pending_.arrival_ns, Phase::kArrival, [this] { on_arrival(); });
}

void Cluster::reject(RequestState& r, RequestSlot slot, const char* reason) {
  r.phase = RequestPhase::kRejected;
  r.reject_reason = reason;
  r.finish_ns = sim_.now();
  signals_.reject(r);
  requests_.release(slot);
}

void Cluster::on_arrival() {
  const RequestSlot slot = requests_.allocate();
  RequestState& r = requests_[slot];
  r.req = std::move(pending_);
  r.request_id = next_request_id_++;
  if (r.req.max_output_tokens <= 0) {
    r.req.max_output_tokens =
        static_cast<std::int32_t>(std::max<std::int64_t>(1, max_model_len_ - r.req.prompt_tokens));
  }
  signals_.arrival(r);
  if (static_cast<std::int64_t>(r.req.prompt_tokens) + r.req.output_tokens > max_model_len_) {
    reject(r, slot, "exceeds_max_model_len");
  } else if (routable_.empty()) {
    reject(r, slot, "no_active_instance");
  } else {
    const InstanceId target = router_->route(r, routable_);
    Instance& inst = instance(target);
    if (inst.state() != InstanceState::kActive || inst.role() == InstanceRole::kDecode) {
      throw std::logic_error("router chose instance " + std::to_string(target) +
                             ", which does not take arrivals");
    }
    inst.enqueue(slot);
  }
  pull_next();
}

}  // namespace servesim
