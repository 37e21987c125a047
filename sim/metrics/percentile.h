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
    if (static_cast<std::size_t>(lo) + 1 < v.size())
      b = *std::min_element(v.begin() + lo + 1, v.end());
    out.push_back(a + (b - a) * (rank - static_cast<double>(lo)));
  }
  return out;
}

// Non-negative integer samples given as (value, count) pairs — TBT gaps in nanoseconds, where
// one decode step yields one gap for many requests — with percentiles by the same rule as
// percentile_sorted over the expanded samples. Sorting is an LSD radix sort on the values
// (11-bit digits), linear in the number of pairs; a percentile is then one scan of the sorted
// pairs (a summary asks for a few), so nothing beyond the pairs is kept. Memory: a pair takes 8
// bytes while every value and count fits in 32 bits (gaps under 4.3 s), 16 bytes from the first
// one that does not (all pairs are widened then); results are the same either way. The sort
// needs a second buffer of the pairs' size while it runs.
class WeightedSamples {
 public:
  // REQUIRES: value >= 0.
  void add(std::int64_t value, std::int64_t count) {
    if (count <= 0) return;
    if (!wide_mode_ && value <= kNarrowMax && count <= kNarrowMax) {
      narrow_.push_back(
          Narrow{static_cast<std::uint32_t>(value), static_cast<std::uint32_t>(count)});
    } else {
      if (!wide_mode_) widen();
      wide_.emplace_back(value, count);
    }
    total_ += count;
    max_ = std::max(max_, value);
    sorted_ = false;
  }
  std::int64_t count() const { return total_; }
  // REQUIRES: count() > 0.
  double percentile(double p) {
    sort();
    const double rank = p / 100.0 * static_cast<double>(total_ - 1);
    const auto lo = static_cast<std::int64_t>(std::floor(rank));
    const std::int64_t hi = std::min(lo + 1, total_ - 1);
    const auto [a, b] = wide_mode_ ? values_at(wide_, lo, hi) : values_at(narrow_, lo, hi);
    return static_cast<double>(a) + static_cast<double>(b - a) * (rank - static_cast<double>(lo));
  }
  std::int64_t max() const { return max_; }

 private:
  static constexpr std::int64_t kNarrowMax = 0xFFFFFFFF;
  struct Narrow {
    std::uint32_t value, count;
  };
  using Wide = std::pair<std::int64_t, std::int64_t>;
  static std::int64_t value_of(const Narrow& n) { return n.value; }
  static std::int64_t count_of(const Narrow& n) { return n.count; }
  static std::int64_t value_of(const Wide& w) { return w.first; }
  static std::int64_t count_of(const Wide& w) { return w.second; }

  void widen() {
    wide_.reserve(narrow_.size() + 1);
    for (const Narrow& n : narrow_) wide_.emplace_back(n.value, n.count);
    std::vector<Narrow>().swap(narrow_);
    wide_mode_ = true;
  }
  template <class T>
  void sort_pairs(std::vector<T>& samples) {
    constexpr int kDigitBits = 11;
    constexpr std::size_t kBuckets = std::size_t{1} << kDigitBits;
    std::vector<T> buffer(samples.size());
    std::vector<std::size_t> offsets(kBuckets);
    for (int shift = 0; (max_ >> shift) > 0; shift += kDigitBits) {
      std::fill(offsets.begin(), offsets.end(), 0);
      for (const T& s : samples)
        ++offsets[static_cast<std::size_t>(value_of(s) >> shift) & (kBuckets - 1)];
      std::size_t sum = 0;
      for (std::size_t& o : offsets) sum += std::exchange(o, sum);
      for (const T& s : samples)
        buffer[offsets[static_cast<std::size_t>(value_of(s) >> shift) & (kBuckets - 1)]++] = s;
      samples.swap(buffer);
    }
  }
  void sort() {
    if (sorted_) return;
    if (wide_mode_) {
      sort_pairs(wide_);
    } else {
      sort_pairs(narrow_);
    }
    sorted_ = true;
  }
  // The lo-th and hi-th smallest expanded samples (0-based, lo <= hi), in one scan.
  template <class T>
  static std::pair<std::int64_t, std::int64_t> values_at(const std::vector<T>& sorted,
                                                         std::int64_t lo, std::int64_t hi) {
    std::int64_t seen = 0, a = -1;
    for (const T& s : sorted) {
      seen += count_of(s);
      if (a < 0 && lo < seen) a = value_of(s);
      if (hi < seen) return {a, value_of(s)};
    }
    return {a, a};  // unreachable for ranks below count()
  }
  std::vector<Narrow> narrow_;
  std::vector<Wide> wide_;
  bool wide_mode_ = false;
  std::int64_t total_ = 0;
  std::int64_t max_ = 0;
  bool sorted_ = true;
};

}  // namespace servesim
