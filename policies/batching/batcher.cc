// policies/batching/batcher.cc — the batcher factory (the default implementation is vllm).
#include "policies/batching/batcher.h"

namespace servesim {

std::unique_ptr<Batcher> make_batcher(ConfigNode cfg, const BatcherContext& ctx) {
  return Registry<Batcher>::instance().create(cfg, "vllm", ctx);
}

}  // namespace servesim
