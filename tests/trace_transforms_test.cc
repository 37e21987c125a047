// tests/trace_transforms_test.cc — the workload transforms (scale_rate, time_window, first_n,
// sample, truncate) as decorators over an inline workload: what each changes, that they chain
// in list order, keep arrival order, and that truncate counts and reports what it cut or dropped
// and takes the model's context from the TraceContext when not given.
#include <gtest/gtest.h>

#include "tests/trace_test_util.h"

namespace servesim {
namespace {

using testing::capture_notes;
using testing::read_all;

const char* kInline =
    "impl: inline\n"
    "arrival_s: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
    "prompt_tokens: [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]\n"
    "output_tokens: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]\n";

std::string with(const std::string& transforms) {
  return std::string(kInline) + "transforms: " + transforms + "\n";
}

TEST(TraceTransforms, ScaleRateDividesArrivalTimes) {
  const auto r = read_all(with("[{impl: scale_rate, factor: 4}]"));
  ASSERT_EQ(r.size(), 10u);
  EXPECT_EQ(r[1].arrival_ns, 250'000'000);
  EXPECT_EQ(r[9].arrival_ns, 2'250'000'000);
  EXPECT_EQ(r[9].prompt_tokens, 1000);
}

TEST(TraceTransforms, TimeWindowAndFirstNChainInOrder) {
  auto r = read_all(with("[{impl: time_window, start_s: 2, end_s: 6}]"));
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].arrival_ns, 0);
  EXPECT_EQ(r[0].prompt_tokens, 300);
  EXPECT_EQ(r[3].prompt_tokens, 600);
  r = read_all(with("[{impl: time_window, start_s: 2, rebase: false}]"));
  ASSERT_EQ(r.size(), 8u);
  EXPECT_EQ(r[0].arrival_ns, 2 * kNsPerSecond);
  // Order matters: window then first 2, versus first 2 then window.
  r = read_all(with("[{impl: time_window, start_s: 5}, {impl: first_n, n: 2}]"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].prompt_tokens, 700);
  r = read_all(with("[{impl: first_n, n: 2}, {impl: time_window, start_s: 5}]"));
  EXPECT_TRUE(r.empty());
  EXPECT_THROW(read_all(with("[{impl: time_window, start_s: 5, end_s: 4}]")), ConfigError);
  EXPECT_THROW(read_all(with("[{impl: no_such_transform}]")), ConfigError);
  EXPECT_THROW(read_all(with("[{n: 3}]")), ConfigError);
}

TEST(TraceTransforms, SampleKeepsAFractionReproducibly) {
  std::string yaml =
      "impl: synthetic\nnum_requests: 20000\narrival: {rate_per_s: 100}\ntransforms: [{impl: "
      "sample, fraction: 0.25}]\n";
  TraceContext ctx;
  ctx.seed = 3;
  const auto a = read_all(yaml, ctx);
  const auto b = read_all(yaml, ctx);
  EXPECT_NEAR(static_cast<double>(a.size()), 5000, 5000 * 0.05);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].trace_id, b[i].trace_id);
}

TEST(TraceTransforms, TruncateCutsOrDropsAndReports) {
  std::vector<std::string> notes;
  auto r = read_all(with("[{impl: truncate, max_context_tokens: 510}]"), capture_notes(notes));
  ASSERT_EQ(r.size(), 10u);
  EXPECT_EQ(r[4].prompt_tokens, 500);  // 500 + 10 fits exactly
  EXPECT_EQ(r[5].prompt_tokens, 500);  // cut to 510 − 10
  EXPECT_EQ(r[9].output_tokens, 10);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0],
            "truncate: 5 of 10 requests exceeded 510 tokens and were cut (1500 prompt and 0 output "
            "tokens removed)");
  notes.clear();
  r = read_all(with("[{impl: truncate, max_context_tokens: 510, action: drop}]"),
               capture_notes(notes));
  EXPECT_EQ(r.size(), 5u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("5 of 10 requests exceeded 510 tokens and were dropped"),
            std::string::npos);
  // Without max_context_tokens the model's context from the TraceContext applies; output is cut
  // only when it alone does not fit; prefix hashes of blocks past the cut are dropped.
  notes.clear();
  TraceContext ctx = capture_notes(notes);
  ctx.max_context_tokens = 8;
  r = read_all(
      "impl: inline\narrival_s: [0]\nprompt_tokens: [40]\noutput_tokens: [20]\nprefix_group: "
      "[1]\nshared_prefix_tokens: [40]\n"
      "transforms: [{impl: truncate}]\n",
      ctx);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].output_tokens, 7);
  EXPECT_EQ(r[0].prompt_tokens, 1);
  EXPECT_TRUE(r[0].prefix_hashes.empty());
  // Without any context the transform refuses to guess.
  EXPECT_THROW(read_all(with("[{impl: truncate}]")), ConfigError);
}

