// tests/robustness_test.cc — defences against damage and silent wrong answers (issue 14): every
// output path refuses what is not a regular file of its own (FIFOs, devices, directories; a
// symlink to a regular file is written through and stays a link), leaves no temporary behind,
// and "" / ":memory:" are not results databases.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "models/cost/profile_data.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const char* kTinyWorkload =
    "--set impl=synthetic --set num_requests=5 --set arrival='{impl: "
    "poisson, rate_per_s: 1}'";

std::vector<std::string> leftovers(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().string().find(".tmp") != std::string::npos) out.push_back(e.path().string());
  }
  return out;
}

TEST(OutputPaths, AFifoOrADirectoryIsRefusedAndLeftAsItWas) {
  TempDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  fs::create_directories(dir.file("folder"));
  for (const std::string& target : {fifo, dir.file("folder")}) {
    auto gen = testing::run_cli(std::string("trace gen ") + kTinyWorkload + " -o '" + target + "'");
    EXPECT_EQ(gen.exit_code, 2) << gen.output;
    EXPECT_NE(gen.output.find("regular files only"), std::string::npos) << gen.output;
    auto run = testing::run_cli(
        "run scenarios/quickstart.yaml -q --set workload.num_requests=5 -o '" + target + "'");
    EXPECT_EQ(run.exit_code, 2) << run.output;
    auto exp = testing::run_cli("export '" + target + "' -t runs -o '" + target + "'");
    EXPECT_EQ(exp.exit_code, 2) << exp.output;
  }
  EXPECT_TRUE(fs::is_fifo(fifo)) << "the FIFO must survive";
  EXPECT_TRUE(fs::is_directory(dir.file("folder")));
  EXPECT_TRUE(leftovers(dir.file("")).empty());
}

TEST(OutputPaths, ASymlinkToARegularFileIsWrittenThroughAndStaysALink) {
  TempDir dir;
  const std::string real = dir.write("real.jsonl", "old\n");
  const std::string link = dir.file("link.jsonl");
  fs::create_symlink(real, link);
  auto gen = testing::run_cli(std::string("trace gen ") + kTinyWorkload + " -o '" + link + "'");
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_NE(testing::read_file(real).find("\"prompt_tokens\""), std::string::npos);
  EXPECT_TRUE(leftovers(dir.file("")).empty());
  fs::create_symlink(dir.file("nowhere/x"), dir.file("dangling"));
  auto dangling = testing::run_cli(std::string("trace gen ") + kTinyWorkload + " -o '" +
                                   dir.file("dangling") + "'");
  EXPECT_EQ(dangling.exit_code, 2) << dangling.output;
}

TEST(OutputPaths, EmptyAndInMemoryDatabasesAreUsageErrors) {
  for (const char* path : {"''", "':memory:'"}) {
    auto r = testing::run_cli(std::string("run scenarios/quickstart.yaml -q "
                                          "--set workload.num_requests=5 -o ") +
                              path);
    EXPECT_EQ(r.exit_code, 2) << path << ": " << r.output;
    EXPECT_EQ(r.output.find("results: "), std::string::npos) << r.output;
  }
}

// ---------------------------------------------------------------- no silent wrong results

