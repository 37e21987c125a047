// tests/trace_real_data_test.cc — the readers on the real traces in ../shared/data (each test is
// skipped, saying so, when the folder is absent): request counts, Mooncake's hash_ids invariant
// and prefix reuse against an independent count, VTC's 27 clients, Azure vs its Vidur-processed
// copy, ServeGen folders, and the two trace scenarios end to end (cut to their first requests).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "sim/scenario/runner.h"
#include "tests/test_util.h"
#include "tests/trace_test_util.h"
#include "traces/stats.h"

namespace servesim {
namespace {

using testing::read_all;
using testing::run_cli;
using testing::yaml_path;

// The data folder as the CLI and scenarios see it from the source root.
std::string data_dir() {
  const std::string d = default_data_dir();
  return d.empty() || d[0] == '/' ? d : std::string(SERVESIM_SOURCE_DIR) + "/" + d;
}

std::string trace_file(const std::string& rel) { return data_dir() + "/traces/" + rel; }

#define REQUIRE_DATA(rel)                                                                       \
  if (!std::filesystem::exists(trace_file(rel))) {                                              \
    GTEST_SKIP() << "shared data not found: " << trace_file(rel) << " (set SERVESIM_DATA_DIR)"; \
  }

std::vector<Request> read_trace(const std::string& impl, const std::string& rel,
                                const std::string& extra = "") {
  return read_all("impl: " + impl + "\npath: " + yaml_path(trace_file(rel)) + "\n" + extra);
}

TEST(TraceRealData, AzureAndVidurCopiesAgree) {
  REQUIRE_DATA("azure_llm_2023/AzureLLMInferenceTrace_conv.csv");
  const auto conv = read_trace("azure", "azure_llm_2023/AzureLLMInferenceTrace_conv.csv");
  EXPECT_EQ(conv.size(), 19366u);
  EXPECT_EQ(read_trace("azure", "azure_llm_2023/AzureLLMInferenceTrace_code.csv").size(), 8819u);
  REQUIRE_DATA("vidur/splitwise_conv.csv");
  const auto vidur = read_trace("vidur", "vidur/splitwise_conv.csv");
  ASSERT_EQ(vidur.size(), conv.size());
  for (std::size_t i = 0; i < conv.size(); ++i) {
    ASSERT_EQ(vidur[i].prompt_tokens, conv[i].prompt_tokens) << i;
    ASSERT_EQ(vidur[i].output_tokens, conv[i].output_tokens) << i;
    ASSERT_LE(std::llabs(vidur[i].arrival_ns - conv[i].arrival_ns), 1000)
        << i;  // µs vs 100 ns precision
  }
}

TEST(TraceRealData, MooncakeHashIdsCoverEveryBlock) {
  REQUIRE_DATA("mooncake_fast25/conversation_trace.jsonl");
  const auto conv = read_trace("mooncake", "mooncake_fast25/conversation_trace.jsonl");
  ASSERT_EQ(conv.size(), 12031u);
  for (const auto& r : conv) {
    ASSERT_EQ(r.prefix_block_tokens, 512);
    ASSERT_EQ(static_cast<std::int64_t>(r.prefix_hashes.size()), (r.prompt_tokens + 511) / 512)
        << r.trace_id;
  }
  EXPECT_EQ(read_trace("mooncake", "mooncake_fast25/synthetic_trace.jsonl").size(), 3993u);
}

// Prefix reuse from `trace stats` equals a count made here with an independent JSON parser.
TEST(TraceRealData, MooncakePrefixReuseMatchesAnIndependentCount) {
  REQUIRE_DATA("mooncake_fast25/conversation_trace.jsonl");
  const std::string path = trace_file("mooncake_fast25/conversation_trace.jsonl");
  std::ifstream in(path);
  std::string line;
  std::unordered_set<std::uint64_t> seen;
  std::int64_t blocks = 0, hits = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    bool prefix = true;
    for (const auto& h : j["hash_ids"]) {
      const bool was = !seen.insert(h.get<std::uint64_t>()).second;
      if (prefix && was) {
        ++hits;
      } else {
        prefix = false;
      }
      ++blocks;
    }
  }
  EXPECT_EQ(blocks, 288500);
  EXPECT_EQ(seen.size(), 182790u);
  const auto r = run_cli("trace stats '" + path + "' --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto s = nlohmann::json::parse(r.output.substr(r.output.rfind("{\"requests\"")));
  EXPECT_EQ(s["prefix_blocks"].get<std::int64_t>(), blocks);
  EXPECT_EQ(s["prefix_hits"].get<std::int64_t>(), hits);
  EXPECT_EQ(s["prefix_distinct"].get<std::int64_t>(), 182790);
  EXPECT_NEAR(s["prefix_reuse"].get<double>(), 0.366, 0.0005);
  EXPECT_EQ(s["requests"], 12031);
}

TEST(TraceRealData, VtcHas27Clients) {
  REQUIRE_DATA("vtc_lmsys_real/VTC/all_results_real.jsonl");
  const auto reqs = read_trace("vtc", "vtc_lmsys_real/VTC/all_results_real.jsonl");
  ASSERT_EQ(reqs.size(), 1500u);
  std::map<std::uint32_t, int> per;
  for (const auto& r : reqs) ++per[r.client_id];
  EXPECT_EQ(per.size(), 27u);
  std::vector<int> counts;
  for (const auto& [c, n] : per) counts.push_back(n);
  std::sort(counts.rbegin(), counts.rend());
  EXPECT_EQ(counts[0], 296);
  EXPECT_EQ(counts[1], 262);
  EXPECT_EQ(counts[2], 199);
  EXPECT_LE(reqs.back().arrival_ns, 600 * kNsPerSecond);
}

TEST(TraceRealData, LengthOnlyTracesAndServeGen) {
  REQUIRE_DATA("sharegpt/sharegpt_val_10k_llama2.csv");
  EXPECT_EQ(read_trace("lengths_csv", "sharegpt/sharegpt_val_10k_llama2.csv",
                       "arrival: {rate_per_s: 5}\n")
                .size(),
            10000u);
  EXPECT_EQ(
      read_trace("lengths_csv", "vidur/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv",
                 "arrival: {rate_per_s: 5}\n")
          .size(),
      28257u);
  REQUIRE_DATA("servegen/reason/deepseek-r1");
  const auto sg = read_trace("servegen", "servegen/reason/deepseek-r1", "duration_s: 600\n");
  std::set<std::uint32_t> clients;
  for (const auto& r : sg) clients.insert(r.client_id);
  EXPECT_GT(sg.size(), 1000u);
  EXPECT_GT(clients.size(), 5u);
}

TEST(TraceRealData, TraceScenariosRunEndToEnd) {
  REQUIRE_DATA("mooncake_fast25/conversation_trace.jsonl");
  REQUIRE_DATA("azure_llm_2023/AzureLLMInferenceTrace_conv.csv");
  testing::TempDir dir;
  for (const char* name : {"azure-conv", "mooncake-conv"}) {
    const std::string db = dir.file(std::string(name) + ".db");
    const auto r = run_cli(std::string("run scenarios/") + name + ".yaml -o '" + db +
                           "' --quiet --set 'workload.transforms=[{impl: first_n, n: 300}]'");
    ASSERT_EQ(r.exit_code, 0) << name << "\n" << r.output;
    EXPECT_EQ(testing::query(db, "SELECT COUNT(*) FROM requests"), "300\n") << name;
  }
}

}  // namespace
}  // namespace servesim
