// policies/queueing/queue_order.cc — the queue-order factory (the default implementation is fcfs).
#include "policies/queueing/queue_order.h"

namespace servesim {

std::unique_ptr<QueueOrder> make_queue_order(ConfigNode cfg, const QueueOrderContext& ctx) {
  return Registry<QueueOrder>::instance().create(cfg, "fcfs", ctx);
}

}  // namespace servesim
