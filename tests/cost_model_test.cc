// tests/cost_model_test.cc — memory accounting and the roofline, against numbers computed by
// hand from the model configs (llama-3-8b: 32 layers, hidden 4096, 32/8 heads of 128, FFN 14336
// gated, vocab 128256 untied), and the polynomial model's equations.
#include <gtest/gtest.h>

#include <cmath>

#include "models/catalog.h"
#include "models/cost/memory.h"
#include "models/cost/roofline.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

Deployment deploy(const char* model, const char* hw, int tp = 1, int pp = 1) {
  Deployment d;
  d.model = &Catalog::builtin().model(model);
  d.hardware = &Catalog::builtin().hardware(hw);
  d.tensor_parallel = tp;
  d.pipeline_parallel = pp;
  return d;
}

TEST(Catalog, EveryEntryLoadsWithSaneNumbers) {
  const Catalog& c = Catalog::builtin();
  EXPECT_GE(c.all_hardware().size(), 7u);
  EXPECT_GE(c.all_models().size(), 13u);
  for (const auto& [name, m] : c.all_models()) {
    EXPECT_EQ(m.num_attention_heads % m.num_kv_heads, 0) << name;
    EXPECT_GT(m.total_params(), 1e9) << name;
  }
  EXPECT_NEAR(c.model("llama-3-8b").total_params() / 1e9, 8.03, 0.01);
  EXPECT_NEAR(c.model("llama-2-70b").total_params() / 1e9, 68.98, 0.05);
  EXPECT_THROW(c.model("nope"), ConfigError);
  EXPECT_THROW(c.hardware("nope"), ConfigError);
}

