// tests/cost_cli_test.cc — `servesim estimate`, `validate-cost` and `calibrate` end to end:
// JSON keys and their consistency, bad input exits 2 naming what is wrong, calibrate on a
// synthetic kernel profile, validate-cost on the shared tables when present, and a scenario run
// with the measured cost model.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/cost_test_util.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::run_cli;
using testing::TempDir;

using testing::contains;

nlohmann::json json_of(const testing::CliResult& r) {
  const auto start = r.output.find('{');
  return nlohmann::json::parse(start == std::string::npos ? std::string("null")
                                                          : r.output.substr(start));
}

TEST(EstimateCli, JsonHasTheDocumentedKeysAndTheyAddUp) {
  const auto r = run_cli(
      "estimate --model llama-3-70b --hardware h100-sxm --tp 4 --prefill 512@1024 "
      "--prefill 300 --decode 16x2048 --decode 8x512 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = json_of(r);
  for (const char* k : {"iteration_ms", "per_layer_ms", "comm_ms", "overhead_ms", "breakdown",
                        "fallback", "ops", "memory"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  double sum = 0;
  for (const auto& [k, v] : j["breakdown"].items()) sum += v.get<double>();
  EXPECT_NEAR(j["iteration_ms"].get<double>(), sum, 1e-5);
  EXPECT_NEAR(j["comm_ms"].get<double>(), j["breakdown"]["communication"].get<double>(), 1e-12);
  EXPECT_GT(j["comm_ms"].get<double>(), 0);
  EXPECT_EQ(j["batch"]["decode_requests"], 24);
  EXPECT_EQ(j["batch"]["decode_context_tokens"], 16 * 2048 + 8 * 512);
  EXPECT_EQ(j["batch"]["prefill"][0]["prior_tokens"], 1024);
  EXPECT_TRUE(j["fallback"].empty());  // the roofline never falls back
  // The readable table names the same quantities.
  const auto t =
      run_cli("estimate --model llama-3-8b --hardware h100-sxm --prefill 128 --decode 4x100");
  ASSERT_EQ(t.exit_code, 0) << t.output;
  EXPECT_TRUE(contains(t.output, "iteration"));
  EXPECT_TRUE(contains(t.output, "attention_decode"));
  EXPECT_TRUE(contains(t.output, "KV blocks"));
}

TEST(EstimateCli, BadInputExitsTwoNamingIt) {
  const auto model = run_cli("estimate --model nope --hardware h100-sxm --decode 1x10");
  EXPECT_EQ(model.exit_code, 2);
  EXPECT_TRUE(contains(model.output, "nope")) << model.output;
  const auto hw = run_cli("estimate --model llama-3-8b --hardware tpu9 --decode 1x10");
  EXPECT_EQ(hw.exit_code, 2);
  EXPECT_TRUE(contains(hw.output, "tpu9")) << hw.output;
  // llama-3-70b's 140 GB of weights do not fit one H100: the numbers are printed.
  const auto fit = run_cli("estimate --model llama-3-70b --hardware h100-sxm --decode 1x10");
  EXPECT_EQ(fit.exit_code, 2);
  EXPECT_TRUE(contains(fit.output, "does not fit")) << fit.output;
  EXPECT_TRUE(contains(fit.output, "weights per device")) << fit.output;
  // A batch larger than the KV cache does not fit either.
  EXPECT_EQ(run_cli("estimate --model llama-3-8b --hardware h100-sxm --decode 1000x8000").exit_code,
            2);
  EXPECT_EQ(run_cli("estimate --model llama-3-8b --hardware h100-sxm").exit_code,
            2);  // empty batch
  EXPECT_EQ(run_cli("estimate --model llama-3-8b --hardware h100-sxm --decode 8").exit_code,
            2);  // not BxCTX
  EXPECT_EQ(run_cli("estimate --model llama-3-8b --hardware h100-sxm --prefill x@1").exit_code, 2);
  EXPECT_EQ(
      run_cli("estimate --model llama-3-8b --hardware h100-sxm --tp 16 --decode 1x10").exit_code,
      2);
  const auto key =
      run_cli("estimate --model llama-3-8b --hardware h100-sxm --decode 1x10 --set no_such_key=1");
  EXPECT_EQ(key.exit_code, 2);
  EXPECT_TRUE(contains(key.output, "no_such_key")) << key.output;
  // A malformed profile row: exit 2 with file:line.
  TempDir dir;
  const std::string csv =
      dir.write("gemm_perf.csv",
                "framework,version,device,op_name,kernel_source,gemm_dtype,m,n,k,latency\n"
                "VLLM,0.1,NVIDIA H100 80GB HBM3,gemm,x,bfloat16,16,4096,4096,zero\n");
  const auto bad = run_cli(
      "estimate --model llama-3-8b --hardware h100-sxm --decode 1x10 --cost measured --profile '" +
      csv + "'");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.output, csv + ":2: column 'latency'")) << bad.output;
  const auto missing = run_cli(
      "estimate --model llama-3-8b --hardware h100-sxm --decode 1x10 --cost measured --profile "
      "/no/such/table.csv");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(contains(missing.output, "/no/such/table.csv")) << missing.output;
}

// --batches prices many batches in one process, each exactly as one --prefill/--decode call.
TEST(EstimateCli, BatchesFileGivesTheSameTimesAsSingleCalls) {
  const std::string base = "estimate --model llama-3-8b --hardware h100-sxm ";
  const auto batches =
      testing::run_cli_shell("printf '300@200 100 3x500 2x501\\n\\n# skipped\\n64x1000\\n' | '" +
                             std::string(SERVESIM_BINARY) + "' " + base + "--batches -");
  ASSERT_EQ(batches.exit_code, 0) << batches.output;
  auto ms_of = [&](const std::string& args) {
    const auto r = run_cli(base + args + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return nlohmann::json::parse(r.output)["iteration_ms"].get<double>();
  };
  char expect[128];
  std::snprintf(expect, sizeof expect, "%.6f\n%.6f\n",
                ms_of("--prefill 300@200 --prefill 100 --decode 3x500 --decode 2x501"),
                ms_of("--decode 64x1000"));
  EXPECT_EQ(batches.output, expect);
  // A bad item names the line; --batches with --decode is a usage error.
  const auto bad = testing::run_cli_shell(
      "printf '8x10\\n8y\\n' | '" + std::string(SERVESIM_BINARY) + "' " + base + "--batches -");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(testing::contains(bad.output, "stdin:2")) << bad.output;
  EXPECT_EQ(run_cli(base + "--batches - --decode 1x10 < /dev/null").exit_code, 2);
}

TEST(EstimateCli, MeasuredWithAKernelProfileReportsItsTables) {
  TempDir dir;
  const std::string p = dir.write("profile.json", testing::synthetic_profile().dump());
  const auto r =
      run_cli("estimate --model llama-3-8b --hardware h100-sxm --cost measured --profile '" + p +
              "' --decode 16x1024 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = json_of(r);
  EXPECT_TRUE(j["fallback"].empty()) << j.dump();
  EXPECT_TRUE(j.contains("tables"));
  // Beyond the profile's GEMM range (4096 tokens), GEMM falls back and says so.
  const auto big = json_of(
      run_cli("estimate --model llama-3-8b --hardware h100-sxm --cost measured --profile '" + p +
              "' --prefill 6000 --json"));
  bool gemm_fb = false;
  for (const auto& c : big["fallback"]) gemm_fb = gemm_fb || c == "gemm";
  EXPECT_TRUE(gemm_fb) << big.dump();
}

TEST(CalibrateCli, ReportsFitAndCrossValidatedErrorByOpClass) {
  TempDir dir;
  const std::string p = dir.write("profile.json", testing::synthetic_profile().dump());
  const std::string out = dir.file("calib.json");
  const auto r = run_cli("calibrate '" + p + "' -o '" + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* c : {"gemm", "attention_prefill", "attention_decode", "elementwise"}) {
    EXPECT_TRUE(contains(r.output, c)) << c;
  }
  const auto j = nlohmann::json::parse(testing::read_file(out));
  EXPECT_EQ(j["format"], "servesim-calibration");
  EXPECT_EQ(j["hardware"], "h100-sxm");
  ASSERT_FALSE(j["op_classes"].empty());
  for (const auto& c : j["op_classes"]) {
    EXPECT_NEAR(c["fit_mape"].get<double>(), 0.0, 1e-6)
        << c.dump();  // interpolation reproduces its points
    EXPECT_GT(c["cv_points"].get<int>(), 0) << c.dump();
  }
  EXPECT_TRUE(j["roofline_params"].contains("gemm_compute_efficiency"));
  // A profile of a device that is no catalog hardware needs --hardware.
  const std::string cpu = dir.write("cpu.json", testing::synthetic_profile("AMD EPYC 7B13").dump());
  EXPECT_EQ(run_cli("calibrate '" + cpu + "'").exit_code, 2);
  EXPECT_EQ(run_cli("calibrate '" + cpu + "' --hardware h100-sxm").exit_code, 0);
  EXPECT_EQ(run_cli("calibrate").exit_code, 2);
}

TEST(ValidateCostCli, SyntheticProfileAndSharedTables) {
  TempDir dir;
  const std::string p = dir.write("profile.json", testing::synthetic_profile().dump());
  const auto r = run_cli("validate-cost --profile '" + p + "' --split points --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = json_of(r);
  ASSERT_FALSE(j["summary"].empty());
  for (const auto& row : j["summary"]) {
    // Power laws in log1p space are nearly linear: interpolation is close on held-out points.
    if (row["in_range"].get<int>() > 0 && row["op_class"] == "attention_decode") {
      EXPECT_LT(row["measured_mape_in_range"].get<double>(), 10.0) << row.dump();
    }
  }
  SKIP_WITHOUT_SHARED_DATA(data);
  const auto v =
      run_cli("validate-cost --profile profiles/aiconfigurator/h100_sxm --json --no-calibrate");
  ASSERT_EQ(v.exit_code, 0) << v.output;
  const auto s = json_of(v);
  for (const auto& row : s["summary"]) {
    const std::string c = row["op_class"];
    if (c == "gemm" || c == "attention_prefill" || c == "attention_decode") {
      EXPECT_LT(row["measured_mape_in_range"].get<double>(), 8.0) << row.dump();
      EXPECT_LT(row["measured_mape_in_range"].get<double>(), row["roofline_mape"].get<double>())
          << row.dump();
    }
  }
}

TEST(ScenarioCli, RunsWithTheMeasuredCostModel) {
  TempDir dir;
  dir.write("profile.json", testing::synthetic_profile().dump());
  const std::string scenario =
      dir.write("s.yaml", "name: measured-smoke\nseed: 1\ndata_dir: " + dir.file("") +
                              "\nworkload:\n  impl: synthetic\n  num_requests: 30\n"
                              "  arrival: {impl: poisson, rate_per_s: 5}\n"
                              "  prompt_tokens: {impl: lognormal, mean: 300, cv: 0.5, max: 2000}\n"
                              "  output_tokens: {impl: lognormal, mean: 20, cv: 0.5, max: 100}\n"
                              "cluster:\n  hardware: h100-sxm\n  model: llama-3-8b\n"
                              "  cost_model: {impl: measured, profiles: [profile.json]}\n"
                              "output: {path: " +
                              dir.file("r.db") + "}\n");
  const auto r = run_cli("run '" + scenario + "' --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(testing::query(dir.file("r.db"), "SELECT COUNT(*) FROM requests"), "30\n");
}

}  // namespace
}  // namespace servesim
