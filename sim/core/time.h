// sim/core/time.h — simulated time: a signed 64-bit count of nanoseconds since the run began.
// All simulation state uses TimeNs; seconds appear only at the edges (config, SQLite, print).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace servesim {

using TimeNs = std::int64_t;

inline constexpr TimeNs kNsPerSecond = 1'000'000'000;
inline constexpr TimeNs kNsPerMs = 1'000'000;
inline constexpr TimeNs kNsPerUs = 1'000;
inline constexpr TimeNs kTimeNever = std::numeric_limits<TimeNs>::max();

inline constexpr double ns_to_s(TimeNs t_ns) { return static_cast<double>(t_ns) * 1e-9; }
inline constexpr double ns_to_ms(TimeNs t_ns) { return static_cast<double>(t_ns) * 1e-6; }

// Rounds to the nearest nanosecond. REQUIRES: |seconds| < 9.2e9.
inline TimeNs s_to_ns(double seconds) { return static_cast<TimeNs>(std::llround(seconds * 1e9)); }
inline TimeNs ms_to_ns(double ms) { return static_cast<TimeNs>(std::llround(ms * 1e6)); }

}  // namespace servesim
