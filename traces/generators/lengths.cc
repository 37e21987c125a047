// traces/generators/lengths.cc — token-length distributions: fixed, uniform, normal, lognormal,
// zipf, pmf (explicit values and weights) and empirical (resampled from a column of a trace file).
// Continuous draws are rounded to the nearest integer and clipped to [min, max] (min >= 1), so
// the realised mean can differ slightly from `mean` when the clip bites.
#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/config/errors.h"
#include "traces/distributions.h"
#include "traces/io/json_scan.h"
#include "traces/io/line_reader.h"
#include "traces/io/text_parse.h"
#include "traces/readers/reader_util.h"

namespace servesim {
namespace {

struct Clip {
  std::int32_t min;
  std::int32_t max;
  Clip(ConfigNode& cfg) {
    min = static_cast<std::int32_t>(cfg.get<std::int64_t>(
        "min", 1, "smallest token count drawn (clip)", InRange(1, kMaxGeneratedTokens)));
    max = static_cast<std::int32_t>(cfg.get<std::int64_t>("max", kMaxGeneratedTokens,
                                                          "largest token count drawn (clip)",
                                                          InRange(1, kMaxGeneratedTokens)));
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
      : value_(static_cast<std::int32_t>(cfg.required<std::int64_t>(
            "value", "the token count of every request", InRange(1, kMaxGeneratedTokens)))) {}
  std::int32_t sample(Rng&) override { return value_; }
  double mean() const override { return value_; }

 private:
  std::int32_t value_;
};

class UniformLength final : public LengthDistribution {
 public:
  UniformLength(ConfigNode& cfg, const TraceContext&) {
    lo_ = cfg.required<std::int64_t>("min", "smallest token count (inclusive)",
                                     InRange(1, kMaxGeneratedTokens));
    hi_ = cfg.required<std::int64_t>("max", "largest token count (inclusive)",
                                     InRange(1, kMaxGeneratedTokens));
    if (hi_ < lo_) cfg.fail("max", "must be >= min (" + std::to_string(lo_) + ")");
  }
  std::int32_t sample(Rng& rng) override {
    return static_cast<std::int32_t>(rng.uniform_int(lo_, hi_));
  }
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
  std::int32_t sample(Rng& rng) override {
    return clip_.apply(std::exp(mu_ + sigma_ * rng.normal()));
  }
  double mean() const override { return mean_; }

 private:
  double mean_, cv_, mu_ = 0, sigma_ = 0;
  Clip clip_;
};

// Zipf over the integers [min, max]: P(min − 1 + k) ∝ k^(−exponent), k = 1 … max − min + 1, so
// `min` is the most likely length. Drawn in O(1) by rejection-inversion (Hörmann & Derflinger,
// "Rejection-inversion to generate variates from monotone discrete distributions", 1996).
class ZipfLength final : public LengthDistribution {
 public:
  ZipfLength(ConfigNode& cfg, const TraceContext&) {
    min_ = cfg.get<std::int64_t>("min", 1, "smallest token count (the most likely one)",
                                 InRange(1, kMaxGeneratedTokens));
    max_ =
        cfg.required<std::int64_t>("max", "largest token count", InRange(1, kMaxGeneratedTokens));
    s_ = cfg.get<double>("exponent", 1.0, "Zipf exponent s: P(rank k) ∝ k^-s", InRange(0.01, 20));
    if (max_ < min_) cfg.fail("max", "must be >= min (" + std::to_string(min_) + ")");
    rescale_mean_ = cfg.get<double>(
        "rescale_mean", 0.0,
        "multiply each draw by rescale_mean / the Zipf mean and round up, as Llumnix's benchmark "
        "generator does (0 = off)",
        InRange(0, static_cast<double>(kMaxGeneratedTokens)));
    rescale_max_ = cfg.get<std::int64_t>("rescale_max", kMaxGeneratedTokens,
                                         "cap after rescaling (Llumnix: 6144)",
                                         InRange(1, kMaxGeneratedTokens));
    n_ = static_cast<double>(max_ - min_ + 1);
    h_x1_ = big_h(1.5) - 1.0;
    h_n_ = big_h(n_ + 0.5);
    squeeze_ = 2.0 - big_h_inv(big_h(2.5) - h(2.0));
    // The mean, summed exactly for up to 10^6 ranks and by the integral beyond.
    const std::int64_t n = max_ - min_ + 1;
    const std::int64_t exact = std::min<std::int64_t>(n, 1000000);
    double z = 0, zk = 0;
    for (std::int64_t k = 1; k <= exact; ++k) {
      const double p = std::pow(static_cast<double>(k), -s_);
      z += p;
      zk += p * static_cast<double>(k);
    }
    if (n > exact) {
      const double a = static_cast<double>(exact) + 0.5, b = n_ + 0.5;
      z += (big_h(b) - big_h(a));
      zk += std::abs(s_ - 2.0) < 1e-9
                ? std::log(b / a)
                : (std::pow(b, 2.0 - s_) - std::pow(a, 2.0 - s_)) / (2.0 - s_);
    }
    mean_ = static_cast<double>(min_ - 1) + zk / z;
  }
  std::int32_t sample(Rng& rng) override {
    while (true) {
      const double u = h_n_ + rng.uniform01() * (h_x1_ - h_n_);
      const double x = big_h_inv(u);
      double k = std::floor(x + 0.5);
      if (k < 1) k = 1;
      if (k > n_) k = n_;
      if (k - x <= squeeze_ || u >= big_h(k + 0.5) - h(k)) {
        const auto v = static_cast<double>(min_ - 1 + static_cast<std::int64_t>(k));
        if (rescale_mean_ <= 0) return static_cast<std::int32_t>(v);
        return static_cast<std::int32_t>(std::min<double>(static_cast<double>(rescale_max_),
                                                          std::ceil(v * rescale_mean_ / mean_)));
      }
    }
  }
  double mean() const override { return rescale_mean_ > 0 ? rescale_mean_ : mean_; }

