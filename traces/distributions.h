// traces/distributions.h — the two building blocks of generated workloads:
//  * ArrivalProcess: when the next request arrives (registered kind "arrival");
//  * LengthDistribution: how many tokens a prompt or an output has (kind "length").
// Both are seeded by the caller's Rng, so every stream is reproducible.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "sim/core/registry.h"
#include "sim/core/rng.h"
#include "traces/trace_source.h"

namespace servesim {

class ArrivalProcess {
 public:
  using Context = TraceContext;
  static constexpr const char* kKind = "arrival";
  virtual ~ArrivalProcess() = default;
  // The arrival time following one at `prev_ns` (the first call gets prev_ns = 0).
  virtual TimeNs next_arrival_ns(TimeNs prev_ns, Rng& rng) = 0;
  // Long-run mean rate in requests per second (for reports and capacity scaling).
  virtual double mean_rate_per_s() const = 0;
};

class LengthDistribution {
 public:
  using Context = TraceContext;
  static constexpr const char* kKind = "length";
  virtual ~LengthDistribution() = default;
  // A token count >= 1.
  virtual std::int32_t sample(Rng& rng) = 0;
  virtual double mean() const = 0;
};

// A discrete distribution over token counts, given as (value, weight) pairs and sampled by
// inverse CDF (binary search). Used by the `pmf` length distribution and the ServeGen reader.
class TokenPmf {
 public:
  // REQUIRES: value >= 1, weight >= 0.
  void add(std::int32_t value, double weight) {
    if (!(weight > 0)) return;
    total_ += weight;
    weighted_sum_ += weight * value;
    values_.push_back(value);
    cumulative_.push_back(total_);
  }
  bool empty() const { return values_.empty(); }
  std::int32_t sample(Rng& rng) const {
    const double u = rng.uniform01() * total_;
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
    return values_[std::min(static_cast<std::size_t>(it - cumulative_.begin()),
                            values_.size() - 1)];
  }
  double mean() const { return total_ > 0 ? weighted_sum_ / total_ : 0.0; }
  // Adds `other` scaled to total probability `mass` (mixtures of several PMFs).
  void merge(const TokenPmf& other, double mass) {
    double prev = 0;
    for (std::size_t i = 0; i < other.values_.size(); ++i) {
      add(other.values_[i], (other.cumulative_[i] - prev) / other.total_ * mass);
      prev = other.cumulative_[i];
    }
  }

 private:
  std::vector<std::int32_t> values_;
  std::vector<double> cumulative_;
  double total_ = 0, weighted_sum_ = 0;
};

std::unique_ptr<ArrivalProcess> make_arrival_process(ConfigNode cfg, const TraceContext& ctx);
std::unique_ptr<LengthDistribution> make_length_distribution(ConfigNode cfg,
                                                             const TraceContext& ctx);
// Reads `parent.key`, which is either a mapping ({impl: lognormal, ...}) or a plain number
// (shorthand for {impl: fixed, value: N}); absent means fixed `default_tokens`.
std::unique_ptr<LengthDistribution> make_length_distribution(ConfigNode& parent,
                                                             std::string_view key,
                                                             std::int64_t default_tokens,
                                                             const TraceContext& ctx);

}  // namespace servesim
