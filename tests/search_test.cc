// tests/search_test.cc — the capacity (goodput) search: pass/fail is monotone in the rate over
// the sampled runs, the interpolated goodput lies in the final bracket, and per-device figures
// count the devices of every pool (disaggregated scenarios included).
#include "sim/scenario/search.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "sim/metrics/backlog.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

// The scenario `yaml` with its Poisson rate set (what the search varies).
ScenarioAtRate at_rate(const std::string& yaml) {
  return [yaml](double rate) {
    auto tree = testing::parse_yaml(yaml);
    tree->set("workload.arrival.rate_per_s", YAML::Node(std::to_string(rate)));
    return tree;
  };
}

// Quiet runs that write no database.
RunOptions unwritten() {
  RunOptions o;
  o.quiet = true;
  o.write_database = false;
  return o;
}

TEST(Search, PassFailIsMonotoneAndGoodputIsInTheBracket) {
  const std::string yaml =
      "seed: 2\nworkload:\n  num_requests: 300\n  arrival: {impl: poisson, rate_per_s: 4}\n"
      "  prompt_tokens: {impl: lognormal, mean: 1150, cv: 1.2, max: 6000}\n"
      "  output_tokens: {impl: lognormal, mean: 210, cv: 1.0, max: 1500}\n"
      "cluster:\n  max_model_len: 8192\n  pools:\n"
      "    - {name: p, role: prefill, batcher: {impl: distserve}}\n"
      "    - {name: d, role: decode, tensor_parallel: 2, batcher: {impl: distserve}}\n";
  const ScenarioAtRate make = at_rate(yaml);
  const RunOptions ropt = unwritten();
  CapacityOptions copt;
  copt.start_rate = 4;
  copt.tolerance = 0.05;
  const CapacityResult r = find_capacity(
      make, {parse_objective("ttft_s<=0.3"), parse_objective("tpot_s<=0.02")}, copt, ropt);
  ASSERT_GT(r.capacity, 0);
  EXPECT_EQ(r.devices, 3) << "1 prefill device + 2 decode devices";
  bool failed = false;
  for (const CapacitySample& s : r.samples) {
    if (!s.pass) failed = true;
    EXPECT_FALSE(failed && s.pass)
        << "a higher rate passed after a lower one failed (rate " << s.rate << ")";
  }
  EXPECT_GE(r.goodput, r.capacity);
  double lowest_fail = 1e30;
  for (const CapacitySample& s : r.samples) {
    if (!s.pass) lowest_fail = std::min(lowest_fail, s.rate);
  }
  EXPECT_LE(r.goodput, lowest_fail);
  EXPECT_DOUBLE_EQ(r.goodput_per_device(), r.goodput / 3);
}

TEST(Backlog, ServedToOfferedReadsQueueGrowth) {
  BacklogTrace steady, growing, short_run;
  for (std::int64_t i = 0; i < 100000; ++i) {
    steady.arrival(i, 7 + (i % 5));  // fluctuates, does not grow
    growing.arrival(i, i / 4);       // served 3 of every 4 arrivals
  }
  EXPECT_NEAR(steady.served_to_offered(), 1.0, 1e-3);
  EXPECT_NEAR(steady.mean_in_system(), 9.0, 1e-3);
  EXPECT_NEAR(growing.served_to_offered(), 0.75, 1e-3) << "thinned to 2048 samples, still exact";
  // The rule: below 1 − tolerance and growth beyond the backlog's noise.
  auto metrics = [](double served, double arrived, double in_system) {
    return std::map<std::string, double>{{"served_to_offered", served},
                                         {"requests_arrived", arrived},
                                         {"mean_in_system", in_system}};
  };
  EXPECT_FALSE(keeps_growing(metrics(0.92, 200, 15), 0.05)) << "8 requests: noise";
  EXPECT_TRUE(keeps_growing(metrics(0.5, 2000, 250), 0.05)) << "500 requests of growth";
  EXPECT_FALSE(keeps_growing(metrics(0.97, 100000, 10), 0.05)) << "within the tolerance";
  EXPECT_FALSE(keeps_growing(metrics(std::nan(""), 10, 1), 0.05)) << "too short to tell";
  for (std::int64_t i = 0; i < BacklogTrace::kMinArrivals - 1; ++i) short_run.arrival(i, i);
  EXPECT_TRUE(std::isnan(short_run.served_to_offered())) << "too short to tell";
}