 private:
  // h(x) = x^-s and its antiderivative H(x) = (x^(1-s) − 1)/(1 − s) (log x when s = 1), written
  // with log1p/expm1 helpers so they stay accurate near s = 1.
  double h(double x) const { return std::exp(-s_ * std::log(x)); }
  double big_h(double x) const {
    const double lx = std::log(x);
    return helper_expm1((1.0 - s_) * lx) * lx;
  }
  double big_h_inv(double x) const {
    double t = x * (1.0 - s_);
    if (t < -1.0) t = -1.0;  // guard rounding at the lower end
    return std::exp(helper_log1p(t) * x);
  }
  static double helper_log1p(double x) {  // log(1 + x) / x
    return std::abs(x) > 1e-8 ? std::log1p(x) / x : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
  }
  static double helper_expm1(double x) {  // (exp(x) − 1) / x
    return std::abs(x) > 1e-8 ? std::expm1(x) / x
                              : 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x));
  }
  std::int64_t min_ = 1, max_ = 1;
  double s_ = 1, n_ = 1, h_x1_ = 0, h_n_ = 0, squeeze_ = 0, mean_ = 1;
  double rescale_mean_ = 0;
  std::int64_t rescale_max_ = 0;
};

// An explicit distribution: values[i] tokens with probability weights[i] / Σ weights.
class PmfLength final : public LengthDistribution {
 public:
  PmfLength(ConfigNode& cfg, const TraceContext&) {
    const auto values = cfg.required<std::vector<std::int64_t>>("values", "token counts",
                                                                InRange(1, kMaxGeneratedTokens));
    const auto weights = cfg.required<std::vector<double>>(
        "weights", "relative probability of each value", NonNegative());
    if (values.empty()) cfg.fail("values", "needs at least one value");
    if (weights.size() != values.size()) cfg.fail("weights", "needs one entry per value");
    for (std::size_t i = 0; i < values.size(); ++i)
      pmf_.add(static_cast<std::int32_t>(values[i]), weights[i]);
    if (pmf_.empty()) cfg.fail("weights", "needs at least one weight > 0");
  }
  std::int32_t sample(Rng& rng) override { return pmf_.sample(rng); }
  double mean() const override { return pmf_.mean(); }

