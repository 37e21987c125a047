// tests/trace_generators_test.cc — the workload generators, statistically: sample mean rate and
// inter-arrival CV of seeded runs against their targets (Poisson, Gamma with a CV, on/off MMPP
// against the closed form of the interrupted Poisson process, a diurnal curve and a piecewise
// rate curve), length distributions (zipf, pmf, empirical), the multi-client generator (weights,
// per-client rates, shared system prompts and multi-turn conversations as prefix hashes), the
// ServeGen reader on a small folder written by the test, and determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "tests/test_util.h"
#include "tests/trace_test_util.h"
#include "traces/stats.h"

namespace servesim {
namespace {

using testing::make_arrivals;
using testing::make_lengths;
using testing::read_all;
using testing::TempDir;
using testing::yaml_path;

struct GapStats {
  double mean_rate = 0;
  double cv = 0;
};

GapStats gap_stats(ArrivalProcess& p, int n, std::uint64_t seed) {
  Rng rng(seed, "test.arrivals");
  TimeNs t = 0;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    const TimeNs next = p.next_arrival_ns(t, rng);
    EXPECT_GE(next, t);
    const double g = ns_to_s(next - t);
    sum += g;
    sum2 += g * g;
    t = next;
  }
  const double mean = sum / n;
  return {1.0 / mean, std::sqrt(sum2 / n - mean * mean) / mean};
}

TEST(TraceGenerators, PoissonRateAndCv) {
  auto a = make_arrivals("impl: poisson\nrate_per_s: 20\n");
  const GapStats s = gap_stats(*a.process, 100000, 1);
  EXPECT_NEAR(s.mean_rate, 20.0, 20.0 * 0.02);
  EXPECT_NEAR(s.cv, 1.0, 0.03);
  EXPECT_DOUBLE_EQ(a.process->mean_rate_per_s(), 20.0);
}

TEST(TraceGenerators, GammaRateAndCv) {
  for (double cv : {0.5, 2.0, 4.0}) {
    auto a = make_arrivals("impl: gamma\nrate_per_s: 5\ncv: " + std::to_string(cv) + "\n");
    const GapStats s = gap_stats(*a.process, 200000, 2);
    EXPECT_NEAR(s.mean_rate, 5.0, 5.0 * (cv > 3 ? 0.05 : 0.02)) << cv;
    EXPECT_NEAR(s.cv, cv, cv * (cv > 3 ? 0.08 : 0.04)) << cv;
  }
}

TEST(TraceGenerators, WeibullRate) {
  auto a = make_arrivals("impl: weibull\nrate_per_s: 3\nshape: 0.7\n");
  const GapStats s = gap_stats(*a.process, 200000, 3);
  EXPECT_NEAR(s.mean_rate, 3.0, 3.0 * 0.02);
  const double k = 0.7;
  const double cv = std::sqrt(std::tgamma(1 + 2 / k) / std::pow(std::tgamma(1 + 1 / k), 2) - 1);
  EXPECT_NEAR(s.cv, cv, cv * 0.04);
}

// Interrupted Poisson process (MMPP with rate_off = 0): the gaps form a renewal process with
// E[T] = (α+β)/(λβ) and a second moment from first-step analysis (α = 1/mean_on, β = 1/mean_off).
TEST(TraceGenerators, MmppOnOffMatchesTheInterruptedPoissonClosedForm) {
  const double lambda = 50, mean_on = 2, mean_off = 8;
  auto a = make_arrivals("impl: mmpp\nrate_on_per_s: 50\nmean_on_s: 2\nmean_off_s: 8\n");
  const double alpha = 1 / mean_on, beta = 1 / mean_off;
  const double p = alpha / (lambda + alpha);
  const double m1 = (alpha + beta) / (lambda * beta);
  const double m2 = (2 / std::pow(lambda + alpha, 2) + 2 * p * (1 / beta + m1) / (lambda + alpha) +
                     p * (2 / (beta * beta) + 2 * m1 / beta)) /
                    (1 - p);
  const double cv = std::sqrt(m2 - m1 * m1) / m1;
  EXPECT_NEAR(a.process->mean_rate_per_s(), 10.0, 1e-12);
  const GapStats s = gap_stats(*a.process, 300000, 4);
  EXPECT_NEAR(s.mean_rate, 1 / m1, (1 / m1) * 0.04);
  EXPECT_NEAR(s.cv, cv, cv * 0.05);
  EXPECT_GT(s.cv, 2.0);
  // With an "off" rate the mean rate is the time-weighted average.
  auto b = make_arrivals(
      "impl: mmpp\nrate_on_per_s: 40\nrate_off_per_s: 4\nmean_on_s: 1\nmean_off_s: 3\n");
  const GapStats sb = gap_stats(*b.process, 300000, 5);
  EXPECT_NEAR(sb.mean_rate, 13.0, 13.0 * 0.04);
  EXPECT_GT(sb.cv, 1.3);
}

TEST(TraceGenerators, DiurnalFollowsItsRateCurve) {
  // Period 100 s, mean 200/s, amplitude 0.8, peak at 25 s: over 20 periods count arrivals per
  // quarter of the period and compare with the integral of the rate.
  auto a =
      make_arrivals("impl: diurnal\nrate_per_s: 200\namplitude: 0.8\nperiod_s: 100\npeak_s: 25\n");
  Rng rng(6, "test.arrivals");
  TimeNs t = 0;
  std::vector<double> quarter(4, 0);
  std::int64_t n = 0;
  const TimeNs end = s_to_ns(2000);
  while (true) {
    t = a.process->next_arrival_ns(t, rng);
    if (t >= end) break;
    ++n;
    quarter[static_cast<std::size_t>(std::fmod(ns_to_s(t), 100.0) / 25.0)] += 1;
  }
  EXPECT_NEAR(n / 2000.0, 200.0, 200.0 * 0.02);
  // ∫ over a quarter [q·25, (q+1)·25) of 200·(1 + 0.8 cos(2π(t − 25)/100)) dt, times 20 periods.
  for (int q = 0; q < 4; ++q) {
    const double w = 6.283185307179586 / 100;
    const double integral =
        200 * 25 +
        200 * 0.8 / w * (std::sin(w * ((q + 1) * 25 - 25)) - std::sin(w * (q * 25 - 25)));
    EXPECT_NEAR(quarter[static_cast<std::size_t>(q)], 20 * integral, 20 * integral * 0.03) << q;
  }
}

TEST(TraceGenerators, RateCurveIsPiecewiseConstant) {
  auto a = make_arrivals("impl: rate_curve\nrates_per_s: [100, 0, 300]\ninterval_s: 10\n");
  EXPECT_NEAR(a.process->mean_rate_per_s(), 400.0 / 3, 1e-9);
  Rng rng(7, "test.arrivals");
  TimeNs t = 0;
  std::vector<double> per(3, 0);
  while ((t = a.process->next_arrival_ns(t, rng)) < s_to_ns(300))
    per[static_cast<std::size_t>(std::fmod(ns_to_s(t), 30.0) / 10.0)] += 1;
  EXPECT_NEAR(per[0] / 100.0, 100.0, 100.0 * 0.05);
  EXPECT_EQ(per[1], 0);
  EXPECT_NEAR(per[2] / 100.0, 300.0, 300.0 * 0.05);
}

TEST(TraceGenerators, ArrivalConfigErrors) {
  EXPECT_THROW(make_arrivals("impl: gamma\nrate_per_s: 5\ncv: 0\n"), ConfigError);
  EXPECT_THROW(make_arrivals("impl: mmpp\nrate_on_per_s: 5\n"), ConfigError);
  EXPECT_THROW(make_arrivals("impl: diurnal\nrate_per_s: 5\namplitude: 1.5\n"), ConfigError);
  EXPECT_THROW(make_arrivals("impl: rate_curve\nrates_per_s: [0, 0]\n"), ConfigError);
}

TEST(TraceGenerators, ZipfPmfAndEmpiricalLengths) {
  auto z = make_lengths("impl: zipf\nmin: 10\nmax: 1000\nexponent: 1.2\n");
  Rng rng(8, "test.lengths");
  double sum = 0;
  int at_min = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const int v = z.dist->sample(rng);
    ASSERT_GE(v, 10);
    ASSERT_LE(v, 1000);
    sum += v;
    at_min += v == 10;
  }
  double h = 0;
  for (int k = 1; k <= 991; ++k) h += std::pow(k, -1.2);
  EXPECT_NEAR(static_cast<double>(at_min) / n, 1.0 / h, 0.01);
  EXPECT_NEAR(sum / n, z.dist->mean(), z.dist->mean() * 0.03);
  // A huge range takes the O(1) path and still respects the bounds.
  auto big = make_lengths("impl: zipf\nmax: 10000000\nexponent: 0.9\n");
  EXPECT_THROW(make_lengths("impl: zipf\nmax: 10000001\n"), ConfigError) << "kMaxGeneratedTokens";
  for (int i = 0; i < 1000; ++i) ASSERT_GE(big.dist->sample(rng), 1);

