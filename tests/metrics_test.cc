// tests/metrics_test.cc — percentiles (numpy's linear rule, weighted samples) and the invariant
// checker's ability to fail.
#include <gtest/gtest.h>

#include "sim/core/rng.h"
#include "sim/metrics/invariant_checker.h"
#include "sim/metrics/percentile.h"
#include "sim/world/cluster.h"

namespace servesim {
namespace {

TEST(Percentile, MatchesNumpyLinear) {
  // numpy.percentile([1, 2, 3, 4], [0, 50, 90, 100]) = [1, 2.5, 3.7, 4]
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 0), 1.0);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 90), 3.7);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 100), 4.0);
  EXPECT_DOUBLE_EQ(percentile_sorted({7}, 99), 7.0);
}

TEST(Percentile, WeightedSelectionEqualsExpandedOnRandomData) {
  Rng rng(9);
  for (int trial = 0; trial < 20; ++trial) {
    WeightedSamples w;
    std::vector<double> expanded;
    const int n = static_cast<int>(rng.uniform_int(1, 300));
    for (int i = 0; i < n; ++i) {
      const std::int64_t v =
          trial % 2 ? rng.uniform_int(0, 40)
                    : rng.uniform_int(0, std::int64_t{1} << 40);  // ties; 4 radix passes
      const std::int64_t c = rng.uniform_int(1, 5);
      w.add(v, c);
      for (std::int64_t k = 0; k < c; ++k) expanded.push_back(static_cast<double>(v));
    }
    std::sort(expanded.begin(), expanded.end());
    for (double p : {0.0, 10.0, 50.0, 90.0, 99.0, 100.0})
      EXPECT_DOUBLE_EQ(w.percentile(p), percentile_sorted(expanded, p));
    EXPECT_DOUBLE_EQ(static_cast<double>(w.max()), expanded.back());
  }
}

// Pairs are stored in 32 bits until a value or count does not fit; then all are widened, even
// after percentiles were read, with the same answers.
TEST(Percentile, WeightedSamplesWidenMidwayWithTheSameAnswers) {
  WeightedSamples w;
  w.add(5, 1);
  w.add(3, 2);
  EXPECT_DOUBLE_EQ(w.percentile(50), 3.0);
  w.add(std::int64_t{1} << 33, 1);  // a value beyond 32 bits
  w.add(1, std::int64_t{1} << 32);  // a count beyond 32 bits
  w.add(7, 1);
  EXPECT_EQ(w.count(), 5 + (std::int64_t{1} << 32));
  EXPECT_EQ(w.max(), std::int64_t{1} << 33);
  EXPECT_DOUBLE_EQ(w.percentile(0), 1.0);
  EXPECT_DOUBLE_EQ(w.percentile(100), static_cast<double>(std::int64_t{1} << 33));
  // The 2^32 ones fill ranks 0 .. 2^32 - 1; then 3, 3, 5, 7, 2^33.
  const double top_rank = static_cast<double>(w.count() - 1);
  EXPECT_DOUBLE_EQ(w.percentile(100.0 * static_cast<double>(std::int64_t{1} << 32) / top_rank),
                   3.0);
}

TEST(Percentile, WeightedEqualsExpanded) {
  WeightedSamples w;
  w.add(3, 2);
  w.add(1, 3);
  w.add(10, 1);
  std::vector<double> expanded = {1, 1, 1, 3, 3, 10};
  for (double p : {0.0, 10.0, 50.0, 75.0, 90.0, 99.0, 100.0}) {
    EXPECT_DOUBLE_EQ(w.percentile(p), percentile_sorted(expanded, p)) << p;
  }
  EXPECT_EQ(w.count(), 6);
  EXPECT_EQ(w.max(), 10);
}

TEST(InvariantChecker, CatchesBudgetOverrunsAndLostRequests) {
  Simulation sim(0);
  const Cluster cluster(sim, nullptr, nullptr, 1000);  // no instances
  InvariantChecker c(cluster, 0);
  IterationRecord ok;
  ok.prefill_tokens = 100;
  ok.batch_size = 1;
  ok.token_budget = 100;
  ok.seq_budget = 4;
  ok.kv_blocks_total = 10;
  EXPECT_NO_THROW(c.on_iteration(ok));
  IterationRecord over = ok;
  over.decode_tokens = 1;
  EXPECT_THROW(c.on_iteration(over), InvariantViolation);
  IterationRecord seqs = ok;
  seqs.batch_size = 5;
  EXPECT_THROW(c.on_iteration(seqs), InvariantViolation);
  RequestState r;
  c.on_arrival(r);
  EXPECT_THROW(c.check_end(0), InvariantViolation);  // arrived, never finished
  EXPECT_THROW(c.on_reject(r), InvariantViolation);  // no reason
  r.reject_reason = "x";
  InvariantChecker d(cluster, 0);
  d.on_arrival(r);
  d.on_reject(r);
  EXPECT_NO_THROW(d.check_end(0));
  EXPECT_THROW(d.check_end(1), InvariantViolation);  // a request still in the table
}

TEST(Percentile, SelectionMatchesSorting) {
  Rng rng(3);
  for (int n : {1, 2, 3, 10, 1001}) {
    std::vector<double> v;
    for (int i = 0; i < n; ++i)
      v.push_back(static_cast<double>(rng.uniform_int(0, 50)));  // with ties
    std::vector<double> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    const std::vector<double> ps = {0, 1, 50, 90, 99, 99.9, 100};
    const std::vector<double> got = percentiles(v, ps);
    for (std::size_t i = 0; i < ps.size(); ++i)
      EXPECT_DOUBLE_EQ(got[i], percentile_sorted(sorted, ps[i])) << n << " p" << ps[i];
  }
}

}  // namespace
}  // namespace servesim
