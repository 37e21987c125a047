// sim/metrics/progress.cc — see progress.h.
#include "sim/metrics/progress.h"

#include <cstdio>

namespace servesim {

ProgressLine::ProgressLine() : start_(Clock::now()), last_print_(start_) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::on_iteration(const IterationRecord& it) {
  if ((++tick_ & 4095u) != 0) return;
  const auto now = Clock::now();
  if (now - last_print_ < std::chrono::milliseconds(500)) return;
  last_print_ = now;
  const double wall_s = std::chrono::duration<double>(now - start_).count();
  std::fprintf(stderr,
               "\r[servesim] sim time %10.1f s | requests done %10lld | %10.0f req/s simulated  ",
               ns_to_s(it.start_ns), static_cast<long long>(done_),
               wall_s > 0 ? static_cast<double>(done_) / wall_s : 0.0);
  std::fflush(stderr);
  printed_ = true;
}

void ProgressLine::clear() {
  if (!printed_) return;
  std::fprintf(stderr, "\r%100s\r", "");
  std::fflush(stderr);
  printed_ = false;
}

}  // namespace servesim
