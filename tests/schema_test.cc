// tests/schema_test.cc — results schema v2 as users query it: run_params for what was varied,
// the instances table, summary scopes per pool and per client that add up to the run's, the
// instance_samples timeline, and the refusal of a database of another schema version.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "sim/metrics/sqlite_sink.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::query;
using testing::run_cli;
using testing::TempDir;

TEST(Schema, RunParamsHoldTheResolvedValueOfEveryOverride) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  ASSERT_EQ(run_cli("run scenarios/quickstart.yaml -o '" + db +
                    "' --quiet --seed 5 --set workload.num_requests=30 --set "
                    "'policies.batcher={impl: sarathi}'")
                .exit_code,
            0);
  EXPECT_EQ(query(db, "SELECT key, value FROM run_params ORDER BY key"),
            "policies.batcher\t{impl: sarathi, max_num_seqs: 128, watermark: 0.01, victim: newest, "
            "chunk_size: 512, "
            "enable_dynamic_chunking_schedule: false, low_chunk_size: 128, high_chunk_size: 2048, "
            "chunk_schedule_max_tokens: 131072, chunk_schedule_stages: 16}\n"
            "seed\t5\nworkload.num_requests\t30\n")
      << "resolved values, defaults filled in; output.path (-o) is not a parameter";
  ASSERT_EQ(run_cli("run scenarios/quickstart.yaml -o '" + db +
                    "' --quiet --set workload.num_requests=20")
                .exit_code,
            0);
  EXPECT_EQ(query(db, "SELECT run_id, count(*) FROM run_params GROUP BY run_id"), "1\t3\n2\t1\n");
}

TEST(Schema, SummaryScopesAddUpToTheRun) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  const std::string yaml =
      "seed: 3\nworkload:\n  num_requests: 400\n  clients: 3\n  arrival: {impl: poisson, "
      "rate_per_s: 20}\n"
      "  prompt_tokens: {impl: uniform, min: 16, max: 800}\n"
      "  output_tokens: {impl: uniform, min: 1, max: 200}\n"
      "cluster:\n  pools:\n    - {name: big, instances: 2}\n"
      "    - {name: small, instances: 1, hardware: a100-80g}\n"
      "policies: {router: {impl: least_loaded}}\nslo: {ttft_s: 0.5, tpot_s: 0.05}\n";
  testing::run_yaml(yaml, db);
  EXPECT_EQ(query(db, "SELECT DISTINCT scope FROM summary ORDER BY scope"),
            "client:0\nclient:1\nclient:2\npool:big\npool:small\nrun\n");
  auto sum = [&](const std::string& prefix, const std::string& metric) {
    return query(db, "SELECT CAST(sum(value) AS INTEGER) FROM summary WHERE scope LIKE '" + prefix +
                         "%' AND metric = '" + metric + "'");
  };
  for (const char* metric :
       {"requests_completed", "requests_arrived", "output_tokens", "preemptions"}) {
    EXPECT_EQ(sum("client:", metric), sum("run", metric)) << metric;
    EXPECT_EQ(sum("pool:", metric), sum("run", metric)) << metric;
  }
  for (const char* metric : {"iterations", "prefill_tokens"})
    EXPECT_EQ(sum("pool:", metric), sum("run", metric)) << metric;
  EXPECT_EQ(
      query(db, "SELECT count(*) FROM summary WHERE scope LIKE 'client:%' AND metric LIKE 'tbt%'"),
      "0\n")
      << "TBT gaps are shared by clients; no per-client TBT";
  // A client's TTFT median is the median of its own requests.
  EXPECT_EQ(
      query(
          db,
          "SELECT round(value, 9) FROM summary WHERE scope = 'client:1' AND metric = 'ttft_p50_s'"),
      query(db,
            "SELECT round(ttft_s, 9) FROM requests WHERE client_id = 1 ORDER BY ttft_s LIMIT 1 "
            "OFFSET "
            "(SELECT (count(*) - 1) / 2 FROM requests WHERE client_id = 1)"));
  EXPECT_EQ(query(db, "SELECT pool, count(*) FROM instances GROUP BY pool"), "big\t2\nsmall\t1\n");
}

