// tests/cost_measured_test.cc — the `measured` cost model: LogGrid interpolation at and between
// grid points and its anchored extrapolation, the kernel-profile reader (synthetic profiles
// whose times follow known power laws, so every expected value is computed independently),
// fallback bits, device checks, malformed input, and the real aiconfigurator / Vidur tables
// when ../shared/data is present.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <thread>

#include "models/cost/accuracy.h"
#include "models/cost/log_grid.h"
#include "models/cost/measured.h"
#include "models/cost/profile_data.h"
#include "sim/config/errors.h"
#include "tests/cost_test_util.h"
#include "tests/test_util.h"

namespace servesim {
namespace {

using testing::deployment;
using testing::TempDir;

LogGrid::Point pt(std::initializer_list<double> xs, double v) {
  LogGrid::Point p;
  int i = 0;
  for (double x : xs) p.x[static_cast<std::size_t>(i++)] = x;
  p.value = v;
  return p;
}

constexpr double kRel = 1e-9;

TEST(LogGrid, ExactAtGridPointsAndLogBlendBetween) {
  // t = 5 · x^0.7 on x ∈ {1, 10, 100, 1000}: exact at the points; in between, the linear blend
  // of log t over log(1 + x), computed here by hand.
  std::vector<LogGrid::Point> pts;
  for (double x : {1.0, 10.0, 100.0, 1000.0}) pts.push_back(pt({x}, 5 * std::pow(x, 0.7)));
  const LogGrid g(1, pts);
  bool fb = false;
  for (double x : {1.0, 10.0, 100.0, 1000.0}) {
    const double q[1] = {x};
    EXPECT_NEAR(g.lookup(q, &fb), 5 * std::pow(x, 0.7), 5 * std::pow(x, 0.7) * kRel);
  }
  EXPECT_FALSE(fb);
  const double q[1] = {31.0};
  const double w = (std::log1p(31.0) - std::log1p(10.0)) / (std::log1p(100.0) - std::log1p(10.0));
  const double want = std::exp((1 - w) * std::log(5 * std::pow(10.0, 0.7)) +
                               w * std::log(5 * std::pow(100.0, 0.7)));
  EXPECT_NEAR(g.lookup(q, &fb), want, want * kRel);
  EXPECT_FALSE(fb);
}

TEST(LogGrid, RaggedGridUsesNearestPointsPerLevel) {
  // Triangular batch × context grid: batch 1 has contexts up to 1000, batch 10 only up to 100.
  std::vector<LogGrid::Point> pts = {pt({1, 10}, 1.0), pt({1, 100}, 2.0), pt({1, 1000}, 4.0),
                                     pt({10, 10}, 3.0), pt({10, 100}, 6.0)};
  const LogGrid g(2, pts);
  bool fb = false;
  const double at[2] = {10, 100};
  EXPECT_DOUBLE_EQ(g.lookup(at, &fb), 6.0);
  EXPECT_FALSE(fb);
  // Between batches at context 100: log blend of 2 and 6 with the log1p weight of batch 4.
  const double mid[2] = {4, 100};
  const double w = (std::log1p(4.0) - std::log1p(1.0)) / (std::log1p(10.0) - std::log1p(1.0));
  EXPECT_NEAR(g.lookup(mid, &fb), std::exp((1 - w) * std::log(2.0) + w * std::log(6.0)), 1e-12);
  EXPECT_FALSE(fb);
  // Context 1000 exists for batch 1 only: batch 10 clamps (fallback), anchored by r ≡ x0·x1.
  const double far[2] = {10, 1000};
  fb = false;
  const double v = g.lookup(
      far, [](const double* c) { return std::log(c[0] * c[1]); }, &fb);
  EXPECT_TRUE(fb);
  EXPECT_NEAR(v, 6.0 * (10.0 * 1000.0) / (10.0 * 100.0),
              1e-9);  // t(10,100) · r(10,1000) / r(10,100)
}

TEST(LogGrid, AnchoredExtrapolationBeyondBothEnds) {
  const LogGrid g(1, {pt({16}, 2.0), pt({256}, 8.0)});
  auto ref = [](const double* c) { return std::log(c[0]); };  // reference ∝ x
  bool fb = false;
  const double hi[1] = {1024};
  EXPECT_NEAR(g.lookup(hi, ref, &fb), 8.0 * 1024 / 256, 1e-12);
  EXPECT_TRUE(fb);
  fb = false;
  const double lo[1] = {4};
  EXPECT_NEAR(g.lookup(lo, ref, &fb), 2.0 * 4 / 16, 1e-12);
  EXPECT_TRUE(fb);
  fb = false;
  EXPECT_NEAR(g.lookup(hi, &fb), 8.0, 1e-12);  // no reference: constant
}

TEST(LogGrid, DuplicatesMergeByGeometricMeanAndViewsFixAPrefix) {
  const LogGrid g(2, {pt({4, 1}, 2.0), pt({4, 1}, 8.0), pt({4, 100}, 16.0), pt({8, 1}, 1.0),
                      pt({8, 100}, 1.0)});
  EXPECT_EQ(g.size(), 4u);
  bool fb = false;
  const double q[2] = {4, 1};
  EXPECT_NEAR(g.lookup(q, &fb), 4.0, 1e-12);
  const double prefix[1] = {4};
  const LogGrid::View v = g.view(prefix);
  const double rest[1] = {100};
  EXPECT_NEAR(v.lookup(
                  rest, [](const double*) { return 0.0; }, &fb),
              16.0, 1e-12);
  EXPECT_FALSE(fb);
  EXPECT_FALSE(v.clamped());
  const double outside[1] = {2};
  EXPECT_TRUE(g.view(outside).clamped());
  EXPECT_TRUE(g.has_prefix(prefix));
  EXPECT_FALSE(g.has_prefix(outside));
}

TEST(LogGrid, SmoothLastAxisIsExactAtPointsAndMonotone) {
  std::vector<LogGrid::Point> pts;
  for (double x : {1.0, 16.0, 64.0, 256.0, 1024.0, 4096.0})
    pts.push_back(pt({x}, 10.0 + x * x / 1000.0));
  const LogGrid g(1, pts, true);
  bool fb = false;
  double prev = 0;
  for (double x = 1; x <= 4096; x *= 1.5) {
    const double q[1] = {x};
    const double v = g.lookup(q, &fb);
    EXPECT_GE(v, prev - 1e-12) << x;
    prev = v;
  }
  for (const auto& p : pts) EXPECT_NEAR(g.lookup(p.x.data(), &fb), p.value, p.value * kRel);
  EXPECT_FALSE(fb);
}

class SyntheticProfile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.write("h100_llama-3-8b_tp1.json", testing::synthetic_profile().dump());
    tables_ = ProfileTables::compile(import_profile(path_));
  }
  MeasuredCostModel model(const char* hw = "h100-sxm", bool device_check = true) {
    RooflineParams p;
    p.step_overhead_us = 0;
    MeasuredOptions o;
    o.device_check = device_check;
    return MeasuredCostModel(deployment("llama-3-8b", hw), tables_, p, o);
  }
  TempDir dir_;
  std::string path_;
  std::shared_ptr<const ProfileTables> tables_;
};

