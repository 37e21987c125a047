// sim/core/simulation.cc — the run loop; see simulation.h.
#include "sim/core/simulation.h"

#include <stdexcept>
#include <string>

namespace servesim {

EventId Simulation::schedule_at(TimeNs time_ns, Phase phase, EventQueue::Handler handler) {
  if (time_ns < now_ns_) {
    throw std::logic_error("event scheduled in the past: t=" + std::to_string(time_ns) +
                           " ns < now=" + std::to_string(now_ns_) + " ns");
  }
  return queue_.schedule(time_ns, phase, std::move(handler));
}

Rng& Simulation::rng(std::string_view stream_name) {
  auto it = rngs_.find(stream_name);
  if (it == rngs_.end())
    it = rngs_.emplace(std::string(stream_name), Rng(seed_, stream_name)).first;
  return it->second;
}

void Simulation::run_until(TimeNs until_ns) {
  stopped_ = false;
  EventQueue::Handler handler;
  while (!stopped_) {
    const TimeNs t = queue_.next_time();
    if (t == kTimeNever || t > until_ns) {
      if (until_ns != kTimeNever && t != kTimeNever) now_ns_ = until_ns;
      return;
    }
    queue_.pop(now_ns_, handler);
    ++events_processed_;
    handler();
  }
}

}  // namespace servesim
