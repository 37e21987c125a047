// policies/routing/most_free_kv.cc — `most_free_kv`: the instance with the most free KV blocks;
// ties go to the lowest id. DistServe's choice of decode instance for a finished prefill
// (ALGORITHMS.md §3.2), usable as an arrival router too.
#include "policies/routing/router.h"

namespace servesim {
namespace {

class MostFreeKvRouter final : public Router {
 public:
  MostFreeKvRouter(ConfigNode&, const RouterContext&) {}
  InstanceId route(const RequestState&, std::span<const Instance* const> candidates) override {
    const Instance* best = candidates[0];
    for (const Instance* a : candidates.subspan(1)) {
      if (a->kv().free_blocks() > best->kv().free_blocks()) best = a;
    }
    return best->id();
  }
};

}  // namespace

SERVESIM_REGISTER(Router, MostFreeKvRouter, "most_free_kv", "most free KV blocks; ties: lowest id")

}  // namespace servesim