// One instance serving one request at a time (10 ms prefill + 9 × 5 ms decode ≈ 55 ms each, at
// most ~18 req/s): a TBT objective is met at any rate (TBT never sees the queue), so without the
// stability rule every doubling passes until --max-runs ends the search; with it the capacity is
// bracketed below the service rate, and each run's served_to_offered says why.
TEST(Search, ARunWhoseQueueKeepsGrowingIsInfeasible) {
  const std::string yaml = std::string(
                               "seed: 3\nworkload:\n  num_requests: 400\n"
                               "  arrival: {impl: poisson, rate_per_s: 2}\n"
                               "  prompt_tokens: 10\n  output_tokens: 10\n"
                               "policies:\n  batcher: {impl: vllm, max_num_seqs: 1}\n"
                               "cluster:\n") +
                           testing::kFixedCostYaml;
  const ScenarioAtRate make = at_rate(yaml);
  const RunOptions ropt = unwritten();
  CapacityOptions copt;
  copt.start_rate = 2;
  copt.tolerance = 0.05;
  copt.max_runs = 16;
  const CapacityResult r = find_capacity(make, {parse_objective("tbt_p99_s<=1")}, copt, ropt);
  EXPECT_GT(r.capacity, 9);
  // Above the service rate (~18.2 req/s) the queue grows without end; the 5% tolerance lets a
  // rate up to 18.2 / 0.95 ≈ 19.2 pass.
  EXPECT_LT(r.capacity, 19.5);
  for (const CapacitySample& s : r.samples) {
    std::printf("rate %.3g served_to_offered %.3f mean_in_system %.1f %s\n", s.rate,
                s.metrics.at("served_to_offered"), s.metrics.at("mean_in_system"),
                s.pass ? "pass" : "fail");
  }
  bool unstable_seen = false;
  for (const CapacitySample& s : r.samples) {
    EXPECT_EQ(s.unstable, keeps_growing(s.metrics, 0.05)) << "rate " << s.rate;
    if (s.metrics.at("served_to_offered") >= 0.95) {
      EXPECT_FALSE(s.unstable) << "rate " << s.rate;
    }
    EXPECT_EQ(s.pass, !s.unstable) << "the TBT objective alone passes at every rate";
    unstable_seen = unstable_seen || s.unstable;
    if (s.rate >= 30) {
      EXPECT_LT(s.metrics.at("served_to_offered"), 0.7) << "rate " << s.rate;
    }
  }
  EXPECT_TRUE(unstable_seen);

  copt.stability_tolerance = -1;  // the old rule: objectives alone
  const CapacityResult unguarded =
      find_capacity(make, {parse_objective("tbt_p99_s<=1")}, copt, ropt);
  EXPECT_EQ(unguarded.capacity, unguarded.samples.back().rate) << "every doubling passed";
  EXPECT_GT(unguarded.capacity, 1000);
}

// An objective no rate meets (TTFT below the 10 ms prefill): halving stops once a failing run
// was unloaded (under one request in the system on average) instead of running toward rates
// whose trace would outlast the simulator's horizon.
TEST(Search, HalvingStopsWhenFailingRunsAreAlreadyUnloaded) {
  const std::string yaml = std::string(
                               "seed: 3\nworkload:\n  num_requests: 200\n"
                               "  arrival: {impl: poisson, rate_per_s: 50}\n"
                               "  prompt_tokens: 10\n  output_tokens: 10\ncluster:\n") +
                           testing::kFixedCostYaml;
  const ScenarioAtRate make = at_rate(yaml);
  const RunOptions ropt = unwritten();
  CapacityOptions copt;
  copt.start_rate = 50;
  const CapacityResult r = find_capacity(make, {parse_objective("ttft_s<=0.001")}, copt, ropt);
  EXPECT_EQ(r.capacity, 0);
  ASSERT_FALSE(r.samples.empty());
  EXPECT_LT(r.samples.size(), 10u) << "before: 24 halvings, down to 50 / 2^23 req/s";
  EXPECT_LT(r.samples.front().metrics.at("mean_in_system"), 1.0);
  EXPECT_GT(r.samples.front().rate, 0.1);
}

TEST(Search, ObjectivesAreParsedStrictly) {
  EXPECT_EQ(parse_objective("tbt_p99_s<=0.05").key, "tbt_p99_s");
  EXPECT_FALSE(parse_objective("throughput_tok_s>=10").at_most);
  EXPECT_TRUE(parse_objective("ttft_s<=1").per_request);
  EXPECT_THROW(parse_objective("ttft_s>=1"), UsageError);
  EXPECT_THROW(parse_objective("ttft_s<1"), UsageError);
  EXPECT_THROW(parse_objective("ttft_s<=x"), UsageError);
}

}  // namespace
}  // namespace servesim
