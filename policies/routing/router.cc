// policies/routing/router.cc — the router factory (the default implementation is round_robin).
#include "policies/routing/router.h"

namespace servesim {

std::unique_ptr<Router> make_router(ConfigNode cfg, const RouterContext& ctx,
                                    const std::string& default_impl) {
  return Registry<Router>::instance().create(cfg, default_impl, ctx);
}

}  // namespace servesim
