// traces/generators/arrivals.cc — arrival processes: `poisson` (exponential gaps) and `uniform`
// (constant gaps). Each is one class plus one SERVESIM_REGISTER line.
#include <cmath>

#include "traces/distributions.h"

namespace servesim {
namespace {

// Poisson arrivals: independent exponential gaps with mean 1/rate.
class PoissonArrivals final : public ArrivalProcess {
 public:
  PoissonArrivals(ConfigNode& cfg, const TraceContext&)
      : rate_per_s_(cfg.required<double>("rate_per_s", "mean arrival rate, requests per second", Positive())) {}
  TimeNs next_arrival_ns(TimeNs prev_ns, Rng& rng) override {
    return prev_ns + s_to_ns(rng.exponential(rate_per_s_));
  }
  double mean_rate_per_s() const override { return rate_per_s_; }

 private:
  double rate_per_s_;
};

// Deterministic arrivals: one request every 1/rate seconds (first at t = 0).
class UniformArrivals final : public ArrivalProcess {
 public:
  UniformArrivals(ConfigNode& cfg, const TraceContext&)
      : rate_per_s_(cfg.required<double>("rate_per_s", "arrival rate, requests per second", Positive())) {}
  TimeNs next_arrival_ns(TimeNs prev_ns, Rng&) override {
    if (first_) {
      first_ = false;
      return 0;
    }
    return prev_ns + s_to_ns(1.0 / rate_per_s_);
  }
  double mean_rate_per_s() const override { return rate_per_s_; }

 private:
  double rate_per_s_;
  bool first_ = true;
};

}  // namespace

SERVESIM_REGISTER(ArrivalProcess, PoissonArrivals, "poisson",
                  "Poisson process: exponential inter-arrival gaps (rate_per_s)")
SERVESIM_REGISTER(ArrivalProcess, UniformArrivals, "uniform",
                  "constant inter-arrival gap 1/rate_per_s, first request at t=0")

std::unique_ptr<ArrivalProcess> make_arrival_process(ConfigNode cfg, const TraceContext& ctx) {
  return Registry<ArrivalProcess>::instance().create(cfg, "poisson", ctx);
}

}  // namespace servesim