  auto p = make_lengths("impl: pmf\nvalues: [10, 20, 30]\nweights: [1, 0, 3]\n");
  std::map<int, int> counts;
  for (int i = 0; i < 40000; ++i) ++counts[p.dist->sample(rng)];
  EXPECT_EQ(counts.count(20), 0u);
  EXPECT_NEAR(counts[30] / 40000.0, 0.75, 0.02);
  EXPECT_DOUBLE_EQ(p.dist->mean(), 25.0);

  TempDir dir;
  const std::string csv =
      dir.write("l.csv", "num_prefill_tokens,num_decode_tokens\r\n5,1\r\n10,2\r\n");
  auto e =
      make_lengths("impl: empirical\npath: " + yaml_path(csv) + "\ncolumn: num_prefill_tokens\n");
  std::set<int> seen;
  for (int i = 0; i < 100; ++i) seen.insert(e.dist->sample(rng));
  EXPECT_EQ(seen, (std::set<int>{5, 10}));
  EXPECT_DOUBLE_EQ(e.dist->mean(), 7.5);
  const std::string jl = dir.write("l.jsonl", "{\"input_length\": 7}\n{\"input_length\": 9}\n");
  auto ej = make_lengths("impl: empirical\npath: " + yaml_path(jl) + "\ncolumn: input_length\n");
  EXPECT_DOUBLE_EQ(ej.dist->mean(), 8.0);
  const std::string bad = dir.write("b.csv", "a\n1\nx\n");
  try {
    make_lengths("impl: empirical\npath: " + yaml_path(bad) + "\ncolumn: a\n");
    FAIL();
  } catch (const InputError& err) {
    EXPECT_EQ(std::string(err.what()).rfind(bad + ":3: ", 0), 0u) << err.what();
  }
}