double op_ns(const OpTimes& t, Op op) { return t.ns[static_cast<int>(op)]; }
bool op_fb(const OpTimes& t, Op op) { return t.fell_back[static_cast<int>(op)]; }

TEST_F(SyntheticProfile, GemmsAtAndBetweenGridPoints) {
  const MeasuredCostModel m = model();
  // 16 decoding requests → m = 16 tokens: exactly a grid point of every GEMM.
  OpTimes t;
  const BatchShape b16{{}, 16, 16 * 1024};
  m.explain(b16, &t);
  EXPECT_NEAR(op_ns(t, Op::kQkv), testing::synth_gemm_ms(16, 6144, 4096) * 1e6, 1e-3);
  EXPECT_NEAR(op_ns(t, Op::kDown), testing::synth_gemm_ms(16, 4096, 14336) * 1e6, 1e-3);
  EXPECT_NEAR(op_ns(t, Op::kLmHead), testing::synth_gemm_ms(16, 128256, 4096) * 1e6, 1e-3);
  EXPECT_FALSE(op_fb(t, Op::kQkv));
  // 100 tokens lie between 16 and 256: the log1p-log blend of the two grid times.
  OpTimes t2;
  const BatchShape b100{{}, 100, 100 * 1024};
  m.explain(b100, &t2);
  const double w = (std::log1p(100.0) - std::log1p(16.0)) / (std::log1p(256.0) - std::log1p(16.0));
  const double want = std::exp((1 - w) * std::log(testing::synth_gemm_ms(16, 4096, 4096)) +
                               w * std::log(testing::synth_gemm_ms(256, 4096, 4096))) *
                      1e6;
  EXPECT_NEAR(op_ns(t2, Op::kOProj), want, want * 1e-9);
  EXPECT_FALSE(op_fb(t2, Op::kOProj));
}

