// tests/sweep_test.cc — `servesim sweep`: variant enumeration (grid, zip, seeds) exact, shards
// partition the variants, sweep files, parallel runs equal sequential ones, resume skips what is
// done, a failing variant is recorded and counted, bad specs exit 2 naming the problem; the
// report (tables equal SQL, PNGs rendered) and export commands.
#include "sim/scenario/sweep.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "sim/config/errors.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::query;
using testing::TempDir;

std::vector<std::string> labels(const std::vector<SweepVariant>& vs) {
  std::vector<std::string> out;
  for (const SweepVariant& v : vs) out.push_back(v.label());
  return out;
}

TEST(Sweep, GridIsCrossedFirstAxisSlowestZipPairedSeedsInnermost) {
  SweepSpec spec;
  spec.grid = {parse_axis("a=1,2", "--grid"), parse_axis("b=x,y,z", "--grid")};
  spec.zip = {parse_axis("c=10,20", "--zip"), parse_axis("d=p,q", "--zip")};
  spec.seeds = {"7", "8"};
  spec.fixed = {{"f", "0"}};
  const std::vector<SweepVariant> vs = enumerate_variants(spec);
  ASSERT_EQ(vs.size(), 2u * 3 * 2 * 2);
  EXPECT_EQ(vs[0].label(), "a=1 b=x c=10 d=p seed=7");
  EXPECT_EQ(vs[1].label(), "a=1 b=x c=10 d=p seed=8");
  EXPECT_EQ(vs[2].label(), "a=1 b=x c=20 d=q seed=7");
  EXPECT_EQ(vs[4].label(), "a=1 b=y c=10 d=p seed=7");
  EXPECT_EQ(vs[12].label(), "a=2 b=x c=10 d=p seed=7");
  EXPECT_EQ(vs[23].label(), "a=2 b=z c=20 d=q seed=8");
  for (std::size_t i = 0; i < vs.size(); ++i) {
    EXPECT_EQ(vs[i].index, i);
    EXPECT_EQ(vs[i].overrides.front(), (std::pair<std::string, std::string>{"f", "0"}));
    EXPECT_EQ(vs[i].overrides.size(), 6u);
  }
  const std::vector<std::string> all = labels(vs);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), vs.size()) << "all distinct";
}

TEST(Sweep, AxisValuesSplitOnlyOnTopLevelCommas) {
  const SweepAxis a =
      parse_axis("policies.router={impl: llumnix, mode: load},{impl: round_robin}", "--grid");
  EXPECT_EQ(a.key, "policies.router");
  EXPECT_EQ(a.values,
            (std::vector<std::string>{"{impl: llumnix, mode: load}", "{impl: round_robin}"}));
  EXPECT_EQ(parse_axis("w.priorities=[0, 1],[1]", "--grid").values.size(), 2u);
  EXPECT_EQ(parse_axis("k='a,b',c", "--grid").values.size(), 2u);
  EXPECT_THROW(parse_axis("k=1,,2", "--grid"), UsageError);
  EXPECT_THROW(parse_axis("=1,2", "--grid"), UsageError);
}

TEST(Sweep, BadSpecsAreRefused) {
  SweepSpec zip;
  zip.zip = {parse_axis("a=1,2", "--zip"), parse_axis("b=1,2,3", "--zip")};
  EXPECT_THROW(enumerate_variants(zip), UsageError);
  SweepSpec twice;
  twice.grid = {parse_axis("a=1,2", "--grid"), parse_axis("a=3", "--grid")};
  EXPECT_THROW(enumerate_variants(twice), UsageError);
  EXPECT_THROW(parse_shard("2/2"), UsageError);
  EXPECT_THROW(parse_shard("1"), UsageError);
  EXPECT_THROW(parse_shard("a/3"), UsageError);
  EXPECT_EQ(parse_shard("1/3"), (std::pair<std::size_t, std::size_t>{1, 3}));
}

// A scenario that runs in milliseconds.
std::string tiny_scenario(const TempDir& dir) {
  return dir.write("tiny.yaml",
                   "name: tiny\nseed: 1\n"
                   "workload: {impl: synthetic, num_requests: 40, arrival: {impl: poisson,"
                   " rate_per_s: 5}, prompt_tokens: 200, output_tokens: 20}\n"
                   "cluster: {instances: 1, cost_model: {impl: roofline}}\n"
                   "output: {iterations: false}\n");
}

