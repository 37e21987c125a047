// sim/metrics/progress.h — a one-line progress display on stderr for long runs (only when
// stderr is a terminal, never with --quiet): simulated time, requests done, and how many
// requests the simulator completes per wall-clock second. Checks the wall clock every 4096
// iterations, so it costs nothing measurable.
#pragma once

#include <chrono>
#include <cstdint>

#include "sim/world/observer.h"

namespace servesim {

class ProgressLine final : public Observer {
 public:
  ProgressLine();
  ~ProgressLine() override;
  void on_finish(const RequestState&) override { ++done_; }
  void on_reject(const RequestState&) override { ++done_; }
  void on_iteration(const IterationRecord& it) override;
  // Clears the line (call before printing anything else).
  void clear();

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point start_, last_print_;
  std::int64_t done_ = 0;
  std::uint32_t tick_ = 0;
  bool printed_ = false;
};

}  // namespace servesim