TEST_F(SyntheticProfile, AttentionDecodeAndPrefillFromTheTables) {
  const MeasuredCostModel m = model();
  OpTimes t;
  m.explain(BatchShape{{}, 16, 16 * 1024}, &t);  // mean context 1024, batch 16: a grid point
  EXPECT_NEAR(op_ns(t, Op::kAttnDecode), testing::synth_decode_ms(16, 1024) * 1e6, 1e-3);
  EXPECT_FALSE(op_fb(t, Op::kAttnDecode));
  // One chunk of 512 after 4096 cached: the prefill table varies prior context, so it is a grid
  // point.
  const PrefillSegment chunk{512, 4096};
  OpTimes p;
  m.explain(BatchShape{std::span<const PrefillSegment>(&chunk, 1), 0, 0}, &p);
  EXPECT_NEAR(op_ns(p, Op::kAttnPrefill), testing::synth_prefill_ms(1, 512, 4096) * 1e6, 1e-3);
  EXPECT_FALSE(op_fb(p, Op::kAttnPrefill));
  // Elementwise at 16 tokens (grid points): fused add+norm twice per layer, rope, act.
  EXPECT_NEAR(op_ns(t, Op::kAddNorm), 2 * testing::synth_elem_ms(16) * 1e6, 1e-3);
  EXPECT_NEAR(op_ns(t, Op::kRope), testing::synth_elem_ms(16) * 1e6, 1e-3);
  EXPECT_NEAR(op_ns(t, Op::kAct), testing::synth_elem_ms(16) * 1e6, 1e-3);
}

TEST_F(SyntheticProfile, OutsideTheRangeFallsBackAndSaysWhich) {
  const MeasuredCostModel m = model();
  // 8192 tokens exceed the GEMM grid (max m 4096): GEMM falls back, anchored to the 4096 point.
  const PrefillSegment big{8192, 0};
  OpTimes t;
  const IterationCost c = m.explain(BatchShape{std::span<const PrefillSegment>(&big, 1), 0, 0}, &t);
  EXPECT_TRUE(c.fallback_mask & (1u << static_cast<int>(OpClass::kGemm)));
  EXPECT_TRUE(op_fb(t, Op::kQkv));
  const RooflineCostModel& r = m.roofline();
  const double want = testing::synth_gemm_ms(4096, 6144, 4096) * 1e6 * r.gemm_ns(8192, 6144, 4096) /
                      r.gemm_ns(4096, 6144, 4096);
  EXPECT_NEAR(op_ns(t, Op::kQkv), want, want * 1e-9);
  // Prefill of 8192 tokens also exceeds the prefill grid (max 4096 tokens).
  EXPECT_TRUE(c.fallback_mask & (1u << static_cast<int>(OpClass::kAttentionPrefill)));
  // Decode inside every range: no fallback bit at all but communication (none at TP 1).
  const IterationCost d = m.estimate(BatchShape{{}, 16, 16 * 1024});
  EXPECT_EQ(d.fallback_mask, 0u);
  // Decode with a context beyond the table (mean 16384 > 8192): attention_decode falls back.
  const IterationCost far = m.estimate(BatchShape{{}, 16, 16 * 16384});
  EXPECT_TRUE(far.fallback_mask & (1u << static_cast<int>(OpClass::kAttentionDecode)));
  EXPECT_FALSE(far.fallback_mask & (1u << static_cast<int>(OpClass::kGemm)));
}

