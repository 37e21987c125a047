// models/kernels/tests/gpu_test.cc — the CUDA backend against the CPU reference (the
// full check suite) and a quick profile under CUDA graphs. Every test skips cleanly when
// the build has no CUDA or no device is present.
#include <gtest/gtest.h>

#include "models/kernels/backend.h"
#include "models/kernels/bench/check.h"
#include "models/kernels/bench/profile.h"

namespace servesim::kernels {
namespace {

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CudaCompiled()) GTEST_SKIP() << "built without CUDA";
    if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device present";
    gpu_ = MakeBackend("cuda");
  }
  std::unique_ptr<Backend> gpu_;
};

TEST_F(GpuTest, EveryKernelMatchesTheCpuReference) {
  std::unique_ptr<Backend> cpu = MakeBackend("cpu");
  CheckOptions opt;  // fresh seed
  const std::vector<CheckResult> results = RunChecks(*gpu_, *cpu, opt);
  ASSERT_FALSE(results.empty());
  for (const CheckResult& r : results) {
    EXPECT_TRUE(r.pass) << r.op << " " << r.dtype << " " << r.shape << " rel_err=" << r.rel_err
                        << " finite=" << r.finite << " " << r.error << " (seed " << opt.seed << ")";
  }
}

TEST_F(GpuTest, QuickProfileUsesGraphs) {
  ProfileOptions opt;
  opt.model = FindModel("llama-3-8b");
  opt.grid = QuickGrid();
  opt.grid.layers.resize(1);
  opt.timing.iters = 5;
  const Json doc = RunProfile(*gpu_, opt, nullptr);
  EXPECT_EQ(doc["backend"], "cuda");
  EXPECT_EQ(doc["method"]["cuda_graphs"], true);
  EXPECT_GT(doc["device"]["sm_count"].get<int>(), 0);
  ASSERT_FALSE(doc["ops"].empty());
  for (const Json& r : doc["ops"]) {
    EXPECT_GT(r["median_ms"].get<double>(), 0.0) << r.dump();
    EXPECT_GE(r["rotations"].get<int>(), 1);
  }
}

}  // namespace
}  // namespace servesim::kernels
