// policies/batching/batcher.h — the batching policy of one instance. Each iteration the
// instance calls schedule(); the batcher decides, through the instance's scheduling API
// (sim/world/instance.h), which waiting requests to admit or reject, which prefill chunks to
// run, whether the running decodes join, and whom to preempt. One file per policy, registered
// with SERVESIM_REGISTER(Batcher, Class, "name", "description").
//
// Contract: schedule() leaves the batch empty only when nothing can run now; it never admits
// more than the KV pool holds; every batch respects token_budget() and seq_budget() (the
// invariant checker verifies both on every iteration).
#pragma once

#include <cstdint>

#include "models/cost/cost_model.h"
#include "sim/core/registry.h"

namespace servesim {

class Instance;

struct BatcherContext {
  const Deployment* deployment = nullptr;
  int block_size_tokens = 16;
  std::int64_t total_kv_blocks = 0;
  std::int64_t max_model_len = 0;  // the model's context limit
};

class Batcher {
 public:
  using Context = BatcherContext;
  static constexpr const char* kKind = "batcher";
  virtual ~Batcher() = default;
  virtual void schedule(Instance& instance) = 0;
  virtual std::int64_t token_budget() const = 0;  // most tokens in one iteration
  virtual std::int64_t seq_budget() const = 0;    // most sequences in one iteration
};

std::unique_ptr<Batcher> make_batcher(ConfigNode cfg, const BatcherContext& ctx);

}  // namespace servesim