TEST_F(SyntheticProfile, IterationSumsLayersAndIsPureInTheShape) {
  const MeasuredCostModel m = model();
  const PrefillSegment segs[2] = {{300, 0}, {200, 1000}};
  const BatchShape b{segs, 40, 40 * 700};
  const IterationCost c1 = m.estimate(b), c2 = m.estimate(b);
  EXPECT_EQ(c1.duration_ns, c2.duration_ns);
  double sum = 0;
  for (double x : c1.breakdown_ns) sum += x;
  EXPECT_NEAR(static_cast<double>(c1.duration_ns), sum, 1.0);
  // Layers: 32 × per-layer plus once-per-iteration ops (LM head, embedding, sampling).
  OpTimes t;
  m.explain(b, &t);
  double per_layer = 0;
  for (int i = 0; i < kNumOps; ++i) {
    if (op_spec(static_cast<Op>(i)).per_layer &&
        op_spec(static_cast<Op>(i)).op_class != OpClass::kCommunication) {
      per_layer += t.ns[i];
    }
  }
  EXPECT_NEAR(c1.per_layer_ns, per_layer, 1e-6);
  EXPECT_NEAR(sum,
              32 * per_layer + op_ns(t, Op::kLmHead) + op_ns(t, Op::kEmbed) + op_ns(t, Op::kSample),
              1.0);
  EXPECT_EQ(m.estimate(BatchShape{}).duration_ns, 0);
}

// The per-count price memo is exact and private to a model: two models of different
// deployments priced interleaved give, op by op and bit for bit, what a fresh model of each
// (an empty memo) gives alone.
TEST_F(SyntheticProfile, PriceMemoIsExactAndPerModel) {
  auto shapes = [] {
    std::vector<std::pair<std::vector<PrefillSegment>, std::int64_t>> v;
    for (int i = 1; i <= 40; ++i) v.push_back({{{i * 37, i % 3 == 0 ? 512 : 0}}, i % 7});
    for (int b = 1; b <= 64; b += 3) v.push_back({{}, b});
    return v;
  }();
  using Times = std::vector<std::array<double, kNumOps>>;
  auto run = [&](const MeasuredCostModel& a, const MeasuredCostModel* other, Times* other_out) {
    Times out;
    for (const auto& [segs, decodes] : shapes) {
      const BatchShape b{segs, decodes, decodes * 900};
      OpTimes t, u;
      a.explain(b, &t);
      out.push_back(t.ns);
      if (other != nullptr) {
        other->explain(b, &u);
        other_out->push_back(u.ns);
      }
    }
    return out;
  };
  RooflineParams p;
  p.step_overhead_us = 0;
  const MeasuredCostModel h100 = model("h100-sxm"),
                          other(deployment("llama-3-8b", "h100-sxm", 2), tables_, p, {});
  Times other_interleaved, other_again, alone, other_alone;
  const Times interleaved = run(h100, &other, &other_interleaved);
  const Times again = run(other, &h100, &other_again);  // the other model first this time
  std::thread([&] { alone = run(model("h100-sxm"), nullptr, nullptr); }).join();
  std::thread([&] {
    other_alone = run(MeasuredCostModel(deployment("llama-3-8b", "h100-sxm", 2), tables_, p, {}),
                      nullptr, nullptr);
  }).join();
  ASSERT_NE(alone, other_alone);  // the two deployments price differently
  EXPECT_EQ(interleaved, alone);
  EXPECT_EQ(other_interleaved, other_alone);
  EXPECT_EQ(again, other_alone);
  EXPECT_EQ(other_again, alone);
}

