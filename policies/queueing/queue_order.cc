// policies/queueing/queue_order.cc — the queue-order factory (the default implementation is fcfs).
#include "policies/queueing/queue_order.h"

namespace servesim {

QueuedRequest queued_view(RequestSlot slot, const RequestState& r) {
  QueuedRequest q;
  q.slot = slot;
  q.request_id = r.request_id;
  q.client_id = r.req.client_id;
  q.priority = r.req.priority;
  q.arrival_ns = r.req.arrival_ns;
  q.prompt_tokens = r.req.prompt_tokens;
  q.generated_tokens = r.generated_tokens;
  q.max_output_tokens = r.req.max_output_tokens;
  q.cached_tokens = r.cached_tokens;
  q.prefix_block_tokens = r.req.prefix_block_tokens;
  q.prefix_hashes = r.req.prefix_hashes;
  return q;
}

std::unique_ptr<QueueOrder> make_queue_order(ConfigNode cfg, const QueueOrderContext& ctx) {
  return Registry<QueueOrder>::instance().create(cfg, "fcfs", ctx);
}

}  // namespace servesim
