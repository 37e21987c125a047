// policies/batching/batcher.h — the batching policy of one instance. Each iteration the
// instance calls schedule(); the batcher decides, through the instance's scheduling API
// (sim/world/instance.h), which waiting requests to admit or reject (always the head of the
// instance's queue order: policies/queueing/), which prefill chunks to run, which decode groups
// step, and which swapped requests return. One file per policy, registered with
// SERVESIM_REGISTER(Batcher, Class, "name", "description").
//
// Contract (checked by the invariant checker on every run and by tests/conformance_test.cc
// over every registered batcher × queue order):
//  * schedule() leaves the batch empty only when nothing can run now;
//  * it never admits more than the KV pool holds;
//  * every batch respects token_budget() and seq_budget();
//  * victim_order() and decode_groups() are constant for the batcher's life.
#pragma once

#include <cstdint>

#include "models/cost/cost_model.h"
#include "sim/core/registry.h"
#include "sim/world/instance_load.h"
#include "sim/world/request_state.h"

namespace servesim {

class Instance;

struct BatcherContext {
  std::int64_t total_kv_blocks = 0;
  std::int64_t max_model_len = 0;  // the model's context limit
  int pipeline_parallel = 1;       // the instance's pipeline stages
  InstanceRole role = InstanceRole::kColocated;
};

// The order of an instance's running requests. Decode admission under memory pressure checks
// them in ascending order and preemption takes victims from the end (decode_group.h).
enum class VictimOrder : std::uint8_t {
  kNewest,          // FCFS by arrival: the newest request is preempted first (vLLM)
  kLowestPriority,  // lowest Request::priority first, newest first among equals
};

// The request's place in the running order (unique: the request id breaks every tie). Priorities
// are clamped to ±2^23 for the order; request ids must stay below 2^40.
inline std::uint64_t running_rank(VictimOrder order, const RequestState& r) {
  if (order == VictimOrder::kNewest) return r.request_id;
  constexpr std::int64_t kLimit = std::int64_t{1} << 23;
  const std::int64_t p =
      r.req.priority < -kLimit ? -kLimit : (r.req.priority >= kLimit ? kLimit - 1 : r.req.priority);
  const auto high = static_cast<std::uint64_t>(kLimit - 1 - p);  // higher priority → smaller rank
  return (high << 40) | (r.request_id & ((std::uint64_t{1} << 40) - 1));
}

class Batcher {
 public:
  using Context = BatcherContext;
  static constexpr const char* kKind = "batcher";
  virtual ~Batcher() = default;
  virtual void schedule(Instance& instance) = 0;
  virtual std::int64_t token_budget() const = 0;  // most tokens in one iteration
  virtual std::int64_t seq_budget() const = 0;    // most sequences in one iteration
  virtual VictimOrder victim_order() const { return VictimOrder::kNewest; }
  // Decode groups the instance keeps (>= 1); a joining decode goes to the smallest group whose
  // step is not in flight.
  virtual int decode_groups() const { return 1; }
  // Batches the instance may have in flight at once (>= 1, <= decode_groups()): a batcher for a
  // pp-stage pipeline asks for pp and fills one slot per schedule() call, stepping a decode
  // group that is not in flight (Instance::group_in_flight). Every other batcher: 1.
  virtual int pipeline_slots() const { return 1; }
  // KV blocks admission keeps free (for load views such as Llumnix's freeness); constant: the
  // instance reads it once.
  virtual std::int64_t watermark_blocks() const { return 0; }
};

std::unique_ptr<Batcher> make_batcher(ConfigNode cfg, const BatcherContext& ctx);

}  // namespace servesim
