// sim/metrics/percentile.h — percentiles as numpy computes them by default ("linear"): the value
// at rank p/100·(n−1) of the sorted samples, interpolated between the two nearest ranks.
// WeightedSamples applies the same rule to samples given as (value, count) pairs without
// expanding them (used for TBT, where one decode step yields one gap for many requests).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace servesim {

// REQUIRES: `sorted` ascending and non-empty; 0 <= p <= 100.
inline double percentile_sorted(const std::vector<double>& sorted, double p) {
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(rank));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
}

// Several percentiles of unsorted samples by selection (O(n) each) instead of a full sort.
// Reorders `v`. Same values as percentile_sorted on the sorted data.
inline std::vector<double> percentiles(std::vector<double>& v, const std::vector<double>& ps) {
  std::vector<double> out;
  if (v.empty()) return std::vector<double>(ps.size(), 0.0);
  for (double p : ps) {
    const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::ptrdiff_t>(std::floor(rank));
    std::nth_element(v.begin(), v.begin() + lo, v.end());
    const double a = v[static_cast<std::size_t>(lo)];
    double b = a;
    if (static_cast<std::size_t>(lo) + 1 < v.size()) b = *std::min_element(v.begin() + lo + 1, v.end());
    out.push_back(a + (b - a) * (rank - static_cast<double>(lo)));
  }
  return out;
}

class WeightedSamples {
 public:
  void add(double value, std::int64_t count) {
    if (count <= 0) return;
    samples_.emplace_back(value, count);
    total_ += count;
    sorted_ = false;
  }
  std::int64_t count() const { return total_; }
  // Same result as percentile_sorted over the expanded samples. REQUIRES: count() > 0.
  double percentile(double p) {
    sort();
    const double rank = p / 100.0 * static_cast<double>(total_ - 1);
    const auto lo = static_cast<std::int64_t>(std::floor(rank));
    const std::int64_t hi = std::min(lo + 1, total_ - 1);
    const double a = value_at(lo), b = value_at(hi);
    return a + (b - a) * (rank - static_cast<double>(lo));
  }
  double max() {
    sort();
    return samples_.back().first;
  }

 private:
  void sort() {
    if (sorted_) return;
    std::sort(samples_.begin(), samples_.end());
    cumulative_.resize(samples_.size());
    std::int64_t c = 0;
    for (std::size_t i = 0; i < samples_.size(); ++i) cumulative_[i] = (c += samples_[i].second);
    sorted_ = true;
  }
  double value_at(std::int64_t rank) const {  // rank-th smallest expanded sample, 0-based
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), rank);
    return samples_[static_cast<std::size_t>(it - cumulative_.begin())].first;
  }
  std::vector<std::pair<double, std::int64_t>> samples_;
  std::vector<std::int64_t> cumulative_;
  std::int64_t total_ = 0;
  bool sorted_ = true;
};

}  // namespace servesim