TEST(Sweep, ShardsPartitionTheVariants) {
  TempDir dir;
  const std::string scenario = tiny_scenario(dir);
  const std::string axes =
      " --grid workload.arrival.rate_per_s=1,2,3,4 --zip "
      "policies.batcher.impl=vllm,sarathi --repeats 2";
  const auto all = testing::run_cli("sweep '" + scenario + "'" + axes + " --list");
  ASSERT_EQ(all.exit_code, 0) << all.output;
  std::string joined;
  std::multiset<std::string> lines;
  for (int i = 0; i < 3; ++i) {
    const auto r = testing::run_cli("sweep '" + scenario + "'" + axes + " --list --shard " +
                                    std::to_string(i) + "/3");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);) {
      lines.insert(line);
      EXPECT_EQ(std::stoul(line.substr(0, line.find('\t'))) % 3, static_cast<unsigned>(i)) << line;
    }
  }
  std::istringstream in(all.output);
  std::multiset<std::string> expected;
  for (std::string line; std::getline(in, line);) expected.insert(line);
  EXPECT_EQ(expected.size(), 16u);
  EXPECT_EQ(lines, expected) << "every variant in exactly one shard";
}

TEST(Sweep, ParallelRunsEqualSequentialOnesAndRecordTheSweptValues) {
  TempDir dir;
  const std::string scenario = tiny_scenario(dir);
  const std::string axes =
      " --grid workload.arrival.rate_per_s=2,8 --grid "
      "policies.batcher.impl=vllm,sarathi --seeds 3,4 --reproducible -q";
  const auto par =
      testing::run_cli("sweep '" + scenario + "'" + axes + " -j 2 -o '" + dir.file("p.db") + "'");
  ASSERT_EQ(par.exit_code, 0) << par.output;
  const auto seq =
      testing::run_cli("sweep '" + scenario + "'" + axes + " -j 1 -o '" + dir.file("s.db") + "'");
  ASSERT_EQ(seq.exit_code, 0) << seq.output;
  for (const char* sql :
       {"SELECT run_id, scenario, seed, status FROM runs", "SELECT * FROM run_params",
        "SELECT * FROM requests", "SELECT * FROM summary"}) {
    EXPECT_EQ(query(dir.file("p.db"), sql), query(dir.file("s.db"), sql)) << sql;
  }
  EXPECT_EQ(query(dir.file("p.db"), "SELECT count(*) FROM runs WHERE status = 'ok'"), "8\n");
  EXPECT_EQ(query(dir.file("p.db"),
                  "SELECT group_concat(key || '=' || value, ' ') FROM run_params WHERE run_id = 6"),
            "policies.batcher.impl=vllm seed=4 workload.arrival.rate_per_s=8\n");
  EXPECT_FALSE(std::filesystem::exists(dir.file("p.db.shards"))) << "shards removed after merge";
}