TEST(NoWrongResults, TimesBeyondTheClockAreErrorsNotWrappedTimes) {
  TempDir dir;
  struct Case {
    std::string args, message;
  };
  for (const Case& c :
       {Case{"--set 'cluster.cost_model={impl: roofline, step_overhead_us: 1e16}'",
             "step_overhead_us"},
        Case{"--set workload.arrival.rate_per_s=1e-300", "beyond the simulator's horizon"}}) {
    const auto r = testing::run_cli(
        "run scenarios/quickstart.yaml -q --set "
        "workload.num_requests=5 -o '" +
        dir.file("x.db") + "' " + c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << ": " << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output;
  }
  const std::string late =
      dir.write("late.yaml",
                "workload: {impl: inline, arrival_s: [1, 9.2e18], prompt_tokens: [10, 10], "
                "output_tokens: [2, 2]}\n");
  const auto r = testing::run_cli("run '" + late + "' -q -o '" + dir.file("y.db") + "'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("beyond the simulator's horizon"), std::string::npos) << r.output;
}

TEST(NoWrongResults, UndefinedMetricsAreNullAndNeverMeetAnObjective) {
  TempDir dir;
  // One-token outputs: no TPOT, no TBT.
  const std::string one = dir.write(
      "one.yaml",
      "workload: {impl: inline, arrival_s: [0, 1], prompt_tokens: [10, 10], output_tokens: [1, "
      "1]}\nslo: {ttft_s: 1, tpot_s: 0.1}\n");
  ASSERT_EQ(testing::run_cli("run '" + one + "' -q -o '" + dir.file("one.db") + "'").exit_code, 0);
  EXPECT_EQ(testing::query(dir.file("one.db"),
                           "SELECT quote(value) FROM summary WHERE metric IN ('tpot_p50_s', "
                           "'tpot_mean_s', 'tbt_p99_s') ORDER BY metric"),
            "NULL\nNULL\nNULL\n");
  // Every request rejected (prompt beyond max_model_len): nothing completed, no latency at all.
  const std::string none = dir.write(
      "none.yaml",
      "workload: {impl: inline, arrival_s: [0, 1], prompt_tokens: [9000, 9000], output_tokens: "
      "[5, 5]}\ncluster: {max_model_len: 4096}\nslo: {ttft_s: 1, tpot_s: 0.1}\n");
  ASSERT_EQ(testing::run_cli("run '" + none + "' -q -o '" + dir.file("none.db") + "'").exit_code,
            0);
  EXPECT_EQ(testing::query(dir.file("none.db"),
                           "SELECT metric, quote(value) FROM summary WHERE metric IN "
                           "('requests_completed', 'ttft_p99_s', 'e2e_mean_s', "
                           "'throughput_req_s', 'slo_attainment') ORDER BY metric"),
            "e2e_mean_s\tNULL\nrequests_completed\t0.0\nslo_attainment\t0.0\n"
            "throughput_req_s\tNULL\nttft_p99_s\tNULL\n");
}

// ---------------------------------------------------------------- no hangs on accepted input

TEST(NoHangs, InfinitiesSecondDocumentsAndAliasBombsAreConfigurationErrors) {
  TempDir dir;
  auto run = [&](const std::string& name, const std::string& yaml) {
    const std::string path = dir.write(name, yaml);
    return testing::run_cli("run '" + path + "' -q -o '" + dir.file(name + ".db") + "'");
  };
  auto r =
      run("inf.yaml", "workload: {num_requests: 5, arrival: {impl: poisson, rate_per_s: .inf}}\n");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("rate_per_s: must be a finite number"), std::string::npos) << r.output;
  r = run("two.yaml", "workload: {num_requests: 5}\n---\nworkload: {num_requests: 7}\n");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("two.yaml:3: a second YAML document"), std::string::npos) << r.output;
  // Nine levels of ten aliases each: 10^9 values from a few hundred bytes.
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    const std::string me = std::to_string(i), prev = std::to_string(i - 1);
    bomb.append("a").append(me).append(": &a").append(me).append(" [");
    for (int k = 0; k < 10; ++k) bomb.append(k ? ", *a" : "*a").append(prev);
    bomb.append("]\n");
  }
  r = run("bomb.yaml", bomb);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("expands to more than"), std::string::npos) << r.output;
  // Found by fuzz_scenario: an alias inside its own anchor is a node that contains itself
  // (walking it overflowed the stack: exit 139 on 14 bytes).
  try {
    ConfigTree::parse("a: &a [x, *a]\n", "self.yaml");
    ADD_FAILURE() << "a self-containing alias was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("self.yaml: the document nests deeper than 256 levels"),
              std::string::npos)
        << e.what();
  }
  // Found by fuzz_scenario: yaml-cpp 0.7's LoadAll loops forever, allocating, on ", a".
  for (const char* text : {", a\n", "# x\n, cut or drop\n", "a: 1\n,\n"}) {
    try {
      ConfigTree::parse(text, "comma.yaml");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("comma.yaml:"), std::string::npos) << e.what();
    }
  }
}

