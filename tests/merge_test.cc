// tests/merge_test.cc — `servesim merge` and the placement search's use of it: runs copied with
// new ids and every row that carries run_id, sources recorded, run_id indexes once a file holds
// several runs, a second merge with --resume adds nothing, a database of another schema is refused
// and leaves the output as it was.
#include "sim/metrics/merge.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "sim/metrics/sqlite_sink.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::query;
using testing::run_cli;
using testing::TempDir;

TEST(Merge, CopiesRunsWithNewIdsAndRecordsSources) {
  TempDir dir;
  const std::string a = dir.file("a.db"), b = dir.file("b.db"), out = dir.file("out.db");
  const std::string args = " --quiet --reproducible --set workload.num_requests=40";
  ASSERT_EQ(run_cli("run scenarios/quickstart.yaml -o '" + a + "'" + args + " --seed 1").exit_code,
            0);
  ASSERT_EQ(run_cli("run scenarios/quickstart.yaml -o '" + a + "'" + args + " --seed 2").exit_code,
            0);
  ASSERT_EQ(run_cli("run scenarios/quickstart.yaml -o '" + b + "'" + args + " --seed 3").exit_code,
            0);
  ASSERT_EQ(
      run_cli("run scenarios/quickstart.yaml -o '" + out + "'" + args + " --seed 4").exit_code, 0);
  // The run_id indexes exist once a file holds a second run (a file of one run needs none).
  const std::string indexes =
      "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE '%\\_run' ESCAPE '\\'";
  EXPECT_EQ(query(b, indexes), "0\n");
  EXPECT_EQ(query(out, indexes), "0\n");
  EXPECT_EQ(query(a, indexes), "6\n");
  const auto r = run_cli("merge '" + out + "' '" + a + "' '" + b + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(query(out, indexes), "6\n") << "merge made the file one of several runs";
  EXPECT_NE(r.output.find("merged 3 run(s)"), std::string::npos);
  EXPECT_EQ(query(out, "SELECT run_id, seed FROM runs ORDER BY run_id"),
            "1\t4\n2\t1\n3\t2\n4\t3\n");
  EXPECT_EQ(query(out, "SELECT run_id, source_run_id FROM run_sources ORDER BY run_id"),
            "2\t1\n3\t2\n4\t1\n");
  // Every table's rows came along, with the new run id.
  for (const char* table : {"requests", "iterations", "summary", "instances", "run_params"}) {
    EXPECT_EQ(query(out, std::string("SELECT count(*) FROM ") + table + " WHERE run_id = 4"),
              query(b, std::string("SELECT count(*) FROM ") + table + " WHERE run_id = 1"))
        << table;
  }
  EXPECT_EQ(query(out, "SELECT * FROM requests WHERE run_id = 3 ORDER BY request_id"), [&] {
    std::string rows = query(a, "SELECT * FROM requests WHERE run_id = 2 ORDER BY request_id");
    std::string fixed;
    for (std::size_t pos = 0; pos < rows.size();) {  // run_id 2 → 3 at the start of each row
      const std::size_t end = rows.find('\n', pos);
      fixed += "3" + rows.substr(pos + 1, end - pos - 1) + "\n";
      pos = end + 1;
    }
    return fixed;
  }());
  // Again with --resume: nothing new.
  EXPECT_NE(run_cli("merge --resume '" + out + "' '" + a + "' '" + b + "'")
                .output.find("merged 0 run(s)"),
            std::string::npos);
}

TEST(Merge, ADatabaseOfAnotherVersionIsRefusedAndTheOutputIsUntouched) {
  TempDir dir;
  const std::string a = dir.file("a.db"), old = dir.file("old.db"), out = dir.file("out.db");
  ASSERT_EQ(
      run_cli("run scenarios/quickstart.yaml -o '" + a + "' --quiet --set workload.num_requests=20")
          .exit_code,
      0);
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(old.c_str(), &h), SQLITE_OK);
  sqlite3_exec(h, "CREATE TABLE runs (run_id INTEGER); PRAGMA user_version = 2;", nullptr, nullptr,
               nullptr);
  sqlite3_close(h);
  EXPECT_THROW(merge_results(out, {a, old}), OutputError);
  EXPECT_EQ(query(out, "SELECT count(*) FROM runs"), "0\n")
      << "the run from a.db was rolled back with the rest";
  const auto r = run_cli("merge '" + out + "' '" + old + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("has results schema version 2"), std::string::npos) << r.output;
  EXPECT_EQ(run_cli("merge '" + out + "'").exit_code, 2);
  EXPECT_EQ(run_cli("merge '" + out + "' '" + out + "'").exit_code, 2);
}

TEST(Place, SmallSearchReportsBothKindsAndStoresEveryRun) {
  TempDir dir;
  const std::string db = dir.file("p.db");
  const std::string yaml =
      dir.write("s.yaml",
                "workload:\n  num_requests: 60\n  arrival: {impl: poisson, rate_per_s: 4}\n"
                "  prompt_tokens: {impl: uniform, min: 50, max: 800}\n"
                "  output_tokens: {impl: uniform, min: 20, max: 200}\n"
                "cluster: {hardware: h100-sxm, model: llama-3-8b, max_model_len: 4096}\n");
  const auto r = run_cli(
      "place '" + yaml +
      "' --slo 'ttft_s<=0.5' --slo 'tpot_s<=0.05' --max-gpus 2 --max-pp 1 -j 2 -o '" + db + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("best disaggregated: prefill TPxPP 1x1 + decode 1x1"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("best colocated (vllm)"), std::string::npos) << r.output;
  // Candidates: colocated 1x1, 2x1; disaggregated 1x1 + 1x1. Every sampled run is stored.
  EXPECT_EQ(query(db, "SELECT count(DISTINCT value) FROM run_params WHERE key = 'cluster'"), "3\n");
  EXPECT_EQ(query(db, "SELECT count(*) = (SELECT count(*) FROM run_sources) FROM runs"), "1\n");
}

}  // namespace
}  // namespace servesim
