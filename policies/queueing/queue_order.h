// policies/queueing/queue_order.h — the order in which an instance admits its waiting requests.
// A queue order *owns* the instance's waiting requests: the instance pushes every request that
// starts waiting there (arrived, preempted, moved in) and admits or rejects only the head()
// (a batcher decides when; instance.h). FCFS, priorities and fair schedulers (VTC, DLPM) are
// one file each, registered with SERVESIM_REGISTER(QueueOrder, Class, "name", "description")
// and picked by `policies.queue_order` (or a pool's `queue_order`). Any batcher works with any
// queue order.
//
// Contract (checked by tests/conformance_test.cc over every registered order):
//  * a request pushed is in the queue until it is popped as head() or remove()d; size() counts
//    exactly those; empty() == (size() == 0);
//  * head() is stable between two mutating calls (push, pop_head, remove, on_admit,
//    on_decode_step): asking twice gives the same request;
//  * every request pushed is eventually head() while the instance keeps admitting (no
//    starvation of a request by the order alone);
//  * the order never reads Request::output_tokens (schedulers must not know it).
// Hooks: on_admit (the head was admitted with that many prompt tokens to prefill) and
// on_decode_step (a decode group of the instance completed a step) let counter-based orders
// charge service; both are O(1) calls per event, so an order must not iterate over running
// requests in them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "sim/core/registry.h"
#include "sim/world/request_state.h"

namespace servesim {

class KvCache;

// What a queue order may know about a request: no output length (schedulers must not read it;
// the type makes that impossible), only the limit the request was sent with.
struct QueuedRequest {
  RequestSlot slot = kNoSlot;
  std::uint64_t request_id = 0;  // arrival order
  std::uint32_t client_id = 0;
  std::int32_t priority = 0;
  TimeNs arrival_ns = 0;
  std::int32_t prompt_tokens = 0;
  std::int32_t generated_tokens = 0;   // emitted so far (> 0 after a recompute preemption)
  std::int32_t max_output_tokens = 0;  // the request's limit (the trace's, else the model's)
  std::int32_t cached_tokens = 0;      // prefix-cache hits of its last admission
  std::int32_t prefix_block_tokens = 0;
  std::span<const std::uint64_t> prefix_hashes;  // valid during the call only
};
QueuedRequest queued_view(RequestSlot slot, const RequestState& r);

struct QueueOrderContext {
  InstanceId instance = -1;
  const KvCache* kv = nullptr;  // the instance's cache (prefix-aware orders match against it)
  // The request's full-block KV hashes for this instance's block size (computed on demand).
  std::function<std::span<const std::uint64_t>(RequestSlot)> block_hashes;
  // The workload's client ids when known in advance (null otherwise): per-client settings
  // naming another client are a configuration error.
  const std::vector<std::uint32_t>* known_clients = nullptr;
};

// What a completed decode step did, for orders that charge per generated token.
struct DecodeStepInfo {
  int group = 0;
  std::int64_t step = 0;    // the group's completed steps, this one included
  std::int64_t tokens = 0;  // tokens emitted (one per member in the step)
};

class QueueOrder {
 public:
  using Context = QueueOrderContext;
  static constexpr const char* kKind = "queue-order";
  using Reason = WaitReason;

  virtual ~QueueOrder() = default;
  // A request arriving from outside may be refused before it waits: returns the reject reason
  // (a static string, e.g. "rate_limited"), or nullptr to let it in.
  virtual const char* refuse(const QueuedRequest& /*r*/, TimeNs /*now*/) { return nullptr; }
  virtual void push(const QueuedRequest& r, Reason why) = 0;
  virtual bool empty() const = 0;
  virtual std::size_t size() const = 0;
  // The request to admit next. REQUIRES: !empty().
  virtual RequestSlot head() = 0;
  // Removes head(). REQUIRES: !empty().
  virtual void pop_head() = 0;
  // Removes `slot` wherever it is; false when it is not queued here.
  virtual bool remove(RequestSlot slot) = 0;

  // The head was admitted: `prefill_tokens` to compute (after prefix-cache hits).
  virtual void on_admit(const QueuedRequest& /*r*/, std::int64_t /*prefill_tokens*/) {}
  // Decode membership and steps, for orders that charge service per generated token. Called
  // only when wants_decode_events() (asked once, at construction) is true: a request joined or
  // left decode group `group` when the group had completed `group_step` steps; a group
  // completed a step. All O(1) per call: an order keeps aggregates, never iterates members.
  virtual bool wants_decode_events() const { return false; }
  virtual void on_decode_join(const QueuedRequest& /*r*/, int /*group*/,
                              std::int64_t /*group_step*/) {}
  virtual void on_decode_leave(const QueuedRequest& /*r*/, int /*group*/,
                               std::int64_t /*group_step*/, bool /*finished*/) {}
  virtual void on_decode_step(const DecodeStepInfo& /*step*/) {}
  // A request admitted here left the instance (finished, or moved away after its admission).
  virtual void on_leave(const QueuedRequest& /*r*/) {}
};

// First come, first served, as vLLM's waiting deque: an arrival (or a request moved in) joins
// the back; a recompute-preempted request goes back to the front, ahead of everything that
// waits (vLLM's waiting.extendleft). O(1) everything but remove(), which is O(queue). `fcfs`
// is this order; `rpm` adds its admission limit.
class FifoQueueOrder : public QueueOrder {
 public:
  void push(const QueuedRequest& r, Reason why) override {
    if (why == Reason::kPreempted) {
      queue_.push_front(r.slot);
    } else {
      queue_.push_back(r.slot);
    }
  }
  bool empty() const override { return queue_.empty(); }
  std::size_t size() const override { return queue_.size(); }
  RequestSlot head() override { return queue_.front(); }
  void pop_head() override { queue_.pop_front(); }
  bool remove(RequestSlot slot) override {
    const auto it = std::find(queue_.begin(), queue_.end(), slot);
    if (it == queue_.end()) return false;
    queue_.erase(it);
    return true;
  }

 private:
  std::deque<RequestSlot> queue_;
};

std::unique_ptr<QueueOrder> make_queue_order(ConfigNode cfg, const QueueOrderContext& ctx);

}  // namespace servesim
