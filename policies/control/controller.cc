// policies/control/controller.cc — the controller factory (a controller must be named: no default).
#include "policies/control/controller.h"

namespace servesim {

std::unique_ptr<Controller> make_controller(ConfigNode cfg, const ControllerContext& ctx) {
  if (!cfg.has("impl")) cfg.fail("impl", "a controller needs an impl (servesim list controllers)");
  return Registry<Controller>::instance().create(cfg, "", ctx);
}

}  // namespace servesim
