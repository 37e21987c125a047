// models/kernels/tests/driver_test.cc — the bench driver on the CPU backend: statistics,
// paged layouts, TP sharding, rotation rule, the profile document's format, and the CLI.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "models/kernels/bench/cli.h"
#include "models/kernels/bench/paged.h"
#include "models/kernels/bench/profile.h"
#include "models/kernels/bench/stats.h"
#include "models/kernels/cpu/cpu_backend.h"

namespace servesim::kernels {
namespace {

ModelShape Tiny() {
  ModelShape m;
  m.name = "tiny";
  m.hidden = 128;
  m.heads = 4;
  m.kv_heads = 2;
  m.head_dim = 64;
  m.ffn = 256;
  m.vocab = 512;
  return m;
}

TEST(Stats, PercentilesInterpolate) {
  const std::vector<double> s = {5, 1, 4, 2, 3};
  EXPECT_DOUBLE_EQ(Percentile(s, 0.5), 3.0);
  EXPECT_DOUBLE_EQ(Percentile(s, 0.1), 1.4);
  EXPECT_DOUBLE_EQ(Percentile(s, 0.9), 4.6);
  const Stats st = Summarize(s);
  EXPECT_EQ(st.samples, 5);
  EXPECT_DOUBLE_EQ(st.min_ms, 1.0);
  EXPECT_THROW(Percentile({}, 0.5), std::invalid_argument);
}

TEST(Paged, RotationsUseDisjointBlocks) {
  const PagedTables pt = MakePagedTables({1, 16, 17, 40}, 3, 5, 4);
  EXPECT_EQ(pt.max_blocks_per_seq, 3);
  EXPECT_EQ(pt.num_blocks, (1 + 1 + 2 + 3) * 3 + 4);
  std::set<int32_t> used;
  const std::vector<int> blocks = {1, 1, 2, 3};
  for (const auto& table : pt.tables) {
    for (int s = 0; s < 4; ++s) {
      for (int b = 0; b < blocks[s]; ++b) {
        const int32_t id = table[s * pt.max_blocks_per_seq + b];
        EXPECT_GE(id, 0);
        EXPECT_LT(id, pt.num_blocks);
        EXPECT_TRUE(used.insert(id).second) << "block " << id << " used twice";
      }
    }
  }
  EXPECT_EQ(SlotOf(pt.tables[0], 3, 3, 33), pt.tables[0][3 * 3 + 2] * kBlockTokens + 1);
}

TEST(ModelShapes, TensorParallelShard) {
  const ModelShape s = ShardForTp(FindModel("llama-3-70b"), 4);
  EXPECT_EQ(s.heads, 16);
  EXPECT_EQ(s.kv_heads, 2);
  EXPECT_EQ(s.ffn, 7168);
  EXPECT_EQ(s.vocab, 32064);
  EXPECT_EQ(s.hidden, 8192);
  EXPECT_EQ(s.qkv_width(), (16 + 4) * 128);
  EXPECT_EQ(ShardForTp(FindModel("llama-3-8b"), 16).kv_heads, 1);  // replicated kv head
  EXPECT_THROW(ShardForTp(FindModel("llama-2-13b"), 3), std::invalid_argument);
  EXPECT_THROW(FindModel("gpt-5"), std::invalid_argument);
}

TEST(BenchContext, RotationRule) {
  BenchContext ctx;
  ctx.l2_bytes = 50 << 20;
  ctx.max_rotations = 64;
  EXPECT_EQ(ctx.RotationsFor(int64_t{200} << 20), 1);
  EXPECT_EQ(ctx.RotationsFor(int64_t{60} << 20), 2);   // 2 x 60 MB > 100 MB
  EXPECT_EQ(ctx.RotationsFor(int64_t{10} << 20), 11);  // 110 MB > 100 MB
  EXPECT_EQ(ctx.RotationsFor(1024), 64);               // capped
  ctx.max_point_bytes = 4096;
  EXPECT_EQ(ctx.RotationsFor(1024), 4);  // memory bound
  ctx.l2_bytes = 0;
  EXPECT_EQ(ctx.RotationsFor(1024), 1);
}

void ExpectRecord(const Json& r) {
  for (const char* k : {"op", "kernel", "dtype", "shape", "flops", "bytes", "rotations",
                        "median_ms", "p10_ms", "p90_ms", "min_ms", "samples"}) {
    ASSERT_TRUE(r.contains(k)) << "missing " << k << " in " << r.dump();
  }
  EXPECT_GT(r["median_ms"].get<double>(), 0.0);
  EXPECT_LE(r["p10_ms"].get<double>(), r["median_ms"].get<double>());
  EXPECT_LE(r["median_ms"].get<double>(), r["p90_ms"].get<double>());
  EXPECT_GE(r["rotations"].get<int>(), 1);
  EXPECT_FALSE(r["kernel"].get<std::string>().empty());
}

TEST(Profile, CpuProfileHasTheDocumentedFormat) {
  CpuBackend be;
  ProfileOptions opt;
  opt.model = Tiny();
  opt.tp = 2;
  opt.grid = QuickGrid();
  opt.timing.warmup = 0;
  opt.timing.iters = 3;
  opt.max_rotations = 2;
  const Json doc = RunProfile(be, opt, nullptr);
  EXPECT_EQ(doc["format"], "servesim-kernel-profile");
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["backend"], "cpu");
  EXPECT_EQ(doc["tp"], 2);
  for (const char* k : {"name", "sm_count", "sm_clock_mhz", "mem_clock_mhz", "l2_bytes",
                        "memory_bytes", "driver_version", "cuda_version"}) {
    EXPECT_TRUE(doc["device"].contains(k)) << k;
  }
  EXPECT_EQ(doc["model"]["heads"], 4);
  EXPECT_EQ(doc["shard"]["heads"], 2);
  EXPECT_EQ(doc["shard"]["kv_heads"], 1);
  EXPECT_EQ(doc["method"]["cuda_graphs"], false);
  EXPECT_EQ(doc["method"]["iters"], 3);
  std::set<std::string> ops;
  for (const Json& r : doc["ops"]) {
    ExpectRecord(r);
    ops.insert(r["op"].get<std::string>());
    if (r["op"] == "gemm_qkv") {
      EXPECT_EQ(r["shape"]["n"], (2 + 2 * 1) * 64);
      EXPECT_EQ(r["shape"]["k"], 128);
      EXPECT_DOUBLE_EQ(r["flops"].get<double>(), 2.0 * r["shape"]["m"].get<int>() * 256 * 128);
    }
    if (r["op"] == "attn_prefill") {
      EXPECT_LE(r["shape"]["context"].get<int>(), 64);
      EXPECT_EQ(r["shape"]["context"].get<int>(),
                r["shape"]["prior"].get<int>() +
                    r["shape"]["tokens"].get<int>() / r["shape"]["batch"].get<int>());
    }
  }
  const std::set<std::string> want = {"gemm_qkv",     "gemm_o",       "gemm_gate_up", "gemm_down",
                                      "gemm_lm_head", "rms_norm",     "add_rms_norm", "rope_cache",
                                      "act",          "attn_prefill", "attn_decode"};
  EXPECT_EQ(ops, want);
  // Quick grid: decode 2 batches x 2 contexts; prefill 2 x 2 (all within 64) + 1 batched.
  int decode = 0, prefill = 0;
  for (const Json& r : doc["ops"]) {
    decode += r["op"] == "attn_decode" ? 1 : 0;
    prefill += r["op"] == "attn_prefill" ? 1 : 0;
  }
  EXPECT_EQ(decode, 4);
  EXPECT_EQ(prefill, 5);
  ASSERT_EQ(doc["layers"].size(), 3u);
  for (const Json& l : doc["layers"]) {
    EXPECT_GT(l["median_ms"].get<double>(), 0.0);
    EXPECT_TRUE(l["shape"].contains("prefill"));
    EXPECT_GE(l["kernels"].size(), 9u);
  }
  EXPECT_EQ(doc["layers"][2]["kind"], "mixed");
  EXPECT_EQ(doc["layers"][2]["kernels"].size(), 10u);  // both attention kernels
}

TEST(Profile, GroupsSelectAndUnknownGroupFails) {
  CpuBackend be;
  ProfileOptions opt;
  opt.model = Tiny();
  opt.grid = QuickGrid();
  opt.timing.warmup = 0;
  opt.timing.iters = 1;
  opt.groups = {"attn_decode"};
  const Json doc = RunProfile(be, opt, nullptr);
  for (const Json& r : doc["ops"]) EXPECT_EQ(r["op"], "attn_decode");
  EXPECT_TRUE(doc["layers"].empty());
  opt.groups = {"attention"};
  EXPECT_THROW(RunProfile(be, opt, nullptr), std::invalid_argument);
}

TEST(Cli, ProfileWritesJsonAndBadFlagsFail) {
  const std::string path = ::testing::TempDir() + "kernels_cli_profile.json";
  std::ostringstream out, err;
  const int rc = RunCli(
      {"profile",    "--backend", "cpu",        "--quick", "--hidden", "128", "--heads", "4",
       "--kv-heads", "2",         "--head-dim", "64",      "--ffn",    "256", "--vocab", "512",
       "--groups",   "gemm,norm", "--iters",    "2",       "--out",    path},
      out, err);
  ASSERT_EQ(rc, 0) << err.str();
  std::ifstream in(path);
  const Json doc = Json::parse(in);
  EXPECT_EQ(doc["format"], "servesim-kernel-profile");
  EXPECT_EQ(doc["model"]["name"], "custom");
  EXPECT_FALSE(doc["ops"].empty());
  std::remove(path.c_str());

  std::ostringstream o2, e2;
  EXPECT_EQ(RunCli({"profile", "--bogus", "1"}, o2, e2), 2);
  EXPECT_NE(e2.str().find("unknown flag --bogus"), std::string::npos);
  EXPECT_EQ(RunCli({"frobnicate"}, o2, e2), 2);
  EXPECT_EQ(RunCli({"profile", "--backend", "cpu", "--heads", "4"}, o2, e2),
            2);  // incomplete shape
  EXPECT_EQ(RunCli({"models"}, o2, e2), 0);
  EXPECT_NE(o2.str().find("llama-3-70b"), std::string::npos);
}

TEST(Cli, CheckAndAttnBenchOnCpu) {
  std::ostringstream out, err;
  EXPECT_EQ(RunCli({"check", "--backend", "cpu", "--quick", "--seed", "3"}, out, err), 0)
      << err.str();
  const Json doc = Json::parse(out.str());
  EXPECT_EQ(doc["failed"], 0);
  EXPECT_EQ(doc["seed"], 3);
  std::ostringstream o2, e2;
  EXPECT_EQ(RunCli({"attn-bench", "--backend", "cpu", "--quick", "--hidden", "128", "--heads", "4",
                    "--kv-heads", "2", "--head-dim", "64", "--ffn", "256", "--vocab", "512",
                    "--iters", "1"},
                   o2, e2),
            0)
      << e2.str();
  const Json ab = Json::parse(o2.str());
  EXPECT_EQ(ab["format"], "servesim-attn-bench");
  EXPECT_EQ(ab["records"].size(), 2u + 4u);
}

}  // namespace
}  // namespace servesim::kernels