TEST_F(SyntheticProfile, DeviceCheckRejectsTablesOfAnotherGpu) {
  EXPECT_THROW(model("a100-80g"), ConfigError);
  EXPECT_NO_THROW(model("a100-80g", false));
  EXPECT_TRUE(device_matches("NVIDIA H100 80GB HBM3", "h100-sxm"));
  EXPECT_TRUE(device_matches("NVIDIA A100-SXM4-80GB", "a100-80g"));
  EXPECT_FALSE(device_matches("NVIDIA H200", "h100-sxm"));
  EXPECT_TRUE(device_matches("", "h100-sxm"));
  EXPECT_EQ(hardware_for_device("NVIDIA H200"), "h200-sxm");
  // "a10" is not the family of an A100 (validate-cost used to price A100 tables as an A10).
  EXPECT_FALSE(device_matches("NVIDIA A100-SXM4-80GB", "a10"));
  EXPECT_TRUE(device_matches("NVIDIA A10", "a10"));
  EXPECT_EQ(hardware_for_device("NVIDIA A100-SXM4-80GB"), "a100-80g");
  EXPECT_EQ(hardware_for_device("NVIDIA A10G"), "a10g");
}

TEST_F(SyntheticProfile, ScenarioReadsProfilesRelativeToDataDir) {
  auto tree = testing::parse_yaml(
      "impl: measured\nprofiles: [h100_llama-3-8b_tp1.json]\nstep_overhead_us: 0\n");
  Deployment d = deployment("llama-3-8b", "h100-sxm");
  d.data_dir = std::filesystem::path(path_).parent_path().string();
  auto cm = make_cost_model(tree->root(), d);
  tree->check_all_consumed();
  ASSERT_NE(dynamic_cast<MeasuredCostModel*>(cm.get()), nullptr);
  EXPECT_GT(cm->estimate(BatchShape{{}, 16, 16 * 1024}).duration_ns, 0);
  // A path found nowhere is a ConfigError naming it; a missing profiles key too.
  auto missing = testing::parse_yaml("impl: measured\nprofiles: [nope/none.json]\n");
  try {
    make_cost_model(missing->root(), d);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("nope/none.json"), std::string::npos) << e.what();
  }
  auto empty = testing::parse_yaml("impl: measured\n");
  EXPECT_THROW(make_cost_model(empty->root(), d), ConfigError);
}

TEST(ProfileImport, MalformedRowsNameFileAndLine) {
  TempDir dir;
  const std::string header =
      "framework,version,device,op_name,kernel_source,gemm_dtype,m,n,k,latency\n";
  const std::string good = "VLLM,0.1,NVIDIA H100 80GB HBM3,gemm,x,bfloat16,16,4096,4096,0.02\n";
  const std::string bad_num = dir.write(
      "gemm_perf.csv",
      header + good + "VLLM,0.1,NVIDIA H100 80GB HBM3,gemm,x,bfloat16,abc,4096,4096,0.02\n");
  try {
    import_profile(bad_num);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(bad_num + ":3: column 'm': 'abc' is not a number"),
              std::string::npos)
        << e.what();
  }
  TempDir d2;
  const std::string neg = d2.write(
      "gemm_perf.csv", header + good + good + "VLLM,0.1,dev,gemm,x,bfloat16,16,4096,4096,-1\n");
  EXPECT_THROW(import_profile(neg), InputError);
  TempDir d3;
  const std::string short_row =
      d3.write("gemm_perf.csv", header + "VLLM,0.1,dev,gemm,x,bfloat16,16,4096\n");
  try {
    import_profile(short_row);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(":2: expected 10 fields, found 8"), std::string::npos)
        << e.what();
  }
  TempDir d4;
  const std::string no_col = d4.write("gemm_perf.csv", "m,n,k\n1,2,3\n");
  try {
    import_profile(no_col);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(":1: missing column 'gemm_dtype'"), std::string::npos)
        << e.what();
  }
  // Kernel profile: a record without median_ms names its index.
  nlohmann::json doc = testing::synthetic_profile();
  doc["ops"][1].erase("median_ms");
  const std::string j = dir.write("p.json", doc.dump());
  try {
    import_profile(j);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("ops[1] (gemm_qkv): missing 'median_ms'"),
              std::string::npos)
        << e.what();
  }
  doc = testing::synthetic_profile();
  doc["version"] = 2;
  EXPECT_THROW(import_profile(dir.write("v2.json", doc.dump())), InputError);
  EXPECT_THROW(import_profile(dir.write("notes.txt", "hello")), InputError);
}

