// policies/queueing/fcfs.cc — `fcfs`: first come, first served, as vLLM's waiting deque: an
// arrival (or a request moved in) joins the back; a recompute-preempted request goes back to
// the front, ahead of everything that waits (vLLM's waiting.extendleft). O(1) everything but
// remove(), which is O(queue).
#include <algorithm>
#include <deque>

#include "policies/queueing/queue_order.h"

namespace servesim {
namespace {

class FcfsOrder final : public QueueOrder {
 public:
  FcfsOrder(ConfigNode&, const QueueOrderContext&) {}
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

}  // namespace

SERVESIM_REGISTER(
    QueueOrder, FcfsOrder, "fcfs",
    "first come, first served; recompute-preempted requests return to the front (vLLM)")

}  // namespace servesim
