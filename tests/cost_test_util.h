// tests/cost_test_util.h — helpers of the cost-model tests: deployments from the catalog, a
// synthetic servesim-kernel-profile whose times follow known power laws (so interpolation and
// extrapolation can be checked exactly), and the shared-data location.
#pragma once

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/catalog.h"
#include "models/cost/cost_model.h"

namespace servesim::testing {

inline Deployment deployment(const char* model, const char* hw, int tp = 1, int pp = 1) {
  Deployment d;
  d.model = &Catalog::builtin().model(model);
  d.hardware = &Catalog::builtin().hardware(hw);
  d.tensor_parallel = tp;
  d.pipeline_parallel = pp;
  return d;
}

// ../shared/data (or $SERVESIM_DATA_DIR) when it holds the aiconfigurator tables, else "".
inline std::string shared_data_dir() {
  const char* env = std::getenv("SERVESIM_DATA_DIR");
  const std::string dir = env && *env ? env : std::string(SERVESIM_SOURCE_DIR) + "/../shared/data";
  return std::filesystem::exists(dir + "/profiles/aiconfigurator/h100_sxm") ? dir : "";
}

#define SKIP_WITHOUT_SHARED_DATA(dir)                                                  \
  const std::string dir = ::servesim::testing::shared_data_dir();                      \
  if (dir.empty())                                                                     \
  GTEST_SKIP() << "../shared/data/profiles (aiconfigurator, Vidur tables) is absent; " \
                  "set SERVESIM_DATA_DIR to run this test"

// Synthetic kernel-profile times (ms), power laws in the swept size:
//   GEMM          t = 0.01 · (m/16)^0.5 · (n·k / 2^24)
//   attn_decode   t = 0.02 · batch^0.5 · (context/128)^0.75
//   attn_prefill  t = 0.03 · batch · (tokens/64)^1.5 · (1 + prior/1024)
//   norms/act/rope t = 0.002 · (tokens/16)^0.5
inline double synth_gemm_ms(double m, double n, double k) {
  return 0.01 * std::sqrt(m / 16.0) * (n * k / 16777216.0);
}
inline double synth_decode_ms(double b, double ctx) {
  return 0.02 * std::sqrt(b) * std::pow(ctx / 128.0, 0.75);
}
inline double synth_prefill_ms(double b, double tokens, double prior) {
  return 0.03 * b * std::pow(tokens / 64.0, 1.5) * (1.0 + prior / 1024.0);
}
inline double synth_elem_ms(double tokens) { return 0.002 * std::sqrt(tokens / 16.0); }

// A profile of llama-3-8b's TP-1 shard (hidden 4096, 32/8 heads of 128, FFN 14336 gated,
// vocab 128256) measured on `device`: GEMMs at m ∈ {1, 16, 256, 4096}, decode at batch
// {1, 16, 64} × context {128, 1024, 8192}, prefill at batch 1 × tokens {64, 512, 4096} × prior
// {0, 4096}, elementwise at tokens {1, 16, 256, 4096}.
inline nlohmann::json synthetic_profile(const std::string& device = "NVIDIA H100 80GB HBM3") {
  using nlohmann::json;
  json doc;
  doc["format"] = "servesim-kernel-profile";
  doc["version"] = 1;
  doc["backend"] = "cuda";
  doc["device"] = {{"name", device}};
  const json shard = {{"name", "llama-3-8b"}, {"hidden", 4096}, {"heads", 32},   {"kv_heads", 8},
                      {"head_dim", 128},      {"ffn", 14336},   {"gated", true}, {"vocab", 128256}};
  doc["model"] = shard;
  doc["tp"] = 1;
  doc["shard"] = shard;
  json ops = json::array();
  auto rec = [&](const std::string& op, json shape, double ms) {
    ops.push_back({{"op", op},
                   {"kernel", "synthetic"},
                   {"dtype", "bf16"},
                   {"shape", shape},
                   {"median_ms", ms}});
  };
  struct G {
    const char* op;
    int n, k;
  };
  const G gemms[] = {{"gemm_qkv", 6144, 4096},
                     {"gemm_o", 4096, 4096},
                     {"gemm_gate_up", 28672, 4096},
                     {"gemm_down", 4096, 14336}};
  for (const G& g : gemms) {
    for (int m : {1, 16, 256, 4096}) {
      rec(g.op, {{"tokens", m}, {"m", m}, {"n", g.n}, {"k", g.k}}, synth_gemm_ms(m, g.n, g.k));
    }
  }
  for (int m : {1, 16, 256}) {
    rec("gemm_lm_head", {{"tokens", m}, {"m", m}, {"n", 128256}, {"k", 4096}},
        synth_gemm_ms(m, 128256, 4096));
  }
  for (int b : {1, 16, 64}) {
    for (int c : {128, 1024, 8192})
      rec("attn_decode", {{"tokens", b}, {"batch", b}, {"context", c}}, synth_decode_ms(b, c));
  }
  for (int t : {64, 512, 4096}) {
    for (int p : {0, 4096}) {
      rec("attn_prefill", {{"tokens", t}, {"batch", 1}, {"prior", p}, {"context", t + p}},
          synth_prefill_ms(1, t, p));
    }
  }
  for (int t : {1, 16, 256, 4096}) {
    rec("rms_norm", {{"tokens", t}, {"hidden", 4096}}, synth_elem_ms(t));
    rec("add_rms_norm", {{"tokens", t}, {"hidden", 4096}}, synth_elem_ms(t));
    rec("rope_cache", {{"tokens", t}}, synth_elem_ms(t));
    rec("act", {{"tokens", t}, {"width", 14336}}, synth_elem_ms(t));
  }
  doc["ops"] = ops;
  doc["layers"] = json::array();
  return doc;
}

}  // namespace servesim::testing
