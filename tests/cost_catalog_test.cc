// tests/cost_catalog_test.cc — every catalog pair (hardware × model) that fits on one node
// loads and estimates with every op-level cost model, and the estimates behave: positive,
// finite, breakdown sums to the duration, more work never costs less.
#include <gtest/gtest.h>

#include <cmath>

#include "models/catalog.h"
#include "models/cost/measured.h"
#include "models/cost/memory.h"
#include "models/cost/roofline.h"
#include "tests/cost_test_util.h"

namespace servesim {
namespace {

// The smallest TP (power of two within a node) whose weights leave room for one request of the
// model's maximum context; 0 when none does.
int smallest_fitting_tp(const HardwareSpec& hw, const ModelSpec& m) {
  for (int tp = 1; tp <= hw.devices_per_node; tp *= 2) {
    Deployment d;
    d.hardware = &hw;
    d.model = &m;
    d.tensor_parallel = tp;
    const MemoryPlan p = plan_memory(d, 0.9, 2.0 * 1073741824.0, 16);
    if (p.kv_capacity_tokens() >= m.max_context_tokens) return tp;
  }
  return 0;
}

void expect_sane(const IterationCost& c, const std::string& what) {
  EXPECT_GT(c.duration_ns, 0) << what;
  double sum = 0;
  for (double x : c.breakdown_ns) {
    EXPECT_TRUE(std::isfinite(x)) << what;
    EXPECT_GE(x, 0) << what;
    sum += x;
  }
  EXPECT_NEAR(static_cast<double>(c.duration_ns), sum, 1.0) << what;
  EXPECT_GT(c.per_layer_ns, 0) << what;
}

TEST(CostCatalog, EveryPairThatFitsEstimatesWithTheRoofline) {
  const Catalog& cat = Catalog::builtin();
  int pairs = 0, fitting = 0;
  for (const auto& [hw_name, hw] : cat.all_hardware()) {
    for (const auto& [model_name, m] : cat.all_models()) {
      ++pairs;
      const int tp = smallest_fitting_tp(hw, m);
      if (tp == 0) continue;  // e.g. llama-3.1-405b in bf16 on one 8-GPU node of 80 GB devices
      ++fitting;
      Deployment d = testing::deployment(model_name.c_str(), hw_name.c_str(), tp);
      RooflineCostModel r(d, RooflineParams{});
      const std::string what = model_name + " on " + hw_name + " TP " + std::to_string(tp);
      const PrefillSegment segs[2] = {{512, 0}, {256, 2048}};
      const IterationCost mixed = r.estimate(BatchShape{segs, 32, 32 * 1024});
      expect_sane(mixed, what);
      // More decode context or more prompt tokens never cost less.
      const IterationCost more_ctx = r.estimate(BatchShape{segs, 32, 32 * 4096});
      EXPECT_GE(more_ctx.duration_ns, mixed.duration_ns) << what;
      const PrefillSegment longer[2] = {{1024, 0}, {256, 2048}};
      EXPECT_GE(r.estimate(BatchShape{longer, 32, 32 * 1024}).duration_ns, mixed.duration_ns)
          << what;
      if (tp > 1) {
        EXPECT_GT(mixed.comm_ns, 0) << what;
      }
      // The same model over two pipeline stages, both modes.
      if (m.num_layers >= 2) {
        Deployment dp = d;
        dp.pipeline_parallel = 2;
        expect_sane(
            RooflineCostModel(dp, RooflineParams{}).estimate(BatchShape{segs, 32, 32 * 1024}),
            what + " PP 2");
      }
    }
  }
  EXPECT_EQ(pairs, 9 * 13);  // 9 hardware entries × 13 models
  EXPECT_GE(fitting, 80) << "most catalog pairs fit on one node";
}

TEST(CostCatalog, EveryModelOnH100EstimatesWithTheMeasuredTables) {
  SKIP_WITHOUT_SHARED_DATA(data);
  auto tables = load_profile_tables({data + "/profiles/aiconfigurator/h100_sxm"}, ImportOptions{});
  const Catalog& cat = Catalog::builtin();
  const HardwareSpec& hw = cat.hardware("h100-sxm");
  for (const auto& [name, m] : cat.all_models()) {
    const int tp = smallest_fitting_tp(hw, m);
    if (tp == 0) continue;
    const MeasuredCostModel mm(testing::deployment(name.c_str(), "h100-sxm", tp), tables,
                               RooflineParams{}, MeasuredOptions{});
    const PrefillSegment seg{1024, 0};
    const IterationCost c =
        mm.estimate(BatchShape{std::span<const PrefillSegment>(&seg, 1), 64, 64 * 2048});
    expect_sane(c, name);
    // GEMM shapes of every dense catalog model lie inside the aiconfigurator (k, n) grid (or split
    // into it); an MoE router (n = experts < 32) is below the grid and falls back.
    if (!m.is_moe()) {
      EXPECT_FALSE(c.fallback_mask & (1u << static_cast<int>(OpClass::kGemm))) << name;
    }
  }
}

}  // namespace
}  // namespace servesim