TEST(ProfileImport, VidurAndAiconfiguratorFormatsByHand) {
  TempDir dir;
  // Vidur mlp.csv: one row of llama-3-8b at TP 2 → GEMM points with the TP-2 shard's (k, n).
  std::filesystem::create_directories(dir.file("compute/a100/meta-llama/Meta-Llama-3-8B"));
  const std::string mlp = dir.write(
      "compute/a100/meta-llama/Meta-Llama-3-8B/mlp.csv",
      "time_stats.attn_pre_proj.median,time_stats.mlp_up_proj.median,time_stats.mlp_act.median,n_"
      "head,n_kv_head,"
      "n_embd,n_expanded_embd,vocab_size,use_gated_mlp,num_tokens,num_tensor_parallel_workers\n"
      "0.1,0.2,0.01,32,8,4096,14336,128256,True,64,2\n");
  (void)mlp;
  const ProfileData v = import_profile(dir.file("compute"));
  ASSERT_EQ(v.sources.size(), 1u);
  EXPECT_EQ(v.sources[0].device, "a100");
  const auto& g = v.gemm.at("bf16");
  ASSERT_EQ(g.size(), 2u);
  // QKV: k = 4096, n = (16 + 2·4) · 128 = 3072, m = 64, 0.1 ms.
  EXPECT_EQ(g[0].x[0], 4096);
  EXPECT_EQ(g[0].x[1], 3072);
  EXPECT_EQ(g[0].x[2], 64);
  EXPECT_DOUBLE_EQ(g[0].value, 0.1e6);
  EXPECT_EQ(g[1].x[1], 2 * 7168);  // gate+up of the 7168-wide shard
  EXPECT_EQ(v.elementwise.at("act_gated")[0].x[0], 7168);
  // aiconfigurator generation attention: context = isl + step; heads keyed by group size.
  TempDir d2;
  const std::string gen = d2.write("generation_attention_perf.csv",
                                   "framework,version,device,op_name,kernel_source,batch_size,isl,"
                                   "num_heads,num_key_value_heads,head_dim,"
                                   "beam_width,attn_dtype,kv_cache_dtype,step,latency\n"
                                   "VLLM,0.14.0,NVIDIA "
                                   "A100-SXM4-80GB,generation_attention,vllm_flash_attn,8,1,32,8,"
                                   "128,1,bfloat16,bfloat16,1023,0.05\n");
  const ProfileData a = import_profile(gen);
  const auto& pts = a.decode.at(AttnKey{128, 2});
  ASSERT_EQ(pts.size(), 1u);
  EXPECT_EQ(pts[0].x[0], 4);     // 32 / 8 query heads per KV head
  EXPECT_EQ(pts[0].x[1], 8);     // KV heads
  EXPECT_EQ(pts[0].x[2], 8);     // batch
  EXPECT_EQ(pts[0].x[3], 1024);  // context
  // Custom all-reduce message_size counts bf16 elements.
  TempDir d3;
  const ProfileData c = import_profile(
      d3.write("custom_allreduce_perf.csv",
               "framework,version,device,op_name,kernel_source,allreduce_dtype,num_gpus,message_"
               "size,latency,backend\n"
               "vLLM,0.24.0,NVIDIA H100 80GB "
               "HBM3,all_reduce,vLLM_custom_graph,bfloat16,4,1024,0.005,vllm_graph\n"));
  EXPECT_EQ(c.comm.at(CommKey{"all_reduce", "vllm_graph"})[0].x[1], 2048);
}

