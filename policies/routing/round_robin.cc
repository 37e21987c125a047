// policies/routing/round_robin.cc — `round_robin`: cycles through the candidates in id order
// (with a fixed set of N instances, instance i gets requests i, i+N, i+2N, ...).
#include "policies/routing/router.h"

namespace servesim {
namespace {

class RoundRobinRouter final : public Router {
 public:
  RoundRobinRouter(ConfigNode&, const RouterContext&) {}
  InstanceId route(const RequestState&, std::span<const Instance* const> candidates) override {
    const std::size_t i = next_ % candidates.size();
    ++next_;
    return candidates[i]->id();
  }

 private:
  std::size_t next_ = 0;
};

}  // namespace

SERVESIM_REGISTER(Router, RoundRobinRouter, "round_robin", "cycles through the instances in order")

}  // namespace servesim