TEST(TraceGenerators, MultiClientWeightsAndOwnRates) {
  const auto reqs = read_all(
      "impl: multi_client\nnum_requests: 30000\nprefix_block_tokens: 0\narrival: {impl: poisson, "
      "rate_per_s: 40}\n"
      "clients:\n"
      "  - {weight: 3, prompt_tokens: 10, output_tokens: 1}\n"
      "  - {weight: 1, prompt_tokens: 20, output_tokens: 1}\n"
      "  - {id: 77, arrival: {impl: poisson, rate_per_s: 10}, prompt_tokens: 30, output_tokens: 1, "
      "priority: 2}\n");
  ASSERT_EQ(reqs.size(), 30000u);
  std::map<std::uint32_t, int> per;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    ++per[reqs[i].client_id];
    if (i) {
      ASSERT_GE(reqs[i].arrival_ns, reqs[i - 1].arrival_ns);
    }
    EXPECT_EQ(reqs[i].trace_id, i);
    EXPECT_TRUE(reqs[i].prefix_hashes.empty());
    if (reqs[i].client_id == 77) {
      EXPECT_EQ(reqs[i].priority, 2);
    }
    if (reqs[i].client_id == 1) {
      EXPECT_EQ(reqs[i].prompt_tokens, 20);
    }
  }
  const double span_s = ns_to_s(reqs.back().arrival_ns);
  EXPECT_NEAR(per[0] / span_s, 30.0, 30.0 * 0.04);
  EXPECT_NEAR(per[1] / span_s, 10.0, 10.0 * 0.06);
  EXPECT_NEAR(per[77] / span_s, 10.0, 10.0 * 0.06);
}