TEST(Schema, OneClientAndOnePoolWriteOnlyTheRunScope) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  ASSERT_EQ(run_cli("run scenarios/quickstart.yaml -o '" + db +
                    "' --quiet --set workload.num_requests=30")
                .exit_code,
            0);
  EXPECT_EQ(query(db, "SELECT DISTINCT scope FROM summary"), "run\n");
}

TEST(Schema, ADatabaseOfAnotherVersionIsRefusedNotMixed) {
  TempDir dir;
  const std::string db = dir.file("old.db");
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  sqlite3_exec(h, "CREATE TABLE runs (run_id INTEGER); PRAGMA user_version = 1;", nullptr, nullptr,
               nullptr);
  sqlite3_close(h);
  const auto r = run_cli("run scenarios/quickstart.yaml -o '" + db +
                         "' --quiet --set workload.num_requests=10");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("has schema version 1; this servesim writes version " +
                          std::to_string(kResultsSchemaVersion)),
            std::string::npos)
      << r.output;
  EXPECT_EQ(query(db, "SELECT count(*) FROM sqlite_master"), "1\n")
      << "nothing was added to the old file";
}

TEST(Schema, InstanceSamplesFollowTheRun) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  ASSERT_EQ(run_cli("run scenarios/quickstart.yaml -o '" + db +
                    "' --quiet --set workload.num_requests=200 --set output.sample_every_s=2")
                .exit_code,
            0);
  // Two instances sampled every 2 s until the run ends; free + used never exceeds the pool.
  EXPECT_EQ(
      query(
          db,
          "SELECT count(DISTINCT instance_id), min(time_s), sum(free_kv_blocks > total_kv_blocks) "
          "FROM instance_samples"),
      "2\t2\t0\n");
  EXPECT_EQ(
      query(db,
            "SELECT max(time_s) <= (SELECT max(finish_s) FROM requests) + 2 FROM instance_samples"),
      "1\n");
  EXPECT_EQ(query(db, "SELECT count(*) FROM instance_samples WHERE running + waiting > 0"),
            query(db,
                  "SELECT count(*) FROM instance_samples WHERE running + waiting > 0 AND state = "
                  "'active'"));
}

}  // namespace
}  // namespace servesim

namespace servesim {
namespace {

// One H100 (700 W TDP, 90 W idle, 2.99 USD/h) runs a 10 ms prefill and four 5 ms decode steps,
// all kernel time under the polynomial model, and the run ends at 30 ms: energy = 0.03 s × 90 W
// (up) + 0.03 s × (700 − 90) W (busy) = 21 J; device-hours 0.03 / 3600; cost × 2.99.
TEST(Energy, HandComputedSingleRequest) {
  testing::TempDir dir;
  const std::string db = dir.file("r.db");
  testing::run_yaml(
      "workload: {impl: inline, arrival_s: [0], prompt_tokens: [100], output_tokens: [5]}\n"
      "cluster:\n" +
          std::string(testing::kFixedCostYaml),
      db);
  auto metric = [&](const char* m) {
    return std::stod(query(
        db, std::string("SELECT value FROM summary WHERE scope = 'run' AND metric = '") + m + "'"));
  };
  EXPECT_NEAR(metric("energy_j"), 21.0, 1e-9);
  EXPECT_NEAR(metric("device_hours"), 0.03 / 3600, 1e-12);
  EXPECT_NEAR(metric("cost_usd"), 0.03 / 3600 * 2.99, 1e-12);
  EXPECT_NEAR(metric("energy_per_request_j"), 21.0, 1e-9);
  EXPECT_NEAR(metric("tokens_per_joule"), 5.0 / 21.0, 1e-8);  // (query prints 9 digits)
  EXPECT_NEAR(metric("cost_per_1k_requests"), 1000 * 0.03 / 3600 * 2.99, 1e-9);
  // A pool's price can be overridden.
  const std::string db2 = dir.file("r2.db");
  testing::run_yaml(
      "workload: {impl: inline, arrival_s: [0], prompt_tokens: [100], output_tokens: [5]}\n"
      "cluster:\n  usd_per_hour: 10\n" +
          std::string(testing::kFixedCostYaml),
      db2);
  EXPECT_NEAR(std::stod(query(db2, "SELECT value FROM summary WHERE metric = 'cost_usd'")),
              0.03 / 3600 * 10, 1e-12);
}

}  // namespace
}  // namespace servesim