 private:
  TokenPmf pmf_;
};

// Resamples (uniformly, with replacement) the values of one column of a trace file: a CSV
// header name, or a key of a JSONL file (files ending in .jsonl or .json). The column is loaded
// into memory (4 bytes per row). Every value must be an integer >= 1: a bad one stops with
// FILE:LINE.
class EmpiricalLength final : public LengthDistribution {
 public:
  EmpiricalLength(ConfigNode& cfg, const TraceContext& ctx) {
    const std::string path =
        read_path_key(cfg, ctx, "trace file (CSV with a header, or JSONL) holding the lengths");
    const std::string column =
        cfg.required<std::string>("column", "CSV header name or JSON key of the length column");
    const bool jsonl = path.size() >= 5 && (path.ends_with(".jsonl") || path.ends_with(".json"));
    LineReader in(path);
    std::string_view line;
    std::vector<std::string_view> cells;
    std::vector<JsonField> fields;
    std::string scratch, error;
    int index = -1;
    std::size_t hint = 0;
    while (in.next(line)) {
      if (trim(line).empty()) continue;
      std::string_view text;
      if (jsonl) {
        if (!scan_json_line(line, fields, error))
          throw InputError(in.where() + ": malformed JSON: " + error);
        const JsonField* f = find_json_field(fields, column, hint);
        if (!f) throw InputError(in.where() + ": missing field '" + column + "'");
        text = f->value;
      } else {
        if (!split_csv(line, ',', cells, scratch))
          throw InputError(in.where() + ": unterminated quoted field");
        if (index < 0) {
          for (std::size_t i = 0; i < cells.size(); ++i) {
            if (trim(cells[i]) == column) index = static_cast<int>(i);
          }
          if (index < 0)
            throw InputError(in.where() + ": missing column '" + column + "' in the header");
          continue;
        }
        if (cells.size() <= static_cast<std::size_t>(index))
          throw InputError(in.where() + ": too few columns");
        text = cells[static_cast<std::size_t>(index)];
      }
      std::int64_t v = 0;
      const ParseError e = parse_count(text, kMaxGeneratedTokens, v);
      if (e != ParseError::kOk)
        throw InputError(in.where() + ": '" + column +
                         "': " + describe_parse_error(e, text, kMaxGeneratedTokens));
      if (v < 1) throw InputError(in.where() + ": '" + column + "': lengths must be >= 1 (got 0)");
      values_.push_back(static_cast<std::int32_t>(v));
      sum_ += static_cast<double>(v);
    }
    if (values_.empty()) throw InputError(path + ": no values in column '" + column + "'");
  }
  std::int32_t sample(Rng& rng) override {
    return values_[static_cast<std::size_t>(
        rng.uniform_int(0, static_cast<std::int64_t>(values_.size()) - 1))];
  }
  double mean() const override { return sum_ / static_cast<double>(values_.size()); }

 private:
  std::vector<std::int32_t> values_;
  double sum_ = 0;
};

}  // namespace

SERVESIM_REGISTER(LengthDistribution, ZipfLength, "zipf",
                  "Zipf on [min, max]: P(min-1+k) ∝ k^-exponent (min is the most likely length)")
SERVESIM_REGISTER(LengthDistribution, PmfLength, "pmf",
                  "explicit distribution: values with weights")
SERVESIM_REGISTER(LengthDistribution, EmpiricalLength, "empirical",
                  "resample a column of a trace file (CSV header name or JSONL key): path, column")
SERVESIM_REGISTER(LengthDistribution, FixedLength, "fixed", "every request has `value` tokens")
SERVESIM_REGISTER(LengthDistribution, UniformLength, "uniform", "integer uniform on [min, max]")
SERVESIM_REGISTER(LengthDistribution, NormalLength, "normal",
                  "normal(mean, stddev), rounded and clipped to [min, max]")
SERVESIM_REGISTER(LengthDistribution, LognormalLength, "lognormal",
                  "lognormal with the given mean and cv, rounded and clipped to [min, max]")

std::unique_ptr<LengthDistribution> make_length_distribution(ConfigNode cfg,
                                                             const TraceContext& ctx) {
  return Registry<LengthDistribution>::instance().create(cfg, "fixed", ctx);
}

std::unique_ptr<LengthDistribution> make_length_distribution(ConfigNode& parent,
                                                             std::string_view key,
                                                             std::int64_t default_tokens,
                                                             const TraceContext& ctx) {
  if (parent.has(key) && parent.is_mapping(key))
    return make_length_distribution(parent.child(key), ctx);
  const auto v = parent.get<std::int64_t>(key, default_tokens,
                                          "token count (a number, or a distribution mapping)",
                                          InRange(1, kMaxGeneratedTokens));
  return std::make_unique<FixedLength>(static_cast<std::int32_t>(v));
}

}  // namespace servesim
