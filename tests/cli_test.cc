// tests/cli_test.cc — the command line: help and version, exit codes, and bad input. Every bad
// input exits 2 with a message naming the problem (file, line, key) and writes no rows.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::query;
using testing::run_cli;
using testing::TempDir;

using testing::contains;

TEST(Cli, HelpAndVersion) {
  for (const char* cmd : {"--help", "run --help", "list --help"}) {
    const auto r = run_cli(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "servesim")) << cmd;
  }
  const auto v = run_cli("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_TRUE(contains(v.output, "servesim 0.")) << v.output;
  EXPECT_EQ(run_cli("").exit_code, 2);
  EXPECT_EQ(run_cli("frobnicate").exit_code, 2);
  EXPECT_EQ(run_cli("run --no-such-flag x.yaml").exit_code, 2);
  EXPECT_EQ(run_cli("run").exit_code, 2);
}

TEST(Cli, ListShowsRegisteredKindsAndCatalogs) {
  const auto batchers = run_cli("list batchers");
  EXPECT_EQ(batchers.exit_code, 0);
  EXPECT_TRUE(contains(batchers.output, "vllm"));
  EXPECT_TRUE(contains(run_cli("list routers").output, "least_loaded"));
  EXPECT_TRUE(contains(run_cli("list cost-models").output, "roofline"));
  EXPECT_TRUE(contains(run_cli("list hardware").output, "h100-sxm"));
  EXPECT_TRUE(contains(run_cli("list models").output, "llama-3-8b"));
  const auto bad = run_cli("list gizmos");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.output, "valid kinds are")) << bad.output;
}

struct BadCase {
  const char* name;
  const char* yaml;
  const char* expect;  // substring of the error
};

TEST(Cli, BadScenariosExitTwoNameTheProblemAndWriteNothing) {
  const BadCase cases[] = {
      {"malformed", "name: x\nworkload: {impl: synthetic\n", "bad.yaml:"},
      {"unknown_key",
       "name: x\nworkload:\n  impl: synthetic\n  arrival: {impl: poisson, rate_per_s: 1}\n  "
       "num_request: 5\n",
       "bad.yaml:5: workload.num_request: unknown key (did you mean 'num_requests'?)"},
      {"negative_rate", "workload:\n  arrival: {impl: poisson, rate_per_s: -5}\n",
       "bad.yaml:2: workload.arrival.rate_per_s: must be > 0 (got -5)"},
      {"unknown_policy",
       "workload: {arrival: {rate_per_s: 1}}\npolicies:\n  batcher: {impl: fifo-magic}\n",
       "bad.yaml:3: policies.batcher.impl: unknown batcher 'fifo-magic'; valid values are: "},
      {"unknown_model", "workload: {arrival: {rate_per_s: 1}}\ncluster: {model: llama-9-9000b}\n",
       "bad.yaml:2: cluster.model: unknown model 'llama-9-9000b'"},
      {"does_not_fit",
       "workload: {arrival: {rate_per_s: 1}}\ncluster: {model: llama-3-70b, hardware: h100-sxm}\n",
       "weights per device"},
      {"wrong_type", "workload: {arrival: {rate_per_s: 1}}\ncluster: {instances: many}\n",
       "bad.yaml:2: cluster.instances: expected an integer, got 'many'"},
      {"missing_required", "workload: {arrival: {impl: poisson}}\n",
       "bad.yaml:1: workload.arrival.rate_per_s: required key is missing"},
  };
  for (const auto& c : cases) {
    TempDir dir;
    const std::string scen = dir.write("bad.yaml", c.yaml);
    const std::string db = dir.file("out.db");
    const auto r = run_cli("run '" + scen + "' -o '" + db + "' --quiet");
    EXPECT_EQ(r.exit_code, 2) << c.name << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, c.expect)) << c.name << ": expected '" << c.expect << "' in:\n"
                                              << r.output;
    EXPECT_FALSE(std::filesystem::exists(db))
        << c.name << ": a rejected scenario must not create the database";
  }
}

TEST(Cli, MissingScenarioFileAndBadSetExitTwo) {
  const auto r = run_cli("run /nonexistent/scenario.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.output, "/nonexistent/scenario.yaml: cannot open")) << r.output;
  const auto s =
      run_cli("run scenarios/quickstart.yaml --set workload.arrival.rate_per_s=-1 --quiet");
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_TRUE(contains(s.output, "--set workload.arrival.rate_per_s: must be > 0")) << s.output;
  const auto t = run_cli("run scenarios/quickstart.yaml --set workload.typo=1 --quiet");
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_TRUE(contains(t.output, "--set workload.typo: unknown key")) << t.output;
}

TEST(Cli, UnwritableOutputExitsTwoAndKeepsExistingRuns) {
  TempDir dir;
  const std::string blocker = dir.write("file", "not a directory");
  const auto r =
      run_cli("run scenarios/quickstart.yaml --quiet --set workload.num_requests=5 -o '" + blocker +
              "/x.db'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(contains(r.output, "cannot open results database")) << r.output;
  // A file that is not a database is refused, and left as it was.
  const std::string notdb =
      dir.write("notes.db", "just some text, not SQLite, long enough to have a header......");
  const auto n = run_cli(
      "run scenarios/quickstart.yaml --quiet --set workload.num_requests=5 -o '" + notdb + "'");
  EXPECT_EQ(n.exit_code, 2) << n.output;
  EXPECT_EQ(testing::read_file(notdb),
            "just some text, not SQLite, long enough to have a header......");
}

TEST(Cli, QuickstartPrintsSummaryAndDatabasePath) {
  TempDir dir;
  const std::string db = dir.file("q.db");
  const auto r =
      run_cli("run scenarios/quickstart.yaml --set workload.num_requests=100 -o '" + db + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "TTFT")) << r.output;
  EXPECT_TRUE(contains(r.output, "results: " + db + " (run_id 1)")) << r.output;
  EXPECT_EQ(query(db, "SELECT value FROM summary WHERE metric = 'requests_completed'"), "100\n");
}

TEST(Cli, PrintConfigShowsEveryDefault) {
  const auto r = run_cli("run scenarios/quickstart.yaml --print-config");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* key :
       {"max_num_batched_tokens: 8192", "watermark: 0.01", "gemm_compute_efficiency: 0.75",
        "activation_reserve_gib: 2", "check_invariants: true"}) {
    EXPECT_TRUE(contains(r.output, key)) << key << " missing from:\n" << r.output;
  }
}

}  // namespace
}  // namespace servesim
