// policies/routing/least_loaded.cc — `least_loaded`: the instance with the fewest requests
// assigned and not finished (waiting + running + swapped); ties go to the most free KV blocks,
// then to the lowest instance id (deterministic).
#include "policies/routing/router.h"

namespace servesim {
namespace {

class LeastLoadedRouter final : public Router {
 public:
  LeastLoadedRouter(ConfigNode&, const RouterContext&) {}
  InstanceId route(const RequestState&, std::span<const Instance* const> candidates) override {
    const Instance* best = candidates[0];
    for (const Instance* a : candidates.subspan(1)) {
      if (a->num_assigned() < best->num_assigned() ||
          (a->num_assigned() == best->num_assigned() &&
           a->kv().free_blocks() > best->kv().free_blocks())) {
        best = a;
      }
    }
    return best->id();
  }
};

}  // namespace

SERVESIM_REGISTER(Router, LeastLoadedRouter, "least_loaded",
                  "fewest unfinished requests (waiting + running + swapped); ties: most free KV "
                  "blocks, lowest id")

}  // namespace servesim
