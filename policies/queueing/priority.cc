// policies/queueing/priority.cc — `priority`: the highest Request::priority first (larger is
// more important, as in the workload); among equal priorities FCFS exactly as `fcfs` orders
// them (arrivals to the back, recompute-preempted requests to the front). With every priority
// equal it is `fcfs`. A std::map keyed by (−priority, position): O(log n) per operation;
// remove() is O(log n) through a slot → key index.
#include <cstdint>
#include <map>
#include <unordered_map>
#include <utility>

#include "policies/queueing/queue_order.h"

namespace servesim {
namespace {

class PriorityOrder final : public QueueOrder {
 public:
  PriorityOrder(ConfigNode&, const QueueOrderContext&) {}
  void push(const QueuedRequest& r, Reason why) override {
    const RequestSlot slot = r.slot;
    // Positions: the back counts up from 0, the front counts down from −1, so a request pushed
    // to the front sorts before every request already there with the same priority.
    const std::int64_t position = why == Reason::kPreempted ? --front_ : back_++;
    const Key key{-static_cast<std::int64_t>(r.priority), position};
    queue_.emplace(key, slot);
    keys_.emplace(slot, key);
  }
  bool empty() const override { return queue_.empty(); }
  std::size_t size() const override { return queue_.size(); }
  RequestSlot head() override { return queue_.begin()->second; }
  void pop_head() override {
    keys_.erase(queue_.begin()->second);
    queue_.erase(queue_.begin());
  }
  bool remove(RequestSlot slot) override {
    const auto it = keys_.find(slot);
    if (it == keys_.end()) return false;
    queue_.erase(it->second);
    keys_.erase(it);
    return true;
  }

 private:
  using Key = std::pair<std::int64_t, std::int64_t>;  // (−priority, position)
  std::map<Key, RequestSlot> queue_;
  std::unordered_map<RequestSlot, Key> keys_;
  std::int64_t front_ = 0, back_ = 0;
};

}  // namespace

SERVESIM_REGISTER(
    QueueOrder, PriorityOrder, "priority",
    "highest request priority first; FCFS among equals (preempted requests to the front)")

}  // namespace servesim