// --print-config validates a 50,000-instance scenario without building 50,000 instances: every
// instance is placed (placement errors still show) but only one per pool is built. Before, this
// built every instance's KV pool (≈ 13 KB each: ≈ 650 MB and seconds).
TEST(NoHangs, PrintConfigBuildsNothingHeavy) {
  const auto r = testing::run_cli(
      "run scenarios/quickstart.yaml --print-config --set cluster.instances=50000");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("instances: 50000"), std::string::npos);
  rusage usage{};
  ASSERT_EQ(getrusage(RUSAGE_CHILDREN, &usage), 0);
  EXPECT_LT(usage.ru_maxrss, 200 * 1024) << "peak RSS of the largest child, KiB";
  // Placement is still checked for every instance: 9 single-device instances pinned to node 0 of
  // 8 devices do not fit.
  const auto pinned = testing::run_cli(
      "run scenarios/quickstart.yaml --print-config --set cluster.instances=9 "
      "--set cluster.nodes=[0,0,0,0,0,0,0,0,0]");
  EXPECT_EQ(pinned.exit_code, 2) << pinned.output;
  EXPECT_NE(pinned.output.find("nodes"), std::string::npos) << pinned.output;
}

// ---------------------------------------------------------------- concurrent writers

TEST(ConcurrentWriters, ARunWaitsVisiblyForTheLockAndItsWallTimeExcludesTheWait) {
  TempDir dir;
  const std::string db = dir.file("shared.db");
  ASSERT_EQ(testing::run_cli(
                "run scenarios/quickstart.yaml -q --set workload.num_requests=50 -o '" + db + "'")
                .exit_code,
            0);
  // Another writer holds the lock for 1.5 s while a second run starts.
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  testing::CliResult second;
  std::thread t([&] {
    second = testing::run_cli("run scenarios/quickstart.yaml --set workload.num_requests=50 -o '" +
                              db + "'");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  t.join();
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("waiting for the write lock"), std::string::npos) << second.output;
  EXPECT_LT(std::stod(testing::query(db, "SELECT wall_s FROM runs WHERE run_id = 2")), 1.0);
  // Four at once all land, and the file is sound.
  std::vector<std::thread> four;
  std::vector<int> codes(4, -1);
  for (int i = 0; i < 4; ++i) {
    four.emplace_back([&, i] {
      codes[static_cast<std::size_t>(i)] =
          testing::run_cli(
              "run scenarios/quickstart.yaml -q --set workload.num_requests=200 "
              "--seed " +
              std::to_string(i) + " -o '" + db + "'")
              .exit_code;
    });
  }
  for (std::thread& x : four) x.join();
  EXPECT_EQ(codes, std::vector<int>(4, 0));
  EXPECT_EQ(testing::query(db, "SELECT count(*) FROM runs WHERE status = 'ok'"), "6\n");
  EXPECT_EQ(testing::query(db, "PRAGMA integrity_check"), "ok\n");
}

TEST(Crashes, KillNineMidRunLeavesEarlierRunsIntactAndNothingHalfWritten) {
  TempDir dir;
  const std::string db = dir.file("k.db");
  ASSERT_EQ(testing::run_cli(
                "run scenarios/quickstart.yaml -q --set workload.num_requests=100 -o '" + db + "'")
                .exit_code,
            0);
  const std::string before = testing::query(db, "SELECT count(*) FROM requests");
  // A long run, killed while it writes.
  const std::string pid_file = dir.file("pid");
  ASSERT_EQ(std::system(("cd '" + std::string(SERVESIM_SOURCE_DIR) + "' && ('" + SERVESIM_BINARY +
                         "' run scenarios/quickstart.yaml -q --set workload.num_requests=3000000 "
                         "-o '" +
                         db + "' >/dev/null 2>&1 & echo $! > '" + pid_file + "')")
                            .c_str()),
            0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const std::string pid = testing::read_file(pid_file);
  ASSERT_FALSE(pid.empty());
  ASSERT_EQ(std::system(("kill -9 " + pid).c_str()), 0) << "the run ended before the kill";
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Once the killed run's page cache spilled to the file, it leaves a hot journal, which a
  // read-only connection cannot roll back; the next connection that may write does (as the next
  // run into the file would), whenever the kill came.
  {
    sqlite3* rw = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db.c_str(), &rw, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(rw, "SELECT count(*) FROM runs", nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(rw);
    sqlite3_close(rw);
  }
  EXPECT_EQ(testing::query(db, "PRAGMA integrity_check"), "ok\n");
  EXPECT_EQ(testing::query(db, "SELECT run_id, status FROM runs"), "1\tok\n");
  EXPECT_EQ(testing::query(db, "SELECT count(*) FROM requests"), before);
  EXPECT_EQ(testing::query(db, "SELECT count(DISTINCT run_id) FROM summary"), "1\n");
}

// A full disk, simulated with a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored: writes past it
// fail with EFBIG as they would with ENOSPC): the run fails with an output error naming the
// database, exit 2, and the file keeps exactly its earlier run.
TEST(Crashes, AFullDiskFailsTheRunAndKeepsEarlierRuns) {
  TempDir dir;
  const std::string db = dir.file("full.db");
  ASSERT_EQ(testing::run_cli(
                "run scenarios/quickstart.yaml -q --set workload.num_requests=100 -o '" + db + "'")
                .exit_code,
            0);
  const std::string before = testing::query(db, "SELECT count(*) FROM requests");
  const auto limit_blocks = fs::file_size(db) / 512 + 1024;  // 512 KiB more
  const auto r = testing::run_cli_shell(
      "trap '' XFSZ; ulimit -f " + std::to_string(limit_blocks) + "; '" + SERVESIM_BINARY +
      "' run scenarios/quickstart.yaml -q --set workload.num_requests=50000 -o '" + db + "'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("output error: results database '" + db + "'"), std::string::npos)
      << r.output;
  EXPECT_EQ(testing::query(db, "PRAGMA integrity_check"), "ok\n");
  // Run 1 intact; the failed run left at most its `failed` row (when there was room for it).
  EXPECT_EQ(testing::query(db, "SELECT run_id FROM runs WHERE status = 'ok'"), "1\n");
  EXPECT_EQ(testing::query(db, "SELECT count(*) FROM runs WHERE status NOT IN ('ok', 'failed')"),
            "0\n");
  EXPECT_EQ(testing::query(db, "SELECT count(*) FROM requests"), before);
  EXPECT_EQ(testing::query(db, "SELECT count(*) FROM summary WHERE run_id != 1"), "0\n");
  EXPECT_FALSE(fs::exists(db + "-journal")) << "opening the file rolled the failed run back";
}

// Found by fuzz_profile: a JSON number beyond a double (1e537) escaped the importers as an
// internal error (exit 1); it is bad input, named with its file.
TEST(NoWrongResults, AProfileWithANumberBeyondADoubleIsAnInputError) {
  TempDir dir;
  const std::string p = dir.write(
      "huge.json", "{\"format\": \"servesim-kernel-profile\", \"version\": 1, \"x\": 1e537}");
  try {
    import_profile(p);
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(p + ": not valid JSON"), std::string::npos) << e.what();
  }
}

// Found by fuzz_profile (UBSan): a Vidur mlp.csv width of 7.8e13 was cast to int (undefined
// behaviour); counts are whole numbers up to 2^31 - 1, else FILE:LINE names the column.
TEST(NoWrongResults, AProfileCountBeyondAnIntIsAnInputError) {
  TempDir dir;
  const std::string p = dir.write(
      "mlp.csv",
      "time_stats.attn_pre_proj.median,n_head,n_kv_head,n_embd,n_expanded_embd,vocab_size,"
      "use_gated_mlp,num_tokens,num_tensor_parallel_workers\n"
      "0.1,32,8,77777777774096,14336,128256,True,64,2\n");
  try {
    import_profile(p);
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(p + ":2: column 'n_embd': expected a whole number"),
              std::string::npos)
        << e.what();
  }
}

TEST(CapacitySearch, RefusesRepeatedObjectivesAndKeysThatAreNotRatesAndWarnsWhenCutShort) {
  TempDir dir;
  const std::string base =
      "capacity scenarios/quickstart.yaml --set workload.num_requests=200 -o '" + dir.file("c.db") +
      "' ";
  auto twice = testing::run_cli(base + "--slo 'ttft_s<=1' --slo 'ttft_s<=2'");
  EXPECT_EQ(twice.exit_code, 2) << twice.output;
  EXPECT_NE(twice.output.find("given twice"), std::string::npos) << twice.output;
  auto not_rate = testing::run_cli(base + "--slo 'ttft_s<=1' --rate-key cluster.instances");
  EXPECT_EQ(not_rate.exit_code, 2) << not_rate.output;
  EXPECT_NE(not_rate.output.find("is not an arrival rate"), std::string::npos) << not_rate.output;
  auto short_budget = testing::run_cli(base + "--slo 'ttft_s<=100' --max-runs 2");
  EXPECT_EQ(short_budget.exit_code, 0) << short_budget.output;
  EXPECT_NE(short_budget.output.find("not bracketed"), std::string::npos) << short_budget.output;
  EXPECT_NE(short_budget.output.find("capacity: 24 req/s"), std::string::npos)
      << "the last passing rate: " << short_budget.output;
}

TEST(FirstContact, DataPrefixWorksInTheMeasuredCostModelsProfiles) {
  TempDir dir;
  // The project's own measured profile, reached through $data/ with data_dir = models/.
  const auto r = testing::run_cli(
      "run scenarios/quickstart.yaml -q --set workload.num_requests=20 --set data_dir=models "
      "--set 'cluster.cost_model={impl: measured, profiles: "
      "[$data/calibration/h100-sxm_llama-3-8b_tp1.json]}' -o '" +
      dir.file("m.db") + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(FirstContact, TensorParallelThatDoesNotDivideTheHeadsIsRefusedInRunAndEstimate) {
  // llama-3-8b: 32 attention heads, 8 KV heads.
  TempDir dir;
  auto run =
      testing::run_cli("run scenarios/quickstart.yaml -q --set cluster.tensor_parallel=3 -o '" +
                       dir.file("x.db") + "'");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("cluster.tensor_parallel: 3 does not divide llama-3-8b's 32 attention "
                            "heads"),
            std::string::npos)
      << run.output;
  auto est =
      testing::run_cli("estimate --model llama-3-8b --hardware h100-sxm --tp 3 --decode 8x512");
  EXPECT_EQ(est.exit_code, 2) << est.output;
  EXPECT_NE(est.output.find("--tp 3 does not divide"), std::string::npos) << est.output;
  EXPECT_EQ(
      testing::run_cli("estimate --model llama-3-8b --hardware h100-sxm --tp 2 --decode 8x512")
          .exit_code,
      0);
  const auto help = testing::run_cli("capacity --help");
  EXPECT_EQ(help.output.find("0.90000000000000002"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("(=0.9)"), std::string::npos) << help.output;
}

// The polynomial model's built-in coefficients are DistServe's OPT-13B TP 1 fit on A100-80GB:
// using them for another deployment would silently give OPT-13B's times.
TEST(FirstContact, PolynomialDefaultsAreRefusedOutsideTheirFit) {
  const std::string workload =
      "workload: {num_requests: 5, arrival: {impl: poisson, rate_per_s: 1}}\n";
  const std::string other = testing::config_error(
      workload +
      "cluster: {model: llama-3-8b, hardware: h100-sxm, cost_model: {impl: polynomial}}\n");
  EXPECT_NE(other.find("cluster.cost_model.impl: the polynomial model's default coefficients are "
                       "DistServe's fit for opt-13b TP 1 on a100-80g, not llama-3-8b TP 1 on "
                       "h100-sxm"),
            std::string::npos)
      << other;
  EXPECT_EQ(testing::config_error(workload + "cluster: {model: opt-13b, hardware: a100-80g, "
                                             "cost_model: {impl: polynomial}}\n"),
            "<no error>");
  EXPECT_EQ(testing::config_error(workload + "cluster: {model: llama-3-8b, hardware: h100-sxm, "
                                             "cost_model: {impl: polynomial, prefill_a_ms: 5}}\n"),
            "<no error>")
      << "coefficients given: the user's fit";
}

}  // namespace
}  // namespace servesim
