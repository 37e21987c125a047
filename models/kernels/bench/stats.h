// models/kernels/bench/stats.h — summary statistics of timing samples.
// Percentiles interpolate linearly between order statistics (numpy's default): for n
// sorted samples x[0..n-1], P(q) = x[i] + (x[i+1] - x[i]) * f with i + f = q * (n - 1).
#ifndef SERVESIM_MODELS_KERNELS_BENCH_STATS_H_
#define SERVESIM_MODELS_KERNELS_BENCH_STATS_H_

#include <vector>

namespace servesim::kernels {

struct Stats {
  double median_ms = 0.0;
  double p10_ms = 0.0;
  double p90_ms = 0.0;
  double min_ms = 0.0;
  int samples = 0;
};

// REQUIRES: samples is non-empty.
double Percentile(std::vector<double> samples, double q);
Stats Summarize(const std::vector<double>& samples_ms);

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_BENCH_STATS_H_
