// policies/routing/least_loaded.cc — `least_loaded`: the instance with the fewest requests
// assigned and not finished (waiting + running); ties go to the most free KV blocks, then to
// the lowest instance index (deterministic).
#include "policies/routing/router.h"

namespace servesim {
namespace {

class LeastLoadedRouter final : public Router {
 public:
  LeastLoadedRouter(ConfigNode&, const RouterContext&) {}
  std::size_t route(const RequestState&, std::span<const Instance* const> instances) override {
    std::size_t best = 0;
    for (std::size_t i = 1; i < instances.size(); ++i) {
      const Instance& a = *instances[i];
      const Instance& b = *instances[best];
      if (a.num_assigned() < b.num_assigned() ||
          (a.num_assigned() == b.num_assigned() && a.kv().free_blocks() > b.kv().free_blocks())) {
        best = i;
      }
    }
    return best;
  }
};

}  // namespace

SERVESIM_REGISTER(Router, LeastLoadedRouter, "least_loaded",
                  "fewest unfinished requests (waiting + running); ties: most free KV blocks, lowest index")

}  // namespace servesim
