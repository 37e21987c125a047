// models/kernels/bench/stats.cc — percentiles of timing samples.
#include "stats.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace servesim::kernels {

double Percentile(std::vector<double> samples, double q) {
  if (samples.empty()) throw std::invalid_argument("Percentile of no samples");
  std::sort(samples.begin(), samples.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(samples.size() - 1);
  const size_t i = static_cast<size_t>(std::floor(pos));
  const double f = pos - static_cast<double>(i);
  if (i + 1 >= samples.size()) return samples.back();
  return samples[i] + (samples[i + 1] - samples[i]) * f;
}

Stats Summarize(const std::vector<double>& samples_ms) {
  Stats s;
  s.samples = static_cast<int>(samples_ms.size());
  s.median_ms = Percentile(samples_ms, 0.5);
  s.p10_ms = Percentile(samples_ms, 0.1);
  s.p90_ms = Percentile(samples_ms, 0.9);
  s.min_ms = *std::min_element(samples_ms.begin(), samples_ms.end());
  return s;
}

}  // namespace servesim::kernels
