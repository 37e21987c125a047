// policies/routing/round_robin.cc — `round_robin`: instance i gets requests i, i+N, i+2N, ...
#include "policies/routing/router.h"

namespace servesim {
namespace {

class RoundRobinRouter final : public Router {
 public:
  RoundRobinRouter(ConfigNode&, const RouterContext&) {}
  std::size_t route(const RequestState&, std::span<const Instance* const> instances) override {
    const std::size_t i = next_ % instances.size();
    ++next_;
    return i;
  }

 private:
  std::size_t next_ = 0;
};

}  // namespace

SERVESIM_REGISTER(Router, RoundRobinRouter, "round_robin", "cycles through the instances in order")

std::unique_ptr<Router> make_router(ConfigNode cfg, const RouterContext& ctx) {
  return Registry<Router>::instance().create(cfg, "round_robin", ctx);
}

}  // namespace servesim
