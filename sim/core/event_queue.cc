// sim/core/event_queue.cc — binary heap over (time, phase|sequence); see event_queue.h.
#include "sim/core/event_queue.h"

#include <cassert>
#include <stdexcept>
#include <utility>

namespace servesim {

EventId EventQueue::schedule(TimeNs time_ns, Phase phase, Handler handler) {
  if (time_ns < 0) throw std::logic_error("EventQueue::schedule: negative time");
  std::uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  Slot& s = slots_[slot];
  s.handler = std::move(handler);
  if (++s.generation == 0) s.generation = 1;  // generation 0 is reserved for "invalid"
  const std::uint64_t key =
      (static_cast<std::uint64_t>(phase) << 56) | (next_sequence_++ & ((1ULL << 56) - 1));
  heap_.push_back(Entry{time_ns, key, slot, s.generation});
  sift_up(heap_.size() - 1);
  ++live_;
  return EventId{slot, s.generation};
}

bool EventQueue::cancel(EventId id) {
  if (!id.valid() || id.slot >= slots_.size()) return false;
  Slot& s = slots_[id.slot];
  if (s.generation != id.generation || !s.handler) return false;
  s.handler = nullptr;  // the heap entry stays and is skipped when it reaches the top
  --live_;
  return true;
}

bool EventQueue::top_is_dead() const {
  const Entry& e = heap_.front();
  const Slot& s = slots_[e.slot];
  return s.generation != e.generation || !s.handler;
}

void EventQueue::pop_top() {
  const Entry top = heap_.front();
  heap_.front() = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) sift_down(0);
  Slot& s = slots_[top.slot];
  if (s.generation == top.generation) {
    s.handler = nullptr;
    free_slots_.push_back(top.slot);
  }
}

TimeNs EventQueue::next_time() {
  while (!heap_.empty() && top_is_dead()) pop_top();
  return heap_.empty() ? kTimeNever : heap_.front().time_ns;
}

bool EventQueue::pop(TimeNs& time_ns, Handler& handler) {
  while (!heap_.empty() && top_is_dead()) pop_top();
  if (heap_.empty()) return false;
  const Entry& top = heap_.front();
  time_ns = top.time_ns;
  handler = std::move(slots_[top.slot].handler);
  slots_[top.slot].handler = nullptr;
  pop_top();  // the handler is moved out already, so the slot reads as dead and is recycled
  --live_;
  return true;
}

void EventQueue::sift_up(std::size_t i) {
  Entry e = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!earlier(e, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

void EventQueue::sift_down(std::size_t i) {
  const std::size_t n = heap_.size();
  Entry e = heap_[i];
  while (true) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && earlier(heap_[child + 1], heap_[child])) ++child;
    if (!earlier(heap_[child], e)) break;
    heap_[i] = heap_[child];
    i = child;
  }
  heap_[i] = e;
}

}  // namespace servesim
