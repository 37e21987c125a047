// sim/metrics/backlog.h — whether a run keeps up with its arrivals: the backlog (requests that
// arrived and have neither finished nor been rejected) seen by every arrival, thinned to at most
// kMaxSamples evenly spaced arrivals (the stride doubles when full), so memory stays constant
// however long the trace.
//
// served_to_offered() compares the two halves of the arrival sequence: of the arrivals in the
// second half, the share the cluster also served in that time, 1 − (backlog at the last arrival −
// backlog at the middle arrival) / arrivals in the second half. About 1 when the cluster keeps
// up (the backlog fluctuates around its mean), below 1 when the queue keeps growing (for an
// overloaded open-loop system it approaches service rate / offered rate). NaN (undefined) with
// fewer than kMinArrivals arrivals. mean_in_system() is the mean backlog the arrivals saw (for
// Poisson arrivals the time average, Little's L): the scale of the backlog's noise, which
// `servesim capacity` uses to tell growth from fluctuation (sim/scenario/search.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace servesim {

class BacklogTrace {
 public:
  static constexpr std::size_t kMaxSamples = 2048;
  static constexpr std::int64_t kMinArrivals = 20;

  // The `index`-th arrival (0-based, in arrival order) found `backlog` requests before it.
  void arrival(std::int64_t index, std::int64_t backlog) {
    last_index_ = index;
    last_backlog_ = backlog;
    backlog_sum_ += static_cast<double>(backlog);
    if (index % stride_ != 0) return;
    if (samples_.size() == kMaxSamples) {
      for (std::size_t i = 0; i < kMaxSamples / 2; ++i) samples_[i] = samples_[2 * i];
      samples_.resize(kMaxSamples / 2);
      stride_ *= 2;
      if (index % stride_ != 0) return;
    }
    samples_.push_back(backlog);
  }

  double mean_in_system() const {
    return last_index_ < 0 ? std::numeric_limits<double>::quiet_NaN()
                           : backlog_sum_ / static_cast<double>(last_index_ + 1);
  }

  double served_to_offered() const {
    const std::int64_t arrivals = last_index_ + 1;
    if (arrivals < kMinArrivals) return std::numeric_limits<double>::quiet_NaN();
    // The sampled arrival nearest the middle one.
    const std::int64_t mid = (last_index_ / 2 + stride_ / 2) / stride_;
    const auto k = static_cast<std::size_t>(
        std::min<std::int64_t>(mid, static_cast<std::int64_t>(samples_.size()) - 1));
    const std::int64_t mid_index = static_cast<std::int64_t>(k) * stride_;
    if (mid_index >= last_index_) return std::numeric_limits<double>::quiet_NaN();
    const double growth = static_cast<double>(last_backlog_ - samples_[k]);
    return 1.0 - growth / static_cast<double>(last_index_ - mid_index);
  }

 private:
  std::vector<std::int64_t> samples_;  // backlog at arrivals 0, stride, 2·stride, ...
  std::int64_t stride_ = 1;
  std::int64_t last_index_ = -1, last_backlog_ = 0;
  double backlog_sum_ = 0;
};

}  // namespace servesim
