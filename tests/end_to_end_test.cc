// tests/end_to_end_test.cc — whole runs: determinism (identical rows; byte-identical files with
// --reproducible), the golden dump of the quickstart, several runs sharing a database, and
// rollback of a run that fails midway (no rows left behind).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sim/scenario/runner.h"
#include "tests/test_util.h"
#include "traces/trace_source.h"

namespace servesim {
namespace {

using testing::query;
using testing::run_cli;
using testing::TempDir;

const char* kRowsSql[] = {
    "SELECT * FROM requests ORDER BY request_id",
    "SELECT * FROM iterations ORDER BY instance_id, iteration",
    "SELECT * FROM summary ORDER BY metric",
};

TEST(EndToEnd, SameScenarioAndSeedGiveIdenticalRowsAndBytes) {
  TempDir dir;
  const std::string a = dir.file("a.db"), b = dir.file("b.db");
  const std::string args = " --quiet --reproducible --set workload.num_requests=300";
  ASSERT_EQ(run_cli("run scenarios/quickstart.yaml -o '" + a + "'" + args).exit_code, 0);
  ASSERT_EQ(run_cli("run scenarios/quickstart.yaml -o '" + b + "'" + args).exit_code, 0);
  for (const char* sql : kRowsSql) {
    const std::string ra = query(a, sql);
    EXPECT_GT(ra.size(), 100u);
    EXPECT_EQ(ra, query(b, sql)) << sql;
  }
  EXPECT_TRUE(testing::read_file(a) == testing::read_file(b))
      << "database files differ byte for byte";
  // A different seed changes the rows.
  const std::string c = dir.file("c.db");
  ASSERT_EQ(run_cli("run scenarios/quickstart.yaml -o '" + c + "'" + args + " --seed 7").exit_code,
            0);
  EXPECT_NE(query(a, kRowsSql[0]), query(c, kRowsSql[0]));
}

// The canonical text dump of the quickstart database, compared with tests/golden/quickstart.txt.
// Regenerate after an intended change with: SERVESIM_UPDATE_GOLDEN=1 ctest -R Golden
TEST(EndToEnd, GoldenQuickstartDump) {
  TempDir dir;
  const std::string db = dir.file("q.db");
  const auto r = run_cli("run scenarios/quickstart.yaml -o '" + db +
                         "' --quiet --reproducible --set workload.num_requests=200");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string dump =
      "# runs\n" + query(db, "SELECT run_id, scenario, seed, status FROM runs") + "# summary\n" +
      query(db, "SELECT metric, value FROM summary ORDER BY metric") + "# requests\n" +
      query(db,
            "SELECT request_id, arrival_s, prompt_tokens, output_tokens, instance_id, ttft_s, "
            "tpot_s, e2e_s, max_tbt_s, preemptions, status FROM requests ORDER BY request_id") +
      "# iterations (first 50)\n" +
      query(db,
            "SELECT instance_id, iteration, start_s, duration_s, prefill_tokens, decode_tokens, "
            "batch_size, kv_blocks_used FROM iterations ORDER BY instance_id, iteration LIMIT 50");
  const std::string golden_path = std::string(SERVESIM_SOURCE_DIR) + "/tests/golden/quickstart.txt";
  if (std::getenv("SERVESIM_UPDATE_GOLDEN")) {
    std::ofstream(golden_path, std::ios::binary) << dump;
    GTEST_SKIP() << "golden file rewritten: " << golden_path;
  }
  const std::string golden = testing::read_file(golden_path);
  ASSERT_FALSE(golden.empty()) << "missing " << golden_path
                               << " (run with SERVESIM_UPDATE_GOLDEN=1)";
  if (dump != golden) {
    // Report the first few differing lines, not two whole dumps.
    std::istringstream got(dump), want(golden);
    std::string g, w, report;
    int line = 0, shown = 0;
    while (shown < 5 && (std::getline(got, g) ? 1 : 0) + (std::getline(want, w) ? 1 : 0) > 0) {
      ++line;
      if (g != w) {
        report += "line " + std::to_string(line) + ":\n  got:  " + g + "\n  want: " + w + "\n";
        ++shown;
      }
      g.clear();
      w.clear();
    }
    ADD_FAILURE()
        << "the quickstart results changed (SERVESIM_UPDATE_GOLDEN=1 regenerates if intended):\n"
        << report;
  }
}

TEST(EndToEnd, RunsShareADatabase) {
  TempDir dir;
  const std::string db = dir.file("s.db");
  for (int seed : {1, 2}) {
    ASSERT_EQ(run_cli("run scenarios/quickstart.yaml -o '" + db +
                      "' --quiet --set workload.num_requests=50 --seed " + std::to_string(seed))
                  .exit_code,
              0);
  }
  EXPECT_EQ(query(db, "SELECT run_id, seed, status FROM runs ORDER BY run_id"),
            "1\t1\tok\n2\t2\tok\n");
  EXPECT_EQ(query(db, "SELECT run_id, count(*) FROM requests GROUP BY run_id"), "1\t50\n2\t50\n");
  const std::string yaml = query(db, "SELECT scenario_yaml FROM runs WHERE run_id = 2");
  EXPECT_NE(yaml.find("seed: 2"), std::string::npos);
  EXPECT_NE(yaml.find("gpu_memory_utilization: 0.9"), std::string::npos)
      << "resolved scenario must hold defaults";
}

// A workload that fails after `fail_after` requests, as a corrupt trace file would.
class FailingSource final : public TraceSource {
 public:
  FailingSource(ConfigNode& cfg, const TraceContext&)
      : fail_after_(cfg.get<std::int64_t>("fail_after", 10, "doc")) {}
  bool next(Request& out) override {
    if (n_ == fail_after_)
      throw InputError("failing.csv:" + std::to_string(n_ + 2) + ": corrupt row");
    out = Request{};
    out.arrival_ns = n_ * 100'000'000;
    out.prompt_tokens = 100;
    out.output_tokens = 10;
    ++n_;
    return true;
  }

