// policies/routing/router.cc — the router factory (the default implementation is round_robin).
#include "policies/routing/router.h"

namespace servesim {

std::unique_ptr<Router> make_router(ConfigNode cfg, const RouterContext& ctx) {
  return Registry<Router>::instance().create(cfg, "round_robin", ctx);
}

}  // namespace servesim
