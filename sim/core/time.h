// sim/core/time.h — simulated time: a signed 64-bit count of nanoseconds since the run began.
// All simulation state uses TimeNs; seconds appear only at the edges (config, SQLite, print).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include "sim/config/errors.h"

namespace servesim {

using TimeNs = std::int64_t;

inline constexpr TimeNs kNsPerSecond = 1'000'000'000;
inline constexpr TimeNs kNsPerMs = 1'000'000;
inline constexpr TimeNs kNsPerUs = 1'000;
inline constexpr TimeNs kTimeNever = std::numeric_limits<TimeNs>::max();

inline constexpr double ns_to_s(TimeNs t_ns) { return static_cast<double>(t_ns) * 1e-9; }
inline constexpr double ns_to_ms(TimeNs t_ns) { return static_cast<double>(t_ns) * 1e-6; }

// The simulator's horizon: times (and durations) beyond it are refused rather than wrapped.
inline constexpr double kMaxSimulatedS = 1e9;  // ~31.7 years, well inside int64 nanoseconds
inline constexpr TimeNs kMaxSimulatedNs = 1'000'000'000LL * 1'000'000'000LL;

// Rounds to the nearest nanosecond. Throws InputError for a time beyond ±kMaxSimulatedS (or
// NaN), which would otherwise wrap the int64 clock.
inline TimeNs s_to_ns(double seconds) {
  if (!(std::abs(seconds) <= kMaxSimulatedS)) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "a time of %.6g s is beyond the simulator's horizon (%.3g s)",
                  seconds, kMaxSimulatedS);
    throw InputError(std::string(buf) + "; check rates, gaps and costs");
  }
  return static_cast<TimeNs>(std::llround(seconds * 1e9));
}
inline TimeNs ms_to_ns(double ms) { return static_cast<TimeNs>(std::llround(ms * 1e6)); }

}  // namespace servesim
