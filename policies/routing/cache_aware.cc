// policies/routing/cache_aware.cc — `cache_aware`: SGLang's router, cache-aware policy, as it was
// when D²LPM was published (sgl-router/src/router.rs at sgl-project/sglang@1c4e0d2; ALGORITHMS.md
// §4.3), the distributed baseline of the fairness experiments.
//
// Load = requests assigned to a worker and not finished. When the loads are imbalanced (max − min
// > balance_abs_threshold and max > balance_rel_threshold · min) the least loaded worker takes the
// request. Otherwise the worker whose routing history (prefix_trees.h) matches the longest prefix
// takes it if the match covers more than cache_threshold of the prompt; else the worker with the
// smallest history does. The request's prefix blocks join the chosen worker's history. SGLang
// matches raw characters; this matches prefix-hash blocks of tokens (the traces carry no text).
// Ties: the lowest instance id. O(workers × prefix blocks) per request.
#include "policies/routing/prefix_trees.h"
#include "policies/routing/router.h"

namespace servesim {
namespace {

class CacheAwareRouter final : public Router {
 public:
  CacheAwareRouter(ConfigNode& cfg, const RouterContext&)
      : trees_(static_cast<std::size_t>(cfg.get<std::int64_t>(
            "max_tree_blocks", 1 << 20, "prefix blocks remembered per worker (LRU beyond)",
            AtLeast(1)))) {
    cache_threshold_ =
        cfg.get<double>("cache_threshold", 0.5,
                        "matched share of the prompt that routes for locality", InRange(0.0, 1.0));
    abs_threshold_ =
        cfg.get<std::int64_t>("balance_abs_threshold", 32,
                              "load gap (requests) beyond which locality yields", NonNegative());
    rel_threshold_ = cfg.get<double>("balance_rel_threshold", 1.0001,
                                     "and max load must exceed this × min load", AtLeast(1.0));
  }

  InstanceId route(const RequestState& r, std::span<const Instance* const> candidates) override {
    const Instance* least = candidates[0];
    std::size_t max_load = 0;
    for (const Instance* w : candidates) {
      if (w->num_assigned() < least->num_assigned()) least = w;
      max_load = std::max(max_load, w->num_assigned());
    }
    const std::size_t min_load = least->num_assigned();
    const std::span<const std::uint64_t> hashes = r.req.prefix_hashes;
    const Instance* target = least;
    const bool imbalanced =
        static_cast<double>(max_load - min_load) > static_cast<double>(abs_threshold_) &&
        static_cast<double>(max_load) > rel_threshold_ * static_cast<double>(min_load);
    if (!imbalanced) {
      const Instance* best = candidates[0];
      std::size_t best_match = 0;
      const Instance* smallest = candidates[0];
      for (const Instance* w : candidates) {
        const std::size_t m = trees_.match(w->id(), hashes);
        if (m > best_match) {
          best_match = m;
          best = w;
        }
        if (trees_.size(w->id()) < trees_.size(smallest->id())) smallest = w;
      }
      const double rate =
          r.req.prompt_tokens > 0
              ? static_cast<double>(best_match) * r.req.prefix_block_tokens / r.req.prompt_tokens
              : 0.0;
      target = rate > cache_threshold_ ? best : smallest;
    }
    trees_.insert(target->id(), hashes);
    return target->id();
  }

 private:
  ApproxPrefixTrees trees_;
  double cache_threshold_ = 0.5;
  std::int64_t abs_threshold_ = 32;
  double rel_threshold_ = 1.0001;
};

}  // namespace

SERVESIM_REGISTER(Router, CacheAwareRouter, "cache_aware",
                  "SGLang's cache-aware router: longest routed-prefix match above a threshold, "
                  "else the smallest history; least load when loads are imbalanced")

}  // namespace servesim
