// sim/core/event_queue.h — the future-event list: a binary heap of (time, phase, sequence)
// keys over a slot table of handlers, with O(1) cancel by generation-checked handle.
//
// Ordering contract: events run in increasing time; events at the same time run in increasing
// Phase (the phase order below is part of the simulator's semantics and is documented in the
// README); events with the same time and phase run in the order they were scheduled.
// The queue never runs a handler inline: scheduling at the current time queues the event. A
// component may still do the work inline instead of scheduling it when nothing else is pending
// at the current instant (Simulation::has_event_now()): nothing could run in between, so the
// order of events is the same. The instance does this when it forms its next batch at the end
// of an iteration; it is the one place that departs from "every action is an event".
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/core/time.h"

namespace servesim {

// Same-time events run in this order. Completions first, so that resources freed at time t are
// visible to decisions taken at t; arrivals next, so a scheduler running at t sees requests that
// arrived at t; periodic controllers after arrivals; batch formation after all state changes;
// sampling observers last, so they see the settled state of time t.
enum class Phase : std::uint8_t {
  kCompletion =
      0,          // an iteration or a transfer ends: tokens emitted, requests finish, blocks freed
  kArrival = 1,   // a request enters the system and is routed
  kControl = 2,   // periodic cluster-wide controllers (migration, autoscaling)
  kSchedule = 3,  // an idle instance forms its next batch
  kSample = 4,    // observers sample state
};
inline constexpr int kNumPhases = 5;

// Handle to a scheduled event. Default-constructed handles refer to no event.
struct EventId {
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;  // 0 = invalid
  bool valid() const { return generation != 0; }
};

class EventQueue {
 public:
  using Handler = std::function<void()>;

  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Schedules `handler` at `time_ns` in `phase`. REQUIRES: time_ns >= 0.
  EventId schedule(TimeNs time_ns, Phase phase, Handler handler);

  // Cancels a pending event. Returns false if it already ran, was cancelled, or is invalid.
  bool cancel(EventId id);

  // True when no live event is pending.
  bool empty() const { return live_ == 0; }
  std::size_t size() const { return live_; }

  // Time of the earliest live event, or kTimeNever. Drops cancelled entries at the top.
  TimeNs next_time();

  // Removes the earliest live event; stores its time and handler. Returns false when empty.
  bool pop(TimeNs& time_ns, Handler& handler);

 private:
  struct Entry {
    TimeNs time_ns;
    std::uint64_t key;  // phase in the top 8 bits, then a 56-bit insertion sequence
    std::uint32_t slot;
    std::uint32_t generation;
  };
  struct Slot {
    Handler handler;
    std::uint32_t generation = 0;  // current generation; an Entry whose generation differs is dead
  };
  static bool earlier(const Entry& a, const Entry& b) {
    return a.time_ns < b.time_ns || (a.time_ns == b.time_ns && a.key < b.key);
  }
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void pop_top();
  bool top_is_dead() const;

  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t next_sequence_ = 0;
  std::size_t live_ = 0;
};

}  // namespace servesim