TEST(TraceGenerators, MultiClientSystemPromptsAndConversationsShareHashedPrefixes) {
  // One client, 160-token system prompt (10 blocks of 16), 3-turn conversations with no think time:
  // a conversation's turns come out back to back.
  const auto reqs = read_all(
      "impl: multi_client\nnum_requests: 300\nprefix_block_tokens: 16\n"
      "clients:\n"
      "  - {arrival: {impl: uniform, rate_per_s: 1}, prompt_tokens: 100, output_tokens: 50, "
      "system_prompt_tokens: 160, turns: 3}\n");
  ASSERT_EQ(reqs.size(), 300u);
  for (std::size_t i = 0; i < reqs.size(); i += 3) {
    const Request& t1 = reqs[i];
    const Request& t2 = reqs[i + 1];
    const Request& t3 = reqs[i + 2];
    EXPECT_EQ(t1.prompt_tokens, 260);
    EXPECT_EQ(t2.prompt_tokens, 260 + 50 + 100);
    EXPECT_EQ(t3.prompt_tokens, 410 + 50 + 100);
    EXPECT_EQ(t1.prefix_hashes.size(), 260u / 16);
    EXPECT_EQ(t3.prefix_hashes.size(), 560u / 16);
    EXPECT_EQ(t1.arrival_ns, t2.arrival_ns);
    // Turn k+1 extends turn k: every full block of turn k's prompt is a prefix of turn k+1's.
    for (std::size_t b = 0; b < t1.prefix_hashes.size(); ++b)
      EXPECT_EQ(t1.prefix_hashes[b], t2.prefix_hashes[b]);
    for (std::size_t b = 0; b < t2.prefix_hashes.size(); ++b)
      EXPECT_EQ(t2.prefix_hashes[b], t3.prefix_hashes[b]);
    // The system prompt (10 blocks) is shared across conversations; the rest is not.
    for (std::size_t b = 0; b < 10; ++b) EXPECT_EQ(t1.prefix_hashes[b], reqs[0].prefix_hashes[b]);
    if (i > 0) {
      EXPECT_NE(t1.prefix_hashes[10], reqs[0].prefix_hashes[10]);
      EXPECT_NE(t1.prefix_hashes[15], reqs[0].prefix_hashes[15]);
    }
  }
  TraceStatsBuilder b;
  for (const auto& r : reqs) b.add(r);
  const TraceStats s = b.finish();
  // Per conversation: 16 + 25 + 35 = 76 blocks; hits: 10 (system, except the very first) + 16 + 25.
  EXPECT_EQ(s.prefix_blocks, 100 * 76);
  EXPECT_EQ(s.prefix_hits, 100 * (10 + 16 + 25) - 10);
  // Two system prompts: conversations start with one of two first-block hashes.
  const auto two = read_all(
      "impl: multi_client\nnum_requests: 200\nclients:\n"
      "  - {arrival: {rate_per_s: 1}, prompt_tokens: 20, output_tokens: 5, system_prompt_tokens: "
      "64, num_system_prompts: 2}\n");
  std::set<std::uint64_t> first;
  for (const auto& r : two) first.insert(r.prefix_hashes.at(0));
  EXPECT_EQ(first.size(), 2u);
}

TEST(TraceGenerators, MultiClientThinkTimeAndDeterminism) {
  const std::string yaml =
      "impl: multi_client\nnum_requests: 2000\n"
      "clients:\n"
      "  - {arrival: {impl: gamma, rate_per_s: 2, cv: 2}, prompt_tokens: {impl: lognormal, mean: "
      "200}, output_tokens: 20,"
      " turns: {impl: uniform, min: 1, max: 4}, think_time_s: 5}\n";
  TraceContext a, b, c;
  a.seed = b.seed = 11;
  c.seed = 12;
  const auto ra = read_all(yaml, a), rb = read_all(yaml, b), rc = read_all(yaml, c);
  ASSERT_EQ(ra.size(), rb.size());
  bool differs = false;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ra[i].arrival_ns, rb[i].arrival_ns);
    EXPECT_EQ(ra[i].prompt_tokens, rb[i].prompt_tokens);
    EXPECT_EQ(ra[i].prefix_hashes, rb[i].prefix_hashes);
    if (i) {
      ASSERT_GE(ra[i].arrival_ns, ra[i - 1].arrival_ns);
    }
    differs = differs || ra[i].arrival_ns != rc[i].arrival_ns;
  }
  EXPECT_TRUE(differs);
  EXPECT_THROW(read_all("impl: multi_client\nclients: []\n"), ConfigError);
  EXPECT_THROW(read_all("impl: multi_client\nclients: [{prompt_tokens: 5}]\n"), ConfigError);
  EXPECT_THROW(read_all("impl: multi_client\narrival: {rate_per_s: 1}\nclients: [{weight: 1, "
                        "arrival: {rate_per_s: 1}}]\n"),
               ConfigError);
}

