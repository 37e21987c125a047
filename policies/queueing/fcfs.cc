// policies/queueing/fcfs.cc — `fcfs`: first come, first served, as vLLM's waiting deque
// (FifoQueueOrder, queue_order.h): arrivals join the back, recompute-preempted requests return
// to the front.
#include "policies/queueing/queue_order.h"

namespace servesim {
namespace {

class FcfsOrder final : public FifoQueueOrder {
 public:
  FcfsOrder(ConfigNode&, const QueueOrderContext&) {}
};

}  // namespace

SERVESIM_REGISTER(
    QueueOrder, FcfsOrder, "fcfs",
    "first come, first served; recompute-preempted requests return to the front (vLLM)")

}  // namespace servesim
