// sim/core/simulation.h — one simulation: the clock, the event queue, the named random streams
// and the components that live for the run. Nothing here is global, so several Simulations can
// coexist in one process (the tests do this).
//
// Contract: handlers run one at a time in (time, phase, sequence) order (event_queue.h); now()
// is the running event's time; a handler may schedule events at now() or later, never earlier.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/event_queue.h"
#include "sim/core/rng.h"
#include "sim/core/time.h"

namespace servesim {

// Anything the simulation owns for the duration of a run.
class Component {
 public:
  virtual ~Component() = default;
};

class Simulation {
 public:
  explicit Simulation(std::uint64_t seed) : seed_(seed) {}
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  TimeNs now() const { return now_ns_; }
  std::uint64_t seed() const { return seed_; }

  // REQUIRES: time_ns >= now().
  EventId schedule_at(TimeNs time_ns, Phase phase, EventQueue::Handler handler);
  EventId schedule_in(TimeNs delay_ns, Phase phase, EventQueue::Handler handler) {
    return schedule_at(now_ns_ + delay_ns, phase, std::move(handler));
  }
  bool cancel(EventId id) { return queue_.cancel(id); }
  // True when another event is pending at the current time. A component about to schedule an
  // action at now() may run it inline instead when this is false: nothing else can run between
  // the two, so the order of events is the same.
  bool has_event_now() { return queue_.next_time() <= now_ns_; }

  // The random stream of one component, created on first use from (seed, name).
  Rng& rng(std::string_view stream_name);

  // Runs events until the queue drains or stop() is called.
  void run() { run_until(kTimeNever); }
  // Runs every event with time <= until_ns (or until stop()); afterwards now() == until_ns
  // unless the queue drained first or the run was stopped.
  void run_until(TimeNs until_ns);
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }

  std::uint64_t events_processed() const { return events_processed_; }
  std::size_t events_pending() const { return queue_.size(); }

  template <class T>
  T& add_component(std::unique_ptr<T> c) {
    T& ref = *c;
    components_.push_back(std::move(c));
    return ref;
  }

 private:
  std::uint64_t seed_;
  TimeNs now_ns_ = 0;
  EventQueue queue_;
  std::map<std::string, Rng, std::less<>> rngs_;
  std::vector<std::unique_ptr<Component>> components_;
  std::uint64_t events_processed_ = 0;
  bool stopped_ = false;
};

}  // namespace servesim
