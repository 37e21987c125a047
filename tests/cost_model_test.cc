// tests/cost_model_test.cc — memory accounting and the roofline, against numbers computed by
// hand from the model configs (llama-3-8b: 32 layers, hidden 4096, 32/8 heads of 128, FFN 14336
// gated, vocab 128256 untied), and the polynomial model's equations.
#include <gtest/gtest.h>

#include <cmath>

#include "models/catalog.h"
#include "models/cost/iteration.h"
#include "models/cost/memory.h"
#include "models/cost/roofline.h"
#include "sim/core/rng.h"
#include "tests/cost_test_util.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::deployment;
Deployment deploy(const char* model, const char* hw, int tp = 1, int pp = 1) {
  return deployment(model, hw, tp, pp);
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
    EXPECT_NE(std::string(e.what()).find("models/llm/broken.yaml:3: num_layers: must be >= 1"),
              std::string::npos)
        << e.what();
  }
}

TEST(Memory, Llama3_8bOnH100ByHand) {
  const MemoryPlan p = plan_memory(deploy("llama-3-8b", "h100-sxm"), 0.9, 2.0 * 1073741824.0, 16);
  // per layer: attention 4096·48·128 + 32·128·4096 = 41,943,040; MLP 3·4096·14336 = 176,160,768;
  // norms 8,192 → 218,112,000 × 32 layers + embedding and LM head 2·128256·4096.
  EXPECT_DOUBLE_EQ(p.weight_bytes_per_device, 2.0 * (32.0 * 218112000.0 + 2.0 * 128256.0 * 4096.0));
  EXPECT_DOUBLE_EQ(p.kv_bytes_per_token,
                   131072.0);     // 2 (K,V) · 32 layers · 8 heads · 128 · 2 bytes
  EXPECT_EQ(p.kv_blocks, 28181);  // floor((72 GiB − 16.06 GB − 2 GiB) / 2 MiB)
  EXPECT_EQ(p.kv_capacity_tokens(), 28181 * 16);
}