 private:
  std::int64_t fail_after_;
  std::int64_t n_ = 0;
};
SERVESIM_REGISTER(TraceSource, FailingSource, "test_failing",
                  "test only: throws InputError after fail_after requests")

TEST(EndToEnd, FailedRunLeavesOnlyAFailedRunRowAndKeepsEarlierRuns) {
  TempDir dir;
  const std::string db = dir.file("f.db");
  ASSERT_EQ(run_cli("run scenarios/quickstart.yaml -o '" + db +
                    "' --quiet --set workload.num_requests=20")
                .exit_code,
            0);
  auto tree = testing::parse_yaml(
      "name: failing\nworkload: {impl: test_failing, fail_after: 30}\noutput: {path: '" + db +
      "'}\n");
  tree->apply_override("cluster.instances=3");
  RunOptions opt;
  opt.quiet = true;
  EXPECT_THROW(run_scenario(*tree, opt), InputError);
  EXPECT_EQ(query(db, "SELECT run_id, scenario, status, error FROM runs ORDER BY run_id"),
            "1\tquickstart\tok\tNULL\n2\tfailing\tfailed\tfailing.csv:32: corrupt row\n");
  EXPECT_EQ(query(db, "SELECT key, value FROM run_params WHERE run_id = 2"),
            "cluster.instances\t3\n")
      << "a failed run keeps what was varied, so a sweep can tell which variant failed";
  EXPECT_EQ(query(db, "SELECT count(*) FROM requests"), "20\n");
  for (const char* table : {"requests", "summary", "iterations", "instances"}) {
    EXPECT_EQ(query(db, std::string("SELECT count(*) FROM ") + table + " WHERE run_id = 2"), "0\n")
        << table;
  }
}

}  // namespace
}  // namespace servesim