TEST(MeasuredRealTables, AiconfiguratorH100) {
  SKIP_WITHOUT_SHARED_DATA(data);
  auto tables = load_profile_tables({data + "/profiles/aiconfigurator/h100_sxm"}, ImportOptions{});
  RooflineParams p;
  MeasuredOptions o;
  // llama-3-8b TP 1: GEMM (k, n) and 32/8 heads of 128 are measured; there are no elementwise
  // tables.
  const MeasuredCostModel m(deployment("llama-3-8b", "h100-sxm"), tables, p, o);
  const IterationCost c = m.estimate(BatchShape{{}, 64, 64 * 1000});
  EXPECT_FALSE(c.fallback_mask & (1u << static_cast<int>(OpClass::kGemm)));
  EXPECT_FALSE(c.fallback_mask & (1u << static_cast<int>(OpClass::kAttentionDecode)));
  EXPECT_TRUE(c.fallback_mask & (1u << static_cast<int>(OpClass::kElementwise)));
  const RooflineCostModel r(deployment("llama-3-8b", "h100-sxm"), p);
  const double ratio = static_cast<double>(c.duration_ns) /
                       static_cast<double>(r.estimate(BatchShape{{}, 64, 64 * 1000}).duration_ns);
  EXPECT_GT(ratio, 0.8);
  EXPECT_LT(ratio, 3.0);
  // TP 4 of llama-3-70b: the vLLM all-reduce tables at 4 GPUs serve communication.
  const MeasuredCostModel m70(deployment("llama-3-70b", "h100-sxm", 4), tables, p, o);
  const IterationCost c70 = m70.estimate(BatchShape{{}, 32, 32 * 2000});
  EXPECT_FALSE(c70.fallback_mask & (1u << static_cast<int>(OpClass::kCommunication)));
  EXPECT_GT(c70.comm_ns, 0);
  // Devices are checked.
  EXPECT_THROW(MeasuredCostModel(deployment("llama-3-8b", "a100-80g"), tables, p, o), ConfigError);
}

TEST(MeasuredRealTables, VidurA100SideBySide) {
  SKIP_WITHOUT_SHARED_DATA(data);
  // Vidur's A100 tables for Llama-3-8B (mlp.csv) and the DGX all-reduce: the same tables a Vidur
  // run of this model reads. GEMMs and elementwise ops of TP 2 come from them.
  auto tables =
      load_profile_tables({data + "/profiles/vidur/compute/a100/meta-llama/Meta-Llama-3-8B/mlp.csv",
                           data + "/profiles/vidur/network/a100_dgx/all_reduce.csv"},
                          ImportOptions{});
  const MeasuredCostModel m(deployment("llama-3-8b", "a100-80g", 2), tables, RooflineParams{},
                            MeasuredOptions{});
  OpTimes t;
  const IterationCost c = m.explain(BatchShape{{}, 64, 64 * 1000}, &t);
  EXPECT_FALSE(op_fb(t, Op::kQkv));
  EXPECT_FALSE(op_fb(t, Op::kDown));
  EXPECT_FALSE(op_fb(t, Op::kAddNorm));
  EXPECT_FALSE(op_fb(t, Op::kAct));
  EXPECT_FALSE(op_fb(t, Op::kTpAllReduce));
  EXPECT_TRUE(c.fallback_mask &
              (1u << static_cast<int>(OpClass::kAttentionDecode)));  // no attention table given
}

}  // namespace
}  // namespace servesim
