// traces/generators/arrivals.cc — arrival processes: `poisson` (exponential gaps), `uniform`
// (constant gaps), `gamma` (renewal process with a given CV), `weibull`, `mmpp` (on/off bursts),
// `diurnal` (sinusoidal daily rate) and `rate_curve` (piecewise-constant rate, cycled). Each is
// one class plus one SERVESIM_REGISTER line. Gaps are drawn in seconds and rounded to the
// nanosecond once per arrival.
#include <cmath>
#include <limits>

#include "traces/distributions.h"

namespace servesim {
namespace {

// Poisson arrivals: independent exponential gaps with mean 1/rate.
class PoissonArrivals final : public ArrivalProcess {
 public:
  PoissonArrivals(ConfigNode& cfg, const TraceContext&)
      : rate_per_s_(cfg.required<double>("rate_per_s", "mean arrival rate, requests per second",
                                         Positive())) {}
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
      : rate_per_s_(
            cfg.required<double>("rate_per_s", "arrival rate, requests per second", Positive())) {}
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

// Renewal process with Gamma-distributed gaps: shape k = 1/cv², scale = 1/(rate·k), so the mean
// gap is 1/rate and the gaps' coefficient of variation is cv (cv = 1 is Poisson; > 1 bursty).
class GammaArrivals final : public ArrivalProcess {
 public:
  GammaArrivals(ConfigNode& cfg, const TraceContext&)
      : rate_per_s_(cfg.required<double>("rate_per_s", "mean arrival rate, requests per second",
                                         Positive())),
        cv_(cfg.get<double>("cv", 1.0,
                            "coefficient of variation of the inter-arrival gaps (1 = Poisson)",
                            InRange(0.01, 30))) {
    shape_ = 1.0 / (cv_ * cv_);
    scale_s_ = 1.0 / (rate_per_s_ * shape_);
  }
  TimeNs next_arrival_ns(TimeNs prev_ns, Rng& rng) override {
    return prev_ns + s_to_ns(scale_s_ * rng.gamma(shape_));
  }
  double mean_rate_per_s() const override { return rate_per_s_; }

 private:
  double rate_per_s_, cv_, shape_ = 1, scale_s_ = 1;
};

// Renewal process with Weibull gaps of the given shape, scaled so the mean gap is 1/rate:
// scale = 1/(rate·Γ(1 + 1/shape)). shape < 1 is bursty (CV > 1), shape = 1 is Poisson.
class WeibullArrivals final : public ArrivalProcess {
 public:
  WeibullArrivals(ConfigNode& cfg, const TraceContext&)
      : rate_per_s_(cfg.required<double>("rate_per_s", "mean arrival rate, requests per second",
                                         Positive())),
        shape_(cfg.get<double>("shape", 1.0,
                               "Weibull shape k of the gaps (< 1 bursty, 1 = Poisson)",
                               InRange(0.05, 100))) {
    scale_s_ = 1.0 / (rate_per_s_ * std::tgamma(1.0 + 1.0 / shape_));
  }
  TimeNs next_arrival_ns(TimeNs prev_ns, Rng& rng) override {
    return prev_ns +
           s_to_ns(scale_s_ * std::pow(-std::log(rng.uniform01_open_low()), 1.0 / shape_));
  }
  double mean_rate_per_s() const override { return rate_per_s_; }

 private:
  double rate_per_s_, shape_, scale_s_ = 1;
};

// Markov-modulated Poisson process with two states (on/off bursts): Poisson arrivals at
// rate_on_per_s while on and rate_off_per_s while off; the state durations are exponential with
// means mean_on_s and mean_off_s. The first state is drawn from the stationary distribution.
// Mean rate = (rate_on·mean_on + rate_off·mean_off) / (mean_on + mean_off).
class MmppArrivals final : public ArrivalProcess {
 public:
  MmppArrivals(ConfigNode& cfg, const TraceContext&)
      : rate_on_(cfg.required<double>(
            "rate_on_per_s", "arrival rate during a burst (on), requests per second", Positive())),
        rate_off_(cfg.get<double>("rate_off_per_s", 0.0,
                                  "arrival rate between bursts (off), requests per second",
                                  NonNegative())),
        mean_on_s_(cfg.required<double>("mean_on_s", "mean duration of a burst, s", Positive())),
        mean_off_s_(
            cfg.required<double>("mean_off_s", "mean duration between bursts, s", Positive())) {}
  TimeNs next_arrival_ns(TimeNs prev_ns, Rng& rng) override {
    if (!started_) {
      started_ = true;
      on_ = rng.uniform01() < mean_on_s_ / (mean_on_s_ + mean_off_s_);
      remaining_s_ = rng.exponential(1.0 / (on_ ? mean_on_s_ : mean_off_s_));
    }
    double gap_s = 0;
    while (true) {
      const double rate = on_ ? rate_on_ : rate_off_;
      const double g = rate > 0 ? rng.exponential(rate) : std::numeric_limits<double>::infinity();
      if (g < remaining_s_) {
        remaining_s_ -= g;
        gap_s += g;
        break;
      }
      gap_s += remaining_s_;
      on_ = !on_;
      remaining_s_ = rng.exponential(1.0 / (on_ ? mean_on_s_ : mean_off_s_));
    }
    return prev_ns + s_to_ns(gap_s);
  }
  double mean_rate_per_s() const override {
    return (rate_on_ * mean_on_s_ + rate_off_ * mean_off_s_) / (mean_on_s_ + mean_off_s_);
  }