TEST(Memory, TensorAndPipelineParallelShards) {
  const MemoryPlan tp2 = plan_memory(deploy("llama-3-8b", "h100-sxm", 2), 0.9, 0, 16);
  EXPECT_DOUBLE_EQ(tp2.weight_bytes_per_device,
                   2.0 * (32.0 * 109060096.0 + 2.0 * 64128.0 * 4096.0));
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
  p.gemm_compute_efficiency = p.attention_compute_efficiency = p.memory_efficiency =
      p.link_efficiency = 1.0;
  p.min_kernel_us = 0;
  p.step_overhead_us = 0;
  p.comm_latency_us = 0;
  p.collective_base_us = 0;
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
  p.collective_base_us = 3;
  RooflineCostModel m(deploy("llama-3-8b", "h100-sxm", 4), p);
  // 4 devices: 3 µs per call, then 2·(4−1) steps of bytes/4 over 450 GB/s, plus 10 µs each.
  EXPECT_NEAR(m.allreduce_ns(1e6), 3000.0 + 6.0 * (1e6 / 4 / 450.0 + 10000.0), 1e-6);
  // All-gather and send: one base and one latency.
  EXPECT_NEAR(m.allgather_ns(1e6, 4), 3000.0 + 1e6 * 3 / 4 / 450.0 + 10000.0, 1e-6);
  EXPECT_NEAR(m.send_ns(1e6), 3000.0 + 1e6 / 450.0 + 10000.0, 1e-6);
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

// ---- A second model, by hand: llama-2-13b (40 layers, hidden 5120, 40 heads = 40 KV heads of
// 128, FFN 13824 gated, vocab 32000 untied) on a100-80g (2039 GB/s, 312 TFLOP/s, NVLink 300 GB/s).

TEST(Memory, Llama2_13bOnA100Tp2ByHand) {
  const MemoryPlan p =
      plan_memory(deploy("llama-2-13b", "a100-80g", 2), 0.9, 2.0 * 1073741824.0, 16);
  // Per layer on one of 2 devices: attention 5120·(20+40)·128 + 20·128·5120 = 52,428,800; MLP
  // 3·5120·6912 = 106,168,320; norms 10,240 → 158,607,360 × 40 + embedding and LM head
  // 2·16000·5120.
  EXPECT_DOUBLE_EQ(p.weight_bytes_per_device, 2.0 * (40.0 * 158607360.0 + 2.0 * 16000.0 * 5120.0));
  EXPECT_DOUBLE_EQ(p.kv_bytes_per_token,
                   2.0 * 40 * 20 * 128 * 2);  // 409,600: MHA, 20 KV heads per device
  // floor((72 GiB − 13,016,268,800 B − 2 GiB) / (16 · 409,600 B)) = 9482 blocks.
  EXPECT_EQ(p.kv_blocks, 9482);
  EXPECT_EQ(p.kv_capacity_tokens(), 9482 * 16);
}

TEST(Roofline, GemmFlopsAndBytesByHand) {
  // QKV of 8 tokens on a llama-2-13b TP-2 shard: [8, 5120] × [5120, 7680].
  const auto op = RooflineCostModel::gemm(8, 7680, 5120, 2);
  EXPECT_DOUBLE_EQ(op.flops, 2.0 * 8 * 7680 * 5120);
  EXPECT_DOUBLE_EQ(op.bytes, (8.0 * 5120 + 5120.0 * 7680 + 8.0 * 7680) * 2);
  RooflineCostModel m(deploy("llama-2-13b", "a100-80g", 2), ideal());
  EXPECT_NEAR(m.gemm_ns(8, 7680, 5120), op.bytes / 2039.0, 1e-6);  // memory-bound
  EXPECT_NEAR(m.gemm_ns(4096, 7680, 5120), 2.0 * 4096 * 7680 * 5120 / 312000.0,
              1e-6);  // compute-bound
  // Prefill attention of one 2048-token prompt, 20 heads: 4·128·20·(2048·2049/2) FLOPs.
  EXPECT_NEAR(m.prefill_attention_ns({2048, 0}), 4.0 * 128 * 20 * (2048.0 * 2049 / 2) / 312000.0,
              1e-6);
}

TEST(Roofline, TensorParallelCommunicationOfAnIterationByHand) {
  RooflineCostModel m(deploy("llama-2-13b", "a100-80g", 2), ideal());
  // 8 decodes: per layer two ring all-reduces of 8·5120·2 bytes over 2 devices (2·(2−1) steps of
  // bytes/2 at 300 GB/s), 40 layers, plus the logits all-gather of 8·32000·2 bytes (half received).
  const IterationCost c = m.estimate(BatchShape{{}, 8, 8 * 2000});
  const double ar = 2.0 * (2 - 1) * (81920.0 / 2 / 300.0);
  EXPECT_NEAR(c.comm_ns, 40 * 2 * ar + 512000.0 / 2 / 300.0, 1e-6);
  EXPECT_NEAR(c.breakdown_ns[static_cast<int>(OpClass::kCommunication)], c.comm_ns, 0);
}

TEST(Roofline, PipelineSendsAndModes) {
  RooflineParams p = ideal();
  p.comm_latency_us = 5;
  RooflineCostModel latency(deploy("llama-2-13b", "a100-80g", 1, 2), p);
  // 8 decodes, PP 2: one activation send of 8·5120·2 bytes at 300 GB/s plus 5 µs.
  const BatchShape b{{}, 8, 8 * 2000};
  EXPECT_NEAR(latency.estimate(b).comm_ns, 81920.0 / 300.0 + 5000.0, 1e-6);
  // Throughput mode: the slowest stage — ceil(40/2) = 20 layers instead of 40.
  p.pipeline_mode = PipelineMode::kThroughput;
  RooflineCostModel stage(deploy("llama-2-13b", "a100-80g", 1, 2), p);
  OpTimes lt, st;
  const IterationCost cl = latency.explain(b, &lt), cs = stage.explain(b, &st);
  const int gemm = static_cast<int>(OpClass::kGemm);
  const double lm_head = lt.ns[static_cast<int>(Op::kLmHead)];
  EXPECT_NEAR(cs.breakdown_ns[gemm] - lm_head, (cl.breakdown_ns[gemm] - lm_head) / 2, 1e-6);
  EXPECT_DOUBLE_EQ(cs.per_layer_ns, cl.per_layer_ns);
  // PP 3 on 40 layers: the slowest stage has ceil(40/3) = 14 layers; sends: 2 per batch, 1 per
  // stage.
  RooflineCostModel pp3(deploy("llama-2-13b", "a100-80g", 1, 3), p);
  OpTimes t3;
  const IterationCost c3 = pp3.explain(b, &t3);
  EXPECT_NEAR(c3.breakdown_ns[gemm] - t3.ns[static_cast<int>(Op::kLmHead)],
              14 * (cl.breakdown_ns[gemm] - lm_head) / 40, 1e-6);
  EXPECT_EQ(t3.calls[static_cast<int>(Op::kPpSend)], 1.0);
  EXPECT_EQ(lt.calls[static_cast<int>(Op::kPpSend)], 1.0);
  p.pipeline_mode = PipelineMode::kLatency;
  OpTimes l3;
  RooflineCostModel(deploy("llama-2-13b", "a100-80g", 1, 3), p).explain(b, &l3);
  EXPECT_EQ(l3.calls[static_cast<int>(Op::kPpSend)], 2.0);
}

TEST(Roofline, PerLayerIsOneBlockWithoutCommunication) {
  RooflineCostModel m(deploy("llama-3-8b", "h100-sxm", 2), RooflineParams{});
  const PrefillSegment seg{700, 300};
  OpTimes t;
  const IterationCost c =
      m.explain(BatchShape{std::span<const PrefillSegment>(&seg, 1), 12, 12 * 900}, &t);
  double block = 0;
  for (int i = 0; i < kNumOps; ++i) {
    const OpSpec& s = op_spec(static_cast<Op>(i));
    if (s.per_layer && s.op_class != OpClass::kCommunication) block += t.ns[i];
  }
  EXPECT_NEAR(c.per_layer_ns, block, 1e-6);
  EXPECT_GT(t.ns[static_cast<int>(Op::kTpAllReduce)], 0);
  EXPECT_EQ(t.calls[static_cast<int>(Op::kTpAllReduce)], 2.0);
  EXPECT_EQ(t.calls[static_cast<int>(Op::kAddNorm)], 2.0);
}

TEST(Roofline, MoeRoutesTokensToTopKOfExperts) {
  const ShardDims d = ShardDims::of(deploy("mixtral-8x7b", "h100-sxm", 2));
  // One token: exactly top-k = 2 experts are active, one token each.
  const IterationShape one = IterationShape::of(BatchShape{{}, 1, 100}, d);
  EXPECT_NEAR(one.active_experts, 2.0, 1e-12);
  EXPECT_NEAR(one.tokens_per_expert, 1.0, 1e-12);
  // 100 tokens: 8·(1 − (6/8)^100) experts active (≈ all), sharing 200 token-expert pairs.
  const IterationShape many = IterationShape::of(BatchShape{{}, 100, 10000}, d);
  const double active = 8.0 * (1.0 - std::pow(0.75, 100));
  EXPECT_NEAR(many.active_experts, active, 1e-9);
  EXPECT_NEAR(many.tokens_per_expert, 200.0 / active, 1e-9);
  EXPECT_NEAR(op_calls(Op::kGateUp, many, d, PipelineMode::kLatency), active, 1e-9);
  const GemmDims g = gemm_dims(Op::kGateUp, many, d);
  EXPECT_NEAR(g.m, 200.0 / active, 1e-9);
  EXPECT_EQ(g.n, 2.0 * 7168);  // gate and up of the TP-2 shard of a 14336-wide expert
  EXPECT_EQ(g.k, 4096.0);
  EXPECT_EQ(gemm_dims(Op::kRouter, many, d).n, 8.0);
  // Dense models have no router and one MLP call.
  const ShardDims dense = ShardDims::of(deploy("llama-3-8b", "h100-sxm"));
  const IterationShape s = IterationShape::of(BatchShape{{}, 100, 10000}, dense);
  EXPECT_EQ(op_calls(Op::kRouter, s, dense, PipelineMode::kLatency), 0.0);
  EXPECT_EQ(op_calls(Op::kGateUp, s, dense, PipelineMode::kLatency), 1.0);
}

// `estimate` remembers the non-attention ops by (tokens, seqs); `explain` prices everything
// afresh. Over batches that revisit keys, collide in the memo and differ only in attention (same
// counts, other contexts and prefill splits), the two must agree to the last bit.
TEST(Roofline, TokenOpsMemoIsExact) {
  for (const auto& [model, tp] : {std::pair{"llama-3-8b", 1}, std::pair{"mixtral-8x7b", 2}}) {
    const RooflineCostModel m(deploy(model, "h100-sxm", tp), RooflineParams{});
    Rng rng(7);
    int checked = 0;
    for (int i = 0; i < 20000; ++i) {
      const std::int64_t decodes = static_cast<std::int64_t>(rng.uniform_int(0, 64));
      std::vector<PrefillSegment> segs;
      const int prefills = rng.uniform01() < 0.3 ? static_cast<int>(rng.uniform_int(1, 3)) : 0;
      for (int k = 0; k < prefills; ++k) {
        segs.push_back(PrefillSegment{static_cast<std::int32_t>(rng.uniform_int(1, 3000)),
                                      static_cast<std::int32_t>(rng.uniform_int(0, 2000))});
      }
      const BatchShape b{std::span<const PrefillSegment>(segs), decodes,
                         decodes * static_cast<std::int64_t>(rng.uniform_int(1, 4000))};
      if (b.empty()) continue;
      OpTimes t;
      const IterationCost fresh = m.explain(b, &t), memo = m.estimate(b);
      ASSERT_EQ(memo.duration_ns, fresh.duration_ns) << model << " batch " << i;
      for (int k = 0; k < kNumOpClasses; ++k)
        ASSERT_EQ(memo.breakdown_ns[k], fresh.breakdown_ns[k]);
      ASSERT_EQ(memo.per_layer_ns, fresh.per_layer_ns);
      ASSERT_EQ(memo.fallback_mask, fresh.fallback_mask);
      ++checked;
    }
    EXPECT_GT(checked, 19000);
  }
}

// The host-overhead lines replace the constant step overhead, by iteration kind, and an
// explicit constant in the cost model switches the hardware's lines off.
TEST(HostOverhead, LinesByKindReplaceTheConstant) {
  const Deployment d = deploy("llama-3-8b", "h100-sxm");
  auto lines = testing::parse_yaml(
      "impl: roofline\nhost_overhead: {decode: [100, 2, 0], prefill: [1000, 10, 0.5], "
      "mixed: [500, 1, 0.25]}\n");
  auto with = make_cost_model(lines->root(), d);
  auto constant = testing::parse_yaml("impl: roofline\nstep_overhead_us: 0\n");
  auto none = make_cost_model(constant->root(), d);
  const BatchShape decode{{}, 8, 8 * 1000};
  const std::vector<PrefillSegment> two{{512, 0}, {256, 0}}, chunk{{400, 100}};
  const BatchShape prefill{two, 0, 0};
  const BatchShape mixed{chunk, 10, 10 * 2000};
  auto diff_us = [&](const BatchShape& b) {
    return static_cast<double>(with->estimate(b).duration_ns - none->estimate(b).duration_ns) *
           1e-3;
  };
  EXPECT_NEAR(diff_us(decode), 100 + 2 * 8, 0.002);
  EXPECT_NEAR(diff_us(prefill), 1000 + 10 * 2 + 0.5 * 768, 0.002);
  EXPECT_NEAR(diff_us(mixed), 500 + 1 * 11 + 0.25 * 410, 0.002);
  EXPECT_NEAR(with->estimate(decode).overhead_ns, 116e3, 1.0);
  // Both keys at once is an error naming the key; a kind with two numbers too.
  auto both = testing::parse_yaml(
      "impl: roofline\nstep_overhead_us: 5\nhost_overhead: {decode: [1, 0, 0], prefill: [1, 0, "
      "0], mixed: [1, 0, 0]}\n");
  auto error_of = [&](ConfigTree& t) -> std::string {
    try {
      make_cost_model(t.root(), d);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "<no error>";
  };
  EXPECT_TRUE(testing::contains(error_of(*both), "host_overhead")) << error_of(*both);
  auto short_line = testing::parse_yaml(
      "impl: roofline\nhost_overhead: {decode: [1, 0], prefill: [1, 0, 0], mixed: [1, 0, 0]}\n");
  EXPECT_TRUE(testing::contains(error_of(*short_line), "3 numbers")) << error_of(*short_line);
}

}  // namespace
}  // namespace servesim
