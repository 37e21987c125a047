// sim/core/rng.h — deterministic random numbers: the xoshiro256** generator seeded through
// splitmix64, and the distributions the simulator draws from, written out here (not <random>'s
// distributions, whose output differs between standard libraries) so that a scenario and seed
// give the same numbers on every platform.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace servesim {

__extension__ typedef unsigned __int128 uint128_t;

// 64-bit FNV-1a of a string; used to derive a named stream's seed.
inline constexpr std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 14695981039346656037ULL;
  for (char c : s) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  // A stream is identified by the run seed and a stream name ("workload", "router", ...):
  // adding a stream never shifts the numbers another stream draws.
  Rng(std::uint64_t seed, std::string_view stream_name) {
    std::uint64_t sm = seed ^ fnv1a64(stream_name);
    for (auto& w : s_) w = splitmix64(sm);
  }
  explicit Rng(std::uint64_t seed = 0) : Rng(seed, "") {}

  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe under log().
  double uniform01_open_low() { return 1.0 - uniform01(); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }
  // Uniform integer in [lo, hi], unbiased (Lemire's multiply-shift with rejection).
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) {
    const std::uint64_t range = static_cast<std::uint64_t>(hi - lo) + 1;
    if (range == 0) return static_cast<std::int64_t>(next_u64());
    uint128_t m = static_cast<uint128_t>(next_u64()) * range;
    std::uint64_t low = static_cast<std::uint64_t>(m);
    if (low < range) {
      const std::uint64_t threshold = (0 - range) % range;
      while (low < threshold) {
        m = static_cast<uint128_t>(next_u64()) * range;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return lo + static_cast<std::int64_t>(m >> 64);
  }
  double exponential(double rate) { return -std::log(uniform01_open_low()) / rate; }
  // Standard normal by Box–Muller (one value per call; the pair's second half is discarded so
  // the stream position does not depend on call history).
  double normal() {
    const double u1 = uniform01_open_low();
    const double u2 = uniform01();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }
  // Gamma(shape k, scale 1) by Marsaglia–Tsang; k < 1 via the boost k+1 then U^(1/k).
  double gamma(double shape) {
    if (shape < 1.0) return gamma(shape + 1.0) * std::pow(uniform01_open_low(), 1.0 / shape);
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    while (true) {
      double x, v;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = uniform01_open_low();
      if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
    }
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace servesim
