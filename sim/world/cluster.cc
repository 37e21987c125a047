// sim/world/cluster.cc — see cluster.h.
#include "sim/world/cluster.h"

#include <string>

#include "policies/batching/batcher.h"
#include "sim/config/errors.h"

namespace servesim {

Cluster::Cluster(Simulation& sim, std::unique_ptr<TraceSource> source, std::unique_ptr<Router> router,
                 std::int64_t max_model_len)
    : sim_(sim), source_(std::move(source)), router_(std::move(router)), max_model_len_(max_model_len) {}

Instance& Cluster::add_instance(const InstanceOptions& options, std::unique_ptr<CostModel> cost_model,
                                std::unique_ptr<Batcher> batcher) {
  const int id = static_cast<int>(instances_.size());
  instances_.push_back(
      std::make_unique<Instance>(id, sim_, requests_, signals_, options, std::move(cost_model), std::move(batcher)));
  views_.push_back(instances_.back().get());
  return *instances_.back();
}

std::vector<const Instance*> Cluster::instance_views() const { return views_; }

void Cluster::start() { pull_next(); }

void Cluster::pull_next() {
  if (!source_->next(pending_)) return;
  if (pending_.arrival_ns < last_arrival_ns_) {
    throw InputError("workload: request " + std::to_string(next_request_id_) + " arrives at " +
                     std::to_string(ns_to_s(pending_.arrival_ns)) + " s, before the previous one (" +
                     std::to_string(ns_to_s(last_arrival_ns_)) + " s); arrivals must not decrease");
  }
  if (pending_.prompt_tokens < 1 || pending_.output_tokens < 1) {
    throw InputError("workload: request " + std::to_string(next_request_id_) +
                     " needs at least one prompt token and one output token");
  }
  last_arrival_ns_ = pending_.arrival_ns;
  sim_.schedule_at(pending_.arrival_ns, Phase::kArrival, [this] { on_arrival(); });
}

void Cluster::on_arrival() {
  const RequestSlot slot = requests_.allocate();
  RequestState& r = requests_[slot];
  r.req = std::move(pending_);
  r.request_id = next_request_id_++;
  signals_.arrival(r);
  if (static_cast<std::int64_t>(r.req.prompt_tokens) + r.req.output_tokens > max_model_len_) {
    r.phase = RequestPhase::kRejected;
    r.reject_reason = "exceeds_max_model_len";
    r.finish_ns = sim_.now();
    signals_.reject(r);
    requests_.release(slot);
  } else {
    const std::size_t target = router_->route(r, views_);
    instances_[target]->enqueue(slot);
  }
  pull_next();
}

}  // namespace servesim