// A two-client ServeGen folder: client 1 has two 600 s windows (Gamma at 2 req/s, then idle) and
// length PMFs; client 2 has a Weibull window and no dataset.json (it uses the pooled PMFs).
std::string write_servegen(const TempDir& dir) {
  std::filesystem::create_directories(dir.file("sg"));
  dir.write("sg/chunk-1-trace.csv", "0,2,2.0,Gamma,0.25,2.0\r\n600,0,0,,0,0\r\n");
  dir.write("sg/chunk-1-dataset.json",
            "{\n  \"0\": {\n    \"input_tokens\": \"{10: 0.5, 20: 0.5}\",\n    \"output_tokens\": "
            "\"{5: 1.0}\"\n  },\n"
            "  \"21600\": {\"input_tokens\": \"{}\", \"output_tokens\": \"{}\"}\n}\n");
  dir.write("sg/chunk-2-trace.csv", "0,1,1.5,Weibull,0.7,1.0\r\n600,1,1,,0,0\r\n");
  return dir.file("sg");
}

TEST(TraceGenerators, ServeGenPerClientWindowsAndLengths) {
  TempDir dir;
  const std::string sg = write_servegen(dir);
  const auto reqs = read_all("impl: servegen\npath: " + yaml_path(sg) + "\nduration_s: 1200\n");
  std::map<std::uint32_t, int> first_window, second_window;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    const Request& r = reqs[i];
    if (i) {
      ASSERT_GE(r.arrival_ns, reqs[i - 1].arrival_ns);
    }
    ASSERT_TRUE(r.client_id == 1 || r.client_id == 2);
    EXPECT_TRUE(r.prompt_tokens == 10 || r.prompt_tokens == 20) << r.prompt_tokens;
    EXPECT_EQ(r.output_tokens, 5);
    (r.arrival_ns < s_to_ns(600) ? first_window : second_window)[r.client_id]++;
  }
  EXPECT_NEAR(first_window[1], 1200, 1200 * 0.2);  // 2 req/s, bursty (cv 2)
  EXPECT_NEAR(first_window[2], 600, 600 * 0.15);
  EXPECT_EQ(second_window[1], 0);
  EXPECT_NEAR(second_window[2], 600, 600 * 0.15);
  // A subset of clients, a window of the trace, a rate scale.
  const auto sub = read_all("impl: servegen\npath: " + yaml_path(sg) +
                            "\nclients: [2]\nstart_s: 600\nduration_s: 600\nrate_scale: 2\n");
  for (const auto& r : sub) EXPECT_EQ(r.client_id, 2u);
  EXPECT_NEAR(static_cast<double>(sub.size()), 1200, 1200 * 0.1);
  EXPECT_THROW(read_all("impl: servegen\npath: " + yaml_path(sg) + "\nclients: [9]\n"),
               ConfigError);
  // Bad aggregates stop with FILE:LINE.
  dir.write("sg/chunk-3-trace.csv", "0,1,1,Gamma,0.5,1\n600,abc,1,,0,0\n");
  const std::string err = testing::read_error("impl: servegen\npath: " + yaml_path(sg) + "\n");
  EXPECT_TRUE(testing::is_file_line_error(err, sg + "/chunk-3-trace.csv")) << err;
  EXPECT_NE(err.find(":2: rate_rps: expected a number"), std::string::npos) << err;
}

}  // namespace
}  // namespace servesim
