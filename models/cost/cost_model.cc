// models/cost/cost_model.cc — the cost-model factory (the default implementation is roofline).
#include "models/cost/cost_model.h"

namespace servesim {

std::unique_ptr<CostModel> make_cost_model(ConfigNode cfg, const Deployment& deployment) {
  return Registry<CostModel>::instance().create(cfg, "roofline", deployment);
}

}  // namespace servesim
