// tests/search_test.cc — the capacity (goodput) search: pass/fail is monotone in the rate over
// the sampled runs, the interpolated goodput lies in the final bracket, and per-device figures
// count the devices of every pool (disaggregated scenarios included).
#include "sim/scenario/search.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace servesim {
namespace {

TEST(Search, PassFailIsMonotoneAndGoodputIsInTheBracket) {
  const std::string yaml =
      "seed: 2\nworkload:\n  num_requests: 300\n  arrival: {impl: poisson, rate_per_s: 4}\n"
      "  prompt_tokens: {impl: lognormal, mean: 1150, cv: 1.2, max: 6000}\n"
      "  output_tokens: {impl: lognormal, mean: 210, cv: 1.0, max: 1500}\n"
      "cluster:\n  max_model_len: 8192\n  pools:\n"
      "    - {name: p, role: prefill, batcher: {impl: distserve}}\n"
      "    - {name: d, role: decode, tensor_parallel: 2, batcher: {impl: distserve}}\n";
  auto make = [&](double rate) {
    auto tree = testing::parse_yaml(yaml);
    tree->set("workload.arrival.rate_per_s", YAML::Node(std::to_string(rate)));
    return tree;
  };
  RunOptions ropt;
  ropt.quiet = true;
  ropt.write_database = false;
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
