// traces/generators/lengths.cc — token-length distributions: fixed, uniform, normal, lognormal.
// Continuous draws are rounded to the nearest integer and clipped to [min, max] (min >= 1), so
// the realised mean can differ slightly from `mean` when the clip bites.
#include <algorithm>
#include <cmath>
#include <limits>

#include "traces/distributions.h"

namespace servesim {
namespace {

constexpr std::int64_t kMaxTokens = std::numeric_limits<std::int32_t>::max();

struct Clip {
  std::int32_t min;
  std::int32_t max;
  Clip(ConfigNode& cfg) {
    min = static_cast<std::int32_t>(cfg.get<std::int64_t>("min", 1, "smallest token count drawn (clip)", InRange(1, kMaxTokens)));
    max = static_cast<std::int32_t>(cfg.get<std::int64_t>("max", kMaxTokens, "largest token count drawn (clip)", InRange(1, kMaxTokens)));
    if (max < min) cfg.fail("max", "must be >= min (" + std::to_string(min) + ")");
  }
  std::int32_t apply(double x) const {
    const double r = std::nearbyint(x);
    if (!(r >= min)) return min;  // also catches NaN
    if (r > max) return max;
    return static_cast<std::int32_t>(r);
  }
};

class FixedLength final : public LengthDistribution {
 public:
  explicit FixedLength(std::int32_t value) : value_(value) {}
  FixedLength(ConfigNode& cfg, const TraceContext&)
      : value_(static_cast<std::int32_t>(cfg.required<std::int64_t>("value", "the token count of every request", InRange(1, kMaxTokens)))) {}
  std::int32_t sample(Rng&) override { return value_; }
  double mean() const override { return value_; }

 private:
  std::int32_t value_;
};

class UniformLength final : public LengthDistribution {
 public:
  UniformLength(ConfigNode& cfg, const TraceContext&) {
    lo_ = cfg.required<std::int64_t>("min", "smallest token count (inclusive)", InRange(1, kMaxTokens));
    hi_ = cfg.required<std::int64_t>("max", "largest token count (inclusive)", InRange(1, kMaxTokens));
    if (hi_ < lo_) cfg.fail("max", "must be >= min (" + std::to_string(lo_) + ")");
  }
  std::int32_t sample(Rng& rng) override { return static_cast<std::int32_t>(rng.uniform_int(lo_, hi_)); }
  double mean() const override { return 0.5 * static_cast<double>(lo_ + hi_); }

 private:
  std::int64_t lo_, hi_;
};

class NormalLength final : public LengthDistribution {
 public:
  NormalLength(ConfigNode& cfg, const TraceContext&)
      : mean_(cfg.required<double>("mean", "mean token count", Positive())),
        stddev_(cfg.required<double>("stddev", "standard deviation, tokens", NonNegative())),
        clip_(cfg) {}
  std::int32_t sample(Rng& rng) override { return clip_.apply(rng.normal(mean_, stddev_)); }
  double mean() const override { return mean_; }

 private:
  double mean_, stddev_;
  Clip clip_;
};

// Lognormal given by its own mean and coefficient of variation (stddev/mean):
// sigma² = ln(1 + cv²), mu = ln(mean) − sigma²/2.
class LognormalLength final : public LengthDistribution {
 public:
  LognormalLength(ConfigNode& cfg, const TraceContext&)
      : mean_(cfg.required<double>("mean", "mean token count (before clipping)", Positive())),
        cv_(cfg.get<double>("cv", 1.0, "coefficient of variation, stddev/mean", Positive())),
        clip_(cfg) {
    sigma_ = std::sqrt(std::log1p(cv_ * cv_));
    mu_ = std::log(mean_) - 0.5 * sigma_ * sigma_;
  }
  std::int32_t sample(Rng& rng) override { return clip_.apply(std::exp(mu_ + sigma_ * rng.normal())); }
  double mean() const override { return mean_; }

 private:
  double mean_, cv_, mu_ = 0, sigma_ = 0;
  Clip clip_;
};

}  // namespace

SERVESIM_REGISTER(LengthDistribution, FixedLength, "fixed", "every request has `value` tokens")
SERVESIM_REGISTER(LengthDistribution, UniformLength, "uniform", "integer uniform on [min, max]")
SERVESIM_REGISTER(LengthDistribution, NormalLength, "normal",
                  "normal(mean, stddev), rounded and clipped to [min, max]")
SERVESIM_REGISTER(LengthDistribution, LognormalLength, "lognormal",
                  "lognormal with the given mean and cv, rounded and clipped to [min, max]")

std::unique_ptr<LengthDistribution> make_length_distribution(ConfigNode cfg, const TraceContext& ctx) {
  return Registry<LengthDistribution>::instance().create(cfg, "fixed", ctx);
}

std::unique_ptr<LengthDistribution> make_length_distribution(ConfigNode& parent, std::string_view key,
                                                             std::int64_t default_tokens, const TraceContext& ctx) {
  if (parent.has(key) && parent.is_mapping(key)) return make_length_distribution(parent.child(key), ctx);
  const auto v = parent.get<std::int64_t>(key, default_tokens, "token count (a number, or a distribution mapping)",
                                          InRange(1, kMaxTokens));
  return std::make_unique<FixedLength>(static_cast<std::int32_t>(v));
}

}  // namespace servesim
