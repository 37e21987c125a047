// tests/rng_test.cc — the deterministic random numbers and their distributions (statistical
// checks with fixed seeds and tolerances several standard errors wide).
#include "sim/core/rng.h"

#include <gtest/gtest.h>

#include <cmath>

namespace servesim {
namespace {

TEST(Rng, SameSeedSameStream) {
  Rng a(5, "x"), b(5, "x");
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
}

TEST(Rng, KnownFirstValuesPinTheGenerator) {
  // Pins the streams across platforms and refactors: a change here changes every result
  // database. The first two constants are the published references of the building blocks
  // (splitmix64 from state 0; the FNV-1a 64-bit offset basis); the rest were recorded from this
  // implementation of xoshiro256** and must never move.
  std::uint64_t state = 0;
  EXPECT_EQ(splitmix64(state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("workload"), 0x5e9e510067ade45cULL);
  Rng r(0, "");
  EXPECT_EQ(r.next_u64(), 0x21382ef092ed7068ULL);
  EXPECT_EQ(r.next_u64(), 0x5b54c052757adf62ULL);
  EXPECT_EQ(r.next_u64(), 0xa64cb2cf68795072ULL);
  Rng w(42, "workload");
  EXPECT_EQ(w.next_u64(), 0x65cd59f7a45395d5ULL);
  EXPECT_EQ(w.next_u64(), 0x82148552960492e6ULL);
  // Distributions on top: exact where only arithmetic is involved, within rounding of libm
  // (log, cos) otherwise.
  Rng u(7, "x");
  EXPECT_EQ(u.uniform01(), 0.13029317410819485);
  EXPECT_NEAR(u.exponential(2.0), 0.45188865520391835, 1e-15);
  EXPECT_NEAR(u.normal(), 1.6660276232708109, 1e-14);
  EXPECT_EQ(u.uniform_int(-5, 5), 0);
}

TEST(Rng, UniformIntCoversRangeInclusive) {
  Rng r(3);
  int seen[7] = {};
  for (int i = 0; i < 7000; ++i) {
    const auto v = r.uniform_int(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    ++seen[v + 3];
  }
  for (int c : seen) EXPECT_GT(c, 800);  // expected 1000 each
}

TEST(Rng, ExponentialMean) {
  Rng r(11);
  const int n = 200000;
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += r.exponential(4.0);
  EXPECT_NEAR(sum / n, 0.25, 0.25 * 5 / std::sqrt(n));
}

TEST(Rng, NormalMeanAndVariance) {
  Rng r(12);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = r.normal(2.0, 3.0);
    s += x;
    s2 += x * x;
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  EXPECT_NEAR(mean, 2.0, 3.0 * 5 / std::sqrt(n));
  EXPECT_NEAR(var, 9.0, 9.0 * 0.03);
}

TEST(Rng, GammaMeanAndVariance) {
  for (double shape : {0.5, 1.0, 4.0}) {
    Rng r(13);
    const int n = 200000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const double x = r.gamma(shape);
      s += x;
      s2 += x * x;
    }
    const double mean = s / n, var = s2 / n - mean * mean;
    EXPECT_NEAR(mean, shape, std::sqrt(shape) * 5 / std::sqrt(n)) << "shape " << shape;
    EXPECT_NEAR(var, shape, shape * 0.05) << "shape " << shape;
  }
}

}  // namespace
}  // namespace servesim
