// tests/trace_cli_test.cc — `servesim trace`: help, stats (table and --json), gen → read round
// trip (the JSONL written is read back unchanged), conversion of a trace, bad rows through the
// CLI (exit 2 with FILE:LINE for every reader; --skip-bad-rows reports the count), and a scenario
// replaying a generated file end to end.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/test_util.h"
#include "tests/trace_test_util.h"

namespace servesim {
namespace {

using testing::read_all;
using testing::run_cli;
using testing::TempDir;
using testing::yaml_path;

using testing::contains;

// The JSON object printed by `trace stats --json` (the last line of the output).
nlohmann::json stats_json(const std::string& args) {
  const auto r = run_cli("trace stats " + args + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::size_t at = r.output.rfind("{\"requests\"");
  if (at == std::string::npos) return nlohmann::json::object();
  return nlohmann::json::parse(r.output.substr(at));
}

TEST(TraceCli, Help) {
  for (const char* cmd : {"trace --help", "trace stats --help", "trace gen --help"}) {
    const auto r = run_cli(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "servesim trace")) << cmd;
  }
  EXPECT_EQ(run_cli("trace").exit_code, 2);
  EXPECT_EQ(run_cli("trace frob").exit_code, 2);
  EXPECT_EQ(run_cli("trace stats").exit_code, 2);
  EXPECT_EQ(run_cli("trace gen --set impl=synthetic").exit_code, 2);  // no -o
  const auto list = run_cli("list transforms");
  EXPECT_TRUE(contains(list.output, "scale_rate") && contains(list.output, "truncate"))
      << list.output;
  const auto workloads = run_cli("list workloads");
  for (const char* n : {"azure", "vidur", "lengths_csv", "mooncake", "vtc", "servegen", "csv",
                        "jsonl", "servesim_jsonl", "multi_client"}) {
    EXPECT_TRUE(contains(workloads.output, n)) << n;
  }
}

TEST(TraceCli, GenWritesJsonlThatReadsBackUnchanged) {
  TempDir dir;
  const std::string wl = dir.write(
      "wl.yaml",
      "impl: multi_client\nnum_requests: 500\nprefix_block_tokens: 16\n"
      "arrival: {impl: gamma, rate_per_s: 20, cv: 2}\n"
      "clients:\n"
      "  - {weight: 2, prompt_tokens: {impl: lognormal, mean: 300}, output_tokens: {impl: zipf, "
      "max: 400},"
      " system_prompt_tokens: 100, turns: {impl: uniform, min: 1, max: 3}, think_time_s: 2}\n"
      "  - {weight: 1, id: 9, priority: 1, prompt_tokens: 50, output_tokens: 5}\n");
  const std::string out = dir.file("out.jsonl");
  const auto r = run_cli("trace gen '" + wl + "' --seed 5 -o '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "wrote 500 requests")) << r.output;
  TraceContext ctx;
  ctx.seed = 5;
  const auto expected = read_all(testing::read_file(wl), ctx);
  const auto back = read_all("impl: servesim_jsonl\npath: " + yaml_path(out) + "\n");
  ASSERT_EQ(back.size(), expected.size());
  for (std::size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].arrival_ns, expected[i].arrival_ns) << i;
    EXPECT_EQ(back[i].trace_id, expected[i].trace_id);
    EXPECT_EQ(back[i].client_id, expected[i].client_id);
    EXPECT_EQ(back[i].priority, expected[i].priority);
    EXPECT_EQ(back[i].prompt_tokens, expected[i].prompt_tokens);
    EXPECT_EQ(back[i].output_tokens, expected[i].output_tokens);
    EXPECT_EQ(back[i].prefix_block_tokens, expected[i].prefix_block_tokens);
    EXPECT_EQ(back[i].prefix_hashes, expected[i].prefix_hashes);
  }
  // gen of the written file reproduces it byte for byte.
  const std::string again = dir.file("again.jsonl");
  ASSERT_EQ(run_cli("trace gen '" + out + "' -o '" + again + "'").exit_code, 0);
  EXPECT_EQ(testing::read_file(again), testing::read_file(out));
  // stats of the file and of the generator agree.
  const auto a = stats_json("'" + out + "'");
  const auto b = stats_json("'" + wl + "' --seed 5");
  EXPECT_EQ(a["requests"], 500);
  EXPECT_EQ(a["clients"], 2);
  EXPECT_EQ(a["prefix_hits"], b["prefix_hits"]);
  EXPECT_GT(a["prefix_reuse"].get<double>(), 0.1);
  EXPECT_DOUBLE_EQ(a["duration_s"].get<double>(), b["duration_s"].get<double>());
}

TEST(TraceCli, StatsOfAKnownTrace) {
  TempDir dir;
  const std::string p = dir.write(
      "v.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,1\n1,20,2\n3,30,3\n4,40,4\n");
  const auto j = stats_json("'" + p + "'");
  EXPECT_EQ(j["requests"], 4);
  EXPECT_DOUBLE_EQ(j["duration_s"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(j["mean_rate_per_s"].get<double>(), 0.75);
  // gaps 1, 2, 1: mean 4/3, population stddev sqrt(2/9)
  EXPECT_NEAR(j["interarrival_cv"].get<double>(), std::sqrt(2.0 / 9.0) / (4.0 / 3.0), 1e-9);
  EXPECT_DOUBLE_EQ(j["prompt_tokens"]["p50"].get<double>(), 25.0);
  EXPECT_EQ(j["prompt_tokens"]["max"], 40);
  EXPECT_DOUBLE_EQ(j["output_tokens"]["p90"].get<double>(), 3.7);
  const auto text =
      run_cli("trace stats '" + p + "' --set transforms='[{impl: scale_rate, factor: 2}]'");
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_TRUE(contains(text.output, "(vidur)")) << text.output;
  EXPECT_TRUE(contains(text.output, "1.5000 req/s")) << text.output;
  // Conversion keeps the requests.
  const std::string out = dir.file("v.jsonl");
  ASSERT_EQ(run_cli("trace gen '" + p + "' --format vidur -o '" + out + "'").exit_code, 0);
  EXPECT_EQ(stats_json("'" + out + "'")["requests"], 4);
}

// A JSONL file of unknown keys (shaped like the APEX LMSYS lengths: nanosecond offsets beyond
// 10^9, so reading them as seconds overflows): the error's suggested command works as given.
TEST(TraceCli, TheHintForAnUnknownJsonlFormatWorksAsGiven) {
  TempDir dir;
  const std::string p =
      dir.write("apex.jsonl",
                "{\"ContextTokens\": 156, \"GeneratedTokens\": 67, \"RequestID\": \"a\", "
                "\"StartTimeOffset\": 197890289}\n"
                "{\"ContextTokens\": 15, \"GeneratedTokens\": 390, \"RequestID\": \"b\", "
                "\"StartTimeOffset\": 13292362064}\n");
  const auto r = run_cli("trace stats '" + p + "'");
  ASSERT_EQ(r.exit_code, 2) << r.output;
  const std::size_t from = r.output.find("try ");
  const std::size_t to = r.output.find(" (the first object's keys");
  ASSERT_NE(from, std::string::npos) << r.output;
  ASSERT_NE(to, std::string::npos) << r.output;
  const std::string hint = r.output.substr(from + 4, to - from - 4);
  EXPECT_TRUE(contains(hint, "time_unit=ns")) << hint;
  const auto j = stats_json("'" + p + "' " + hint);
  EXPECT_EQ(j["requests"], 2);
  EXPECT_NEAR(j["duration_s"].get<double>(), 13.292362064 - 0.197890289, 1e-6);
}

TEST(TraceCli, BadRowsExitTwoWithFileLineForEveryReader) {
  struct Case {
    const char* format;
    const char* text;
    int line;
  };
  const Case cases[] = {
      {"azure",
       "TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:17:03.97,1,2\r\n2023-11-16 "
       "18:17:04,1,x\r\n",
       3},
      {"vidur", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,2\n1,1,-2\n", 3},
      {"lengths_csv", "num_prefill_tokens,num_decode_tokens\n1,2\n99999999999,2\n", 3},
      {"mooncake",
       "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 1, \"hash_ids\": "
       "[0]}\n{\"timestamp\": 1, \"input_length\": 5\n",
       2},
      {"servesim_jsonl",
       "{\"arrival_s\": 1, \"prompt_tokens\": 5, \"output_tokens\": 1}\n{\"arrival_s\": 0.5, "
       "\"prompt_tokens\": 5, \"output_tokens\": 1}\n",
       2},
      {"vtc",
       "{\"config\": {}, \"result\": {\"responses\": [\n{\"adapter_dir\": \"a\", \"prompt_len\": "
       "1, \"output_len\": 2, \"req_time\": 0},\n{\"adapter_dir\": \"b\", \"prompt_len\": \"x\", "
       "\"output_len\": 2, \"req_time\": 1}]}}\n",
       3},
  };
  for (const auto& c : cases) {
    TempDir dir;
    const std::string p = dir.write("bad.txt", c.text);
    const auto r = run_cli("trace stats '" + p + "' --format " + c.format);
    EXPECT_EQ(r.exit_code, 2) << c.format << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "input error: " + p + ":" + std::to_string(c.line) + ": "))
        << c.format << "\n"
        << r.output;
    const auto skip =
        run_cli("trace stats '" + p + "' --format " + c.format + " --skip-bad-rows --json");
    EXPECT_EQ(skip.exit_code, 0) << c.format << "\n" << skip.output;
    EXPECT_TRUE(contains(skip.output, "skipped 1 bad row")) << c.format << "\n" << skip.output;
  }
  TempDir dir;
  const std::string csv = dir.write("g.csv", "a,b,c\n1,2,3\n2,x,3\n");
  const auto g =
      run_cli("trace stats '" + csv +
              "' --format csv --set columns='{arrival: a, prompt_tokens: b, output_tokens: c}'");
  EXPECT_EQ(g.exit_code, 2) << g.output;
  EXPECT_TRUE(contains(g.output, csv + ":3: column 'b'")) << g.output;
  const std::string jl =
      dir.write("g.jsonl", "{\"a\": 1, \"b\": 2, \"c\": 3}\n{\"a\": 2, \"b\": 0, \"c\": 3}\n");
  const auto gj =
      run_cli("trace stats '" + jl +
              "' --format jsonl --set columns='{arrival: a, prompt_tokens: b, output_tokens: c}'");
  EXPECT_EQ(gj.exit_code, 2) << gj.output;
  EXPECT_TRUE(contains(gj.output, jl + ":2: field 'b'")) << gj.output;
  std::filesystem::create_directories(dir.file("sg"));
  dir.write("sg/chunk-0-trace.csv", "0,1,1,Gamma,1,1\n600,1,1,Pareto,1,1\n");
  const auto sg =
      run_cli("trace stats '" + dir.file("sg") + "' --set prompt_tokens=10 --set output_tokens=10");
  EXPECT_EQ(sg.exit_code, 2) << sg.output;
  EXPECT_TRUE(contains(sg.output, "chunk-0-trace.csv:2: arrival_dist")) << sg.output;
  // Undetectable format, missing file.
  const auto unknown = run_cli("trace stats '" + dir.write("u.csv", "x,y\n1,2\n") + "'");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.output, "--format")) << unknown.output;
  EXPECT_EQ(run_cli("trace stats '" + dir.file("missing.csv") + "' --format vidur").exit_code, 2);
}

TEST(TraceCli, ScenarioReplaysAGeneratedFile) {
  TempDir dir;
  const std::string out = dir.file("w.jsonl");
  ASSERT_EQ(
      run_cli(
          "trace gen --set impl=synthetic --set num_requests=50 --set arrival.rate_per_s=10 -o '" +
          out + "'")
          .exit_code,
      0);
  const std::string scen =
      dir.write("s.yaml", "workload: {impl: servesim_jsonl, path: " + yaml_path(out) +
                              ", transforms: [{impl: scale_rate, factor: 2}, {impl: truncate}]}\n");
  const std::string db = dir.file("r.db");
  const auto r = run_cli("run '" + scen + "' -o '" + db + "' --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(testing::query(db, "SELECT COUNT(*) FROM requests"), "50\n");
}

}  // namespace
}  // namespace servesim