TEST(Sweep, ResumeSkipsFinishedVariantsAndAFailureIsRecordedAndCounted) {
  TempDir dir;
  const std::string scenario = tiny_scenario(dir);
  const std::string db = dir.file("r.db");
  const std::string base = "sweep '" + scenario + "' -q -o '" + db + "'";
  auto first = testing::run_cli(base +
                                " --grid workload.arrival.rate_per_s=2,8"
                                " --grid policies.batcher.impl=vllm --set output.iterations=false");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  // One more rate and a bad batcher: 2 of 6 already there; the 3 with the bad batcher fail.
  auto second = testing::run_cli(base +
                                 " --resume --grid workload.arrival.rate_per_s=2,8,16"
                                 " --grid policies.batcher.impl=vllm,nonesuch" +
                                 " --set output.iterations=false");
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_NE(second.output.find("3 of 4 variant(s) failed"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("1 ran, 3 failed, 2 already in"), std::string::npos)
      << second.output;
  EXPECT_EQ(query(db, "SELECT status, count(*) FROM runs GROUP BY 1 ORDER BY 1"),
            "failed\t3\nok\t3\n");
  EXPECT_NE(query(db, "SELECT error FROM runs WHERE status = 'failed' LIMIT 1")
                .find("unknown batcher 'nonesuch'"),
            std::string::npos);
  EXPECT_EQ(query(db,
                  "SELECT count(*) FROM runs r JOIN run_params p USING (run_id) WHERE "
                  "r.status = 'failed' AND p.key = 'policies.batcher.impl' AND p.value = "
                  "'nonesuch'"),
            "3\n");
  // Resume again without the bad value: nothing left to do.
  auto third = testing::run_cli(base +
                                " --resume --grid workload.arrival.rate_per_s=2,8,16"
                                " --grid policies.batcher.impl=vllm --set output.iterations=false");
  EXPECT_EQ(third.exit_code, 0) << third.output;
  EXPECT_NE(third.output.find("0 ran, 0 failed, 3 already in"), std::string::npos) << third.output;
}

TEST(Sweep, SweepFilesAndBadSpecsExitTwoNamingTheProblem) {
  TempDir dir;
  tiny_scenario(dir);
  const std::string file = dir.write("s.yaml",
                                     "sweep:\n"
                                     "  scenario: tiny.yaml\n"
                                     "  grid: {workload.arrival.rate_per_s: [2, 4]}\n"
                                     "  zip: {policies.batcher: [{impl: vllm}, {impl: sarathi}]}\n"
                                     "  repeats: 2\n"
                                     "  set: {output.iterations: false}\n");
  const auto list = testing::run_cli("sweep '" + file + "' --list");
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("7\tworkload.arrival.rate_per_s=4 policies.batcher={impl: sarathi} "
                             "seed=1"),
            std::string::npos)
      << list.output;
  const auto ran = testing::run_cli("sweep '" + file + "' -q -o '" + dir.file("f.db") + "'");
  EXPECT_EQ(ran.exit_code, 0) << ran.output;
  EXPECT_EQ(query(dir.file("f.db"), "SELECT count(*) FROM runs WHERE status = 'ok'"), "8\n");

  const std::string bad =
      dir.write("bad.yaml", "sweep:\n  scenario: tiny.yaml\n  gird: {a: [1]}\n");
  auto r = testing::run_cli("sweep '" + bad + "' --list");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("bad.yaml:3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("gird"), std::string::npos) << r.output;
  const std::string scenario = dir.file("tiny.yaml");
  r = testing::run_cli("sweep '" + scenario + "' --grid workload.arival.rate_per_s=1 -o '" +
                       dir.file("x.db") + "'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("workload.arival: unknown key"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.db")));
  r = testing::run_cli("sweep '" + scenario + "' --grid a= -o '" + dir.file("x.db") + "'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("empty value"), std::string::npos) << r.output;
  r = testing::run_cli("sweep '" + scenario + "' --zip a=1,2 --zip b=1 -o '" + dir.file("x.db") +
                       "'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("equal lengths"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace servesim

namespace servesim {
namespace {

// PNG width and height from the IHDR chunk (0, 0 when the file is not a PNG).
std::pair<int, int> png_size(const std::string& path) {
  const std::string b = testing::read_file(path);
  if (b.size() < 24 || b.compare(1, 3, "PNG") != 0 || b.compare(12, 4, "IHDR") != 0) return {0, 0};
  auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned char>(b[at]) << 24) |
           (static_cast<unsigned char>(b[at + 1]) << 16) |
           (static_cast<unsigned char>(b[at + 2]) << 8) | static_cast<unsigned char>(b[at + 3]);
  };
  return {be32(16), be32(20)};
}

TEST(Report, TablesEqualSqlAndThePlotsAreRendered) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "gnuplot is not installed (tools/setup.sh installs gnuplot-nox)";
  TempDir dir;
  const std::string scenario = tiny_scenario(dir);
  const std::string db = dir.file("s.db");
  // Two rates × two batchers × two seeds, with an SLO tight enough to fail at the high rate.
  const auto sweep = testing::run_cli(
      "sweep '" + scenario + "' -q -o '" + db +
      "' --grid workload.arrival.rate_per_s=2,40 --grid policies.batcher.impl=vllm,sarathi"
      " --repeats 2 --set 'slo={ttft_s: 0.05, tpot_s: 0.05}' --set output.sample_every_s=1"
      " --set output.iterations=true");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.output;
  const std::string out = dir.file("rep");
  const auto r = testing::run_cli("report '" + db +
                                  "' --by workload.arrival.rate_per_s --by "
                                  "policies.batcher.impl -o '" +
                                  out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"report.md", "runs.csv", "runs.json"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  for (const char* png :
       {"ttft_cdf.png", "tpot_cdf.png", "e2e_cdf.png", "attainment.png", "timeline.png"}) {
    EXPECT_EQ(png_size(out + "/" + png), (std::pair<int, int>{900, 560})) << png;
    EXPECT_NE(testing::read_file(out + "/report.md").find(std::string("](") + png + ")"),
              std::string::npos)
        << png << " is linked";
  }
  // Each row is the mean over its two seeds of what SQL says.
  const std::string csv = testing::read_file(out + "/runs.csv");
  std::istringstream lines(csv);
  std::string header, line;
  std::getline(lines, header);
  int rows = 0;
  while (std::getline(lines, line)) {
    ++rows;
    std::vector<std::string> cells;
    std::istringstream in(line);
    for (std::string c; std::getline(in, c, ',');) cells.push_back(c);
    // label, runs, run_ids, rate, impl, completed, req/s, ttft_p50, ttft_p99, ...
    ASSERT_GE(cells.size(), 9u) << line;
    EXPECT_EQ(cells[1], "2");
    const std::string ids = "(" + cells[2].replace(cells[2].find(' '), 1, ",") + ")";
    for (const auto& [col, metric] :
         std::vector<std::pair<int, std::string>>{{6, "throughput_req_s"}, {8, "ttft_p99_s"}}) {
      const double sql = std::stod(query(db,
                                         "SELECT avg(value) FROM summary WHERE scope = 'run' "
                                         "AND metric = '" +
                                             metric + "' AND run_id IN " + ids));
      EXPECT_NEAR(std::stod(cells[static_cast<std::size_t>(col)]), sql, 1e-5 * std::abs(sql))
          << metric << " of " << line;
    }
  }
  EXPECT_EQ(rows, 4);
  // The view the table is read from.
  EXPECT_EQ(query(db, "SELECT count(*) FROM run_overview WHERE params LIKE '%rate_per_s=40%'"),
            "4\n");
  // Bad filters and keys are usage errors.
  EXPECT_EQ(testing::run_cli("report '" + db + "' --by nonesuch -o '" + out + "'").exit_code, 2);
  EXPECT_EQ(testing::run_cli("report '" + db + "' --runs 'run_id >' -o '" + out + "'").exit_code,
            2);
}

TEST(Export, CsvAndJsonLinesOfATableOrView) {
  TempDir dir;
  const std::string scenario = tiny_scenario(dir);
  const std::string db = dir.file("r.db");
  ASSERT_EQ(testing::run_cli("run '" + scenario + "' -q -o '" + db + "'").exit_code, 0);
  const auto csv = testing::run_cli("export '" + db + "' --table requests");
  ASSERT_EQ(csv.exit_code, 0) << csv.output;
  EXPECT_EQ(csv.output.substr(0, csv.output.find('\n')),
            "run_id,request_id,trace_id,client_id,priority,arrival_s,prompt_tokens,"
            "output_tokens,cached_tokens,first_instance_id,instance_id,first_token_s,finish_s,"
            "ttft_s,tpot_s,e2e_s,max_tbt_s,sched_delay_s,preemptions,migrations,status,"
            "reject_reason,prefill_instance_id,decode_instance_id,kv_transfer_s,bridge_wait_s");
  EXPECT_EQ(std::count(csv.output.begin(), csv.output.end(), '\n'), 41);
  const std::string out = dir.file("o.jsonl");
  ASSERT_EQ(
      testing::run_cli("export '" + db + "' -t run_overview -f jsonl -o '" + out + "'").exit_code,
      0);
  const std::string j = testing::read_file(out);
  EXPECT_NE(j.find("\"requests_completed\": 40"), std::string::npos) << j;
  EXPECT_NE(j.find("\"slo_attainment\": null"), std::string::npos) << j;
  const auto bad = testing::run_cli("export '" + db + "' -t nonesuch");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("no such table or view"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace servesim

namespace servesim {
namespace {

// Parallel probes (capacity -j): the same capacity within the search's tolerance, every probe
// stored once in the output, no shard left behind.
TEST(Capacity, ParallelProbesAgreeWithOneAtATime) {
  TempDir dir;
  const std::string base =
      "capacity scenarios/quickstart.yaml --slo 'ttft_s<=0.1' --slo "
      "'tpot_s<=0.02' --set workload.num_requests=300 --tolerance 0.02";
  auto capacity = [&](const std::string& db, const std::string& extra) {
    const auto r = testing::run_cli(base + " -o '" + db + "'" + extra);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const std::size_t at = r.output.find("capacity: ");
    return std::stod(r.output.substr(at + 10));
  };
  const double one = capacity(dir.file("one.db"), "");
  const double two = capacity(dir.file("two.db"), " -j 3");
  EXPECT_GT(one, 0);
  EXPECT_NEAR(two, one, 0.05 * one);
  const auto runs = query(dir.file("two.db"), "SELECT count(*) FROM runs WHERE status = 'ok'");
  const auto probes = testing::run_cli(base + " -o '" + dir.file("three.db") + "' -j 3");
  std::size_t lines = 0;
  for (std::size_t p = probes.output.find("[capacity] rate"); p != std::string::npos;
       p = probes.output.find("[capacity] rate", p + 1))
    ++lines;
  EXPECT_EQ(std::to_string(lines) + "\n", runs) << probes.output;
  for (const auto& e : std::filesystem::directory_iterator(dir.file("")))
    EXPECT_EQ(e.path().string().find(".probe"), std::string::npos) << e.path();
}

}  // namespace
}  // namespace servesim
