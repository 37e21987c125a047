// policies/routing/d2lpm.cc — `d2lpm`: the dispatcher of Double Deficit LPM (Cao et al., arXiv
// 2501.14312; ALGORITHMS.md §4.3). The paper's dispatcher could not be read; this is the
// reconstruction §4.3 gives, with its free choices stated here. Workers should run the `dlpm`
// queue order (the second deficit level), which is the pool's queue_order, not this file's.
//
// Per worker the dispatcher keeps the routing history of prefix blocks (prefix_trees.h); per
// (client, worker) a local deficit d, starting at the quantum Q. A request of client u goes to
// the worker with the longest history match (ties: lower load, then lower id) among those where
// d[u, w] > 0 and the worker is not overloaded (load ≤ least load + overload_slack); when none
// qualifies, to the least loaded worker. The chosen worker's deficit is charged w_p × the prompt
// (the dispatcher does not know the output), and when all of u's deficits are ≤ 0 each gets +Q.
// So locality decides while a client's share of one worker lasts, and a client's stream spills
// over to other workers once it has used its quantum there. Load = requests assigned and not
// finished. O(workers × prefix blocks) per request.
#include <map>
#include <utility>

#include "policies/routing/prefix_trees.h"
#include "policies/routing/router.h"

namespace servesim {
namespace {

class D2lpmRouter final : public Router {
 public:
  D2lpmRouter(ConfigNode& cfg, const RouterContext&)
      : trees_(static_cast<std::size_t>(cfg.get<std::int64_t>(
            "max_tree_blocks", 1 << 20, "prefix blocks remembered per worker (LRU beyond)",
            AtLeast(1)))) {
    quantum_ =
        cfg.get<double>("quantum", 20000.0,
                        "Q: a client's deficit refill per worker (weighted tokens)", Positive());
    input_weight_ = cfg.get<double>("input_weight", 1.0, "charge per prompt token", Positive());
    overload_slack_ = cfg.get<std::int64_t>(
        "overload_slack", 32, "a worker with more than least load + this is overloaded",
        NonNegative());
  }

  InstanceId route(const RequestState& r, std::span<const Instance* const> candidates) override {
    const std::uint32_t u = r.req.client_id;
    const Instance* least = candidates[0];
    for (const Instance* w : candidates) {
      if (w->num_assigned() < least->num_assigned()) least = w;
    }
    const std::size_t limit = least->num_assigned() + static_cast<std::size_t>(overload_slack_);
    const std::span<const std::uint64_t> hashes = r.req.prefix_hashes;
    const Instance* target = nullptr;
    std::size_t best_match = 0;
    for (const Instance* w : candidates) {
      if (deficit(u, w->id()) <= 0 || w->num_assigned() > limit) continue;
      const std::size_t m = trees_.match(w->id(), hashes);
      if (target == nullptr || m > best_match ||
          (m == best_match && w->num_assigned() < target->num_assigned())) {
        target = w;
        best_match = m;
      }
    }
    if (target == nullptr) target = least;
    deficit(u, target->id()) -= input_weight_ * r.req.prompt_tokens;
    bool all_spent = true;
    for (const Instance* w : candidates) all_spent = all_spent && deficit(u, w->id()) <= 0;
    if (all_spent) {
      for (const Instance* w : candidates) deficit(u, w->id()) += quantum_;
    }
    trees_.insert(target->id(), hashes);
    return target->id();
  }

 private:
  double& deficit(std::uint32_t client, InstanceId w) {
    return deficits_.try_emplace({client, w}, quantum_).first->second;
  }

  ApproxPrefixTrees trees_;
  double quantum_ = 20000, input_weight_ = 1;
  std::int64_t overload_slack_ = 32;
  std::map<std::pair<std::uint32_t, InstanceId>, double> deficits_;
};

}  // namespace

SERVESIM_REGISTER(Router, D2lpmRouter, "d2lpm",
                  "Double Deficit LPM dispatcher: longest routed-prefix match among workers where "
                  "the client has deficit left and load is not excessive; else least load")

}  // namespace servesim