TEST(TraceTransforms, TruncateKeepsTheHashesOfWholeBlocks) {
  std::vector<std::string> notes;
  const auto r = read_all(
      "impl: multi_client\nnum_requests: 1\nprefix_block_tokens: 16\n"
      "clients: [{arrival: {rate_per_s: 1}, prompt_tokens: 100, output_tokens: 10}]\n"
      "transforms: [{impl: truncate, max_context_tokens: 60}]\n",
      capture_notes(notes));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].prompt_tokens, 50);
  EXPECT_EQ(r[0].prefix_hashes.size(), 3u);  // floor(50 / 16)
}

}  // namespace
}  // namespace servesim

namespace servesim {
namespace {

TEST(TraceTransforms, AssignClientsKeepsSharedBeginningsTogether) {
  // Groups 1..3 share their first 256 tokens; requests without a group draw a random client.
  const std::string yaml =
      "impl: inline\narrival_s: [0, 1, 2, 3, 4, 5, 6, 7]\n"
      "prompt_tokens: [400, 400, 400, 400, 400, 400, 400, 400]\n"
      "output_tokens: [1, 1, 1, 1, 1, 1, 1, 1]\n"
      "prefix_group: [1, 2, 3, 1, 2, 3, 1, 0]\nshared_prefix_tokens: [256, 256, 256, 256, 256, "
      "256, 256, 0]\n"
      "transforms: [{impl: assign_clients, clients: 5}]\n";
  const auto r = read_all(yaml);
  ASSERT_EQ(r.size(), 8u);
  for (const Request& q : r) EXPECT_LT(q.client_id, 5u);
  EXPECT_EQ(r[0].client_id, r[3].client_id);
  EXPECT_EQ(r[0].client_id, r[6].client_id);
  EXPECT_EQ(r[1].client_id, r[4].client_id);
  EXPECT_EQ(r[2].client_id, r[5].client_id);
  // Random: uniform over the ids, reproducible.
  const std::string random =
      "impl: synthetic\nnum_requests: 4000\narrival: {rate_per_s: 100}\n"
      "transforms: [{impl: assign_clients, clients: 4, by: random}]\n";
  const auto a = read_all(random), b = read_all(random);
  std::vector<int> count(4, 0);
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_LT(a[i].client_id, 4u);
    ++count[a[i].client_id];
    EXPECT_EQ(a[i].client_id, b[i].client_id);
  }
  for (int c : count) EXPECT_NEAR(c, 1000, 150);
  EXPECT_THROW(read_all("impl: synthetic\nnum_requests: 4\narrival: {rate_per_s: 1}\n"
                        "transforms: [{impl: assign_clients, clients: 0}]\n"),
               ConfigError);
}

}  // namespace
}  // namespace servesim

namespace servesim {
namespace {

TEST(TraceTransforms, MaxOutputSetsTheLimitSchedulersSee) {
  const std::string base =
      "impl: inline\narrival_s: [0, 1]\nprompt_tokens: [10, 10]\noutput_tokens: [50, 500]\n";
  auto r = read_all(base + "transforms: [{impl: max_output, exact: true}]\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].max_output_tokens, 50);
  EXPECT_EQ(r[1].max_output_tokens, 500);
  r = read_all(base + "transforms: [{impl: max_output, tokens: 100}]\n");
  EXPECT_EQ(r[0].max_output_tokens, 100);
  EXPECT_EQ(r[0].output_tokens, 50);
  EXPECT_EQ(r[1].output_tokens, 100) << "an answer stops at the limit";
  EXPECT_THROW(read_all(base + "transforms: [{impl: max_output}]\n"), ConfigError);
  EXPECT_THROW(read_all(base + "transforms: [{impl: max_output, tokens: 5, exact: true}]\n"),
               ConfigError);
}

}  // namespace
}  // namespace servesim