TEST(Catalog, MalformedEntryNamesFileLineAndKey) {
  try {
    Catalog::from_files({{"models/llm/broken.yaml", "name: x\nsource: s\nnum_layers: -1\n"}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("models/llm/broken.yaml:3: num_layers: must be >= 1"), std::string::npos) << e.what();
  }
}

TEST(Memory, Llama3_8bOnH100ByHand) {
  const MemoryPlan p = plan_memory(deploy("llama-3-8b", "h100-sxm"), 0.9, 2.0 * 1073741824.0, 16);
  // per layer: attention 4096·48·128 + 32·128·4096 = 41,943,040; MLP 3·4096·14336 = 176,160,768;
  // norms 8,192 → 218,112,000 × 32 layers + embedding and LM head 2·128256·4096.
  EXPECT_DOUBLE_EQ(p.weight_bytes_per_device, 2.0 * (32.0 * 218112000.0 + 2.0 * 128256.0 * 4096.0));
  EXPECT_DOUBLE_EQ(p.kv_bytes_per_token, 131072.0);  // 2 (K,V) · 32 layers · 8 heads · 128 · 2 bytes
  EXPECT_EQ(p.kv_blocks, 28181);                      // floor((72 GiB − 16.06 GB − 2 GiB) / 2 MiB)
  EXPECT_EQ(p.kv_capacity_tokens(), 28181 * 16);
}

TEST(Memory, TensorAndPipelineParallelShards) {
  const MemoryPlan tp2 = plan_memory(deploy("llama-3-8b", "h100-sxm", 2), 0.9, 0, 16);
  EXPECT_DOUBLE_EQ(tp2.weight_bytes_per_device, 2.0 * (32.0 * 109060096.0 + 2.0 * 64128.0 * 4096.0));
  EXPECT_DOUBLE_EQ(tp2.kv_bytes_per_token, 65536.0);
  const MemoryPlan pp2 = plan_memory(deploy("llama-3-8b", "h100-sxm", 1, 2), 0.9, 0, 16);
  EXPECT_EQ(pp2.layers_per_device, 16);
  EXPECT_DOUBLE_EQ(pp2.weight_bytes_per_device, 2.0 * (16.0 * 218112000.0 + 128256.0 * 4096.0));
  EXPECT_DOUBLE_EQ(pp2.kv_bytes_per_token, 65536.0);
  // KV heads are replicated when there are fewer than TP: 8 KV heads over TP=16 → 1 per device.
  EXPECT_EQ(kv_heads_per_device(Catalog::builtin().model("llama-3-8b"), 16), 1);
  // llama-3-70b does not fit one H100.
  EXPECT_LE(plan_memory(deploy("llama-3-70b", "h100-sxm"), 0.9, 0, 16).kv_blocks, 0);
}

RooflineParams ideal() {
  RooflineParams p;
  p.gemm_compute_efficiency = p.attention_compute_efficiency = p.memory_efficiency = p.link_efficiency = 1.0;
  p.min_kernel_us = 0;
  p.step_overhead_us = 0;
  p.comm_latency_us = 0;
  return p;
}

TEST(Roofline, GemmIsMaxOfComputeAndMemory) {
  RooflineCostModel m(deploy("llama-3-8b", "h100-sxm"), ideal());
  // Decode-sized GEMM (m = 1): memory-bound, ≈ weight bytes / bandwidth.
  const double bytes = (1.0 * 4096 + 4096.0 * 6144 + 6144.0) * 2;
  EXPECT_NEAR(m.gemm_ns(1, 6144, 4096), bytes / 3350.0, 1e-6);
  // Large GEMM: compute-bound, 2·m·n·k / peak.
  EXPECT_NEAR(m.gemm_ns(8192, 6144, 4096), 2.0 * 8192 * 6144 * 4096 / 989400.0, 1e-6);
}

TEST(Roofline, AttentionFlopsAndKvBytesByHand) {
  RooflineCostModel m(deploy("llama-3-8b", "h100-sxm"), ideal());
  // Prefill of 1024 new tokens after 1024 cached: pairs = 1024·1024 + 1024·1025/2.
  const double pairs = 1024.0 * 1024 + 1024.0 * 1025 / 2;
  EXPECT_NEAR(m.prefill_attention_ns({1024, 1024}), 4.0 * 128 * 32 * pairs / 989400.0, 1e-6);
  // Decode: 8 requests with 4,000 context tokens each: K and V bytes dominate.
  const double kv_bytes = 32000.0 * 2 * 8 * 128 * 2 + 2.0 * 8 * 32 * 128 * 2;
  EXPECT_NEAR(m.decode_attention_ns(8, 32000), kv_bytes / 3350.0, 1e-6);
}

TEST(Roofline, TensorParallelAllReduceRing) {
  RooflineParams p = ideal();
  p.comm_latency_us = 10;
  RooflineCostModel m(deploy("llama-3-8b", "h100-sxm", 4), p);
  // 4 devices: 2·(4−1) steps of bytes/4 over 450 GB/s, plus 10 µs each.
  EXPECT_NEAR(m.allreduce_ns(1e6), 6.0 * (1e6 / 4 / 450.0 + 10000.0), 1e-6);
  RooflineCostModel single(deploy("llama-3-8b", "h100-sxm", 1), p);
  EXPECT_EQ(single.allreduce_ns(1e6), 0.0);
}

TEST(Roofline, IterationAddsLayersCommAndOverheadAndScalesWithWork) {
  RooflineCostModel m(deploy("llama-3-8b", "h100-sxm"), RooflineParams{});
  const PrefillSegment seg{512, 0};
  BatchShape prefill{std::span<const PrefillSegment>(&seg, 1), 0, 0};
  const IterationCost c = m.estimate(prefill);
  double sum = 0;
  for (double x : c.breakdown_ns) sum += x;
  EXPECT_NEAR(static_cast<double>(c.duration_ns), sum, 1.0);
  EXPECT_EQ(c.comm_ns, 0.0);
  EXPECT_DOUBLE_EQ(c.overhead_ns, 2000.0 * 1000);  // the hardware's step overhead
  // Decode cost grows with context but not per request beyond the aggregates.
  BatchShape d1{{}, 64, 64 * 1000};
  BatchShape d2{{}, 64, 64 * 4000};
  EXPECT_LT(m.estimate(d1).duration_ns, m.estimate(d2).duration_ns);
  EXPECT_EQ(m.estimate(BatchShape{}).duration_ns, 0);
}

TEST(Roofline, MoeReadsOnlyActiveExperts) {
  RooflineCostModel m(deploy("mixtral-8x7b", "h100-sxm", 2), ideal());
  // One decoding token routes to 2 of 8 experts: far cheaper than all 8 experts' weights.
  BatchShape one{{}, 1, 100};
  BatchShape many{{}, 256, 25600};
  const double t1 = static_cast<double>(m.estimate(one).duration_ns);
  const double t256 = static_cast<double>(m.estimate(many).duration_ns);
  EXPECT_LT(t1 * 1.5, t256) << "256 tokens activate all experts, one token only two";
}

}  // namespace
}  // namespace servesim