 private:
  double rate_on_, rate_off_, mean_on_s_, mean_off_s_;
  bool started_ = false, on_ = true;
  double remaining_s_ = 0;
};

// Non-homogeneous Poisson process with a daily (or any period) sinusoidal rate:
//   rate(t) = rate_per_s · (1 + amplitude · cos(2π (t − peak_s) / period_s)),
// drawn exactly by thinning (Lewis & Shedler 1979) against the peak rate.
class DiurnalArrivals final : public ArrivalProcess {
 public:
  DiurnalArrivals(ConfigNode& cfg, const TraceContext&)
      : rate_per_s_(cfg.required<double>(
            "rate_per_s", "mean arrival rate over a period, requests per second", Positive())),
        amplitude_(cfg.get<double>("amplitude", 0.5,
                                   "relative swing of the rate: peak = mean·(1 + amplitude)",
                                   Fraction())),
        period_s_(cfg.get<double>("period_s", 86400.0, "length of one cycle, s (a day by default)",
                                  Positive())),
        peak_s_(cfg.get<double>("peak_s", period_s_ / 2,
                                "time of the peak rate within the cycle, s (default: mid-cycle)",
                                NonNegative())) {}
  TimeNs next_arrival_ns(TimeNs prev_ns, Rng& rng) override {
    const double max_rate = rate_per_s_ * (1.0 + amplitude_);
    double t = ns_to_s(prev_ns);
    while (true) {
      t += rng.exponential(max_rate);
      if (rng.uniform01() * max_rate < rate_at(t)) return s_to_ns(t);
    }
  }
  double mean_rate_per_s() const override { return rate_per_s_; }
  double rate_at(double t_s) const {
    return rate_per_s_ *
           (1.0 + amplitude_ * std::cos(6.283185307179586 * (t_s - peak_s_) / period_s_));
  }

 private:
  double rate_per_s_, amplitude_, period_s_, peak_s_;
};

// Non-homogeneous Poisson process with a piecewise-constant rate: rates_per_s[i] during
// [i·interval_s, (i+1)·interval_s), the list repeating after its end (e.g. 24 hourly rates).
class RateCurveArrivals final : public ArrivalProcess {
 public:
  RateCurveArrivals(ConfigNode& cfg, const TraceContext&) {
    rates_ = cfg.required<std::vector<double>>(
        "rates_per_s", "arrival rate of each interval, requests per second", NonNegative());
    interval_s_ = cfg.get<double>("interval_s", 3600.0, "length of each interval, s", Positive());
    if (rates_.empty()) cfg.fail("rates_per_s", "needs at least one rate");
    double sum = 0;
    for (double r : rates_) sum += r;
    if (!(sum > 0)) cfg.fail("rates_per_s", "needs at least one rate > 0");
    mean_ = sum / static_cast<double>(rates_.size());
  }
  TimeNs next_arrival_ns(TimeNs prev_ns, Rng& rng) override {
    double t = ns_to_s(prev_ns);
    while (true) {
      const double k = std::floor(t / interval_s_);
      const double rate =
          rates_[static_cast<std::size_t>(std::fmod(k, static_cast<double>(rates_.size())))];
      const double end = (k + 1) * interval_s_;
      const double g = rate > 0 ? rng.exponential(rate) : std::numeric_limits<double>::infinity();
      if (t + g < end) return s_to_ns(t + g);
      t = end;  // memoryless: start over at the next interval
    }
  }
  double mean_rate_per_s() const override { return mean_; }

 private:
  std::vector<double> rates_;
  double interval_s_ = 3600, mean_ = 0;
};

}  // namespace

SERVESIM_REGISTER(
    ArrivalProcess, GammaArrivals, "gamma",
    "renewal process with Gamma gaps: mean rate rate_per_s, gap CV cv (1 = Poisson, >1 bursty)")
SERVESIM_REGISTER(ArrivalProcess, WeibullArrivals, "weibull",
                  "renewal process with Weibull gaps of the given shape, mean rate rate_per_s")
SERVESIM_REGISTER(ArrivalProcess, MmppArrivals, "mmpp",
                  "on/off bursts: 2-state Markov-modulated Poisson (rate_on_per_s, rate_off_per_s, "
                  "mean_on_s, mean_off_s)")
SERVESIM_REGISTER(
    ArrivalProcess, DiurnalArrivals, "diurnal",
    "Poisson with a sinusoidal daily rate: rate_per_s·(1 + amplitude·cos(2π(t − peak_s)/period_s))")
SERVESIM_REGISTER(
    ArrivalProcess, RateCurveArrivals, "rate_curve",
    "Poisson with a piecewise-constant rate curve rates_per_s (one per interval_s, cycled)")
SERVESIM_REGISTER(ArrivalProcess, PoissonArrivals, "poisson",
                  "Poisson process: exponential inter-arrival gaps (rate_per_s)")
SERVESIM_REGISTER(ArrivalProcess, UniformArrivals, "uniform",
                  "constant inter-arrival gap 1/rate_per_s, first request at t=0")

std::unique_ptr<ArrivalProcess> make_arrival_process(ConfigNode cfg, const TraceContext& ctx) {
  return Registry<ArrivalProcess>::instance().create(cfg, "poisson", ctx);
}

}  // namespace servesim
