// models/kernels/model_shapes.cc — the built-in model table and tensor-parallel sharding.
#include "model_shapes.h"

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace servesim::kernels {

const std::vector<ModelShape>& BuiltinModels() {
  static const std::vector<ModelShape> kModels = {
      // name, hidden, heads, kv, head_dim, ffn, gated, vocab, theta, llama3, eps
      {"llama-3-8b", 4096, 32, 8, 128, 14336, true, 128256, 500000.0, true, 1e-5f},
      {"llama-2-7b", 4096, 32, 32, 128, 11008, true, 32000, 10000.0, false, 1e-5f},
      {"llama-2-13b", 5120, 40, 40, 128, 13824, true, 32000, 10000.0, false, 1e-5f},
      {"llama-3-70b", 8192, 64, 8, 128, 28672, true, 128256, 500000.0, true, 1e-5f},
  };
  return kModels;
}

ModelShape FindModel(std::string_view name) {
  std::string valid;
  for (const ModelShape& m : BuiltinModels()) {
    if (m.name == name) return m;
    valid += (valid.empty() ? "" : ", ") + m.name;
  }
  throw std::invalid_argument("unknown model '" + std::string(name) +
                              "'; valid values are: " + valid);
}

ModelShape ShardForTp(const ModelShape& m, int tp) {
  if (tp < 1) throw std::invalid_argument("tp must be >= 1");
  if (m.heads % tp != 0 || m.ffn % tp != 0) {
    throw std::invalid_argument("model " + m.name + ": heads (" + std::to_string(m.heads) +
                                ") and ffn (" + std::to_string(m.ffn) +
                                ") must be divisible by tp=" + std::to_string(tp));
  }
  if (m.kv_heads >= tp && m.kv_heads % tp != 0) {
    throw std::invalid_argument("model " + m.name + ": kv heads not divisible by tp");
  }
  ModelShape s = m;
  s.heads = m.heads / tp;
  s.kv_heads = m.kv_heads >= tp ? m.kv_heads / tp : 1;
  s.ffn = m.ffn / tp;
  s.vocab = (m.vocab + tp - 1) / tp;
  return s;
}

std::vector<float> RopeInvFreq(const ModelShape& m) {
  const int half = m.head_dim / 2;
  std::vector<float> inv(half);
  // llama-3.1 rope scaling constants (factor, low/high frequency factors, original context).
  constexpr double kFactor = 8.0, kLow = 1.0, kHigh = 4.0, kOriginal = 8192.0;
  for (int i = 0; i < half; ++i) {
    double f = 1.0 / std::pow(m.rope_theta, (2.0 * i) / m.head_dim);
    if (m.rope_llama3) {
      const double wavelen = 2.0 * std::numbers::pi / f;
      const double low_wavelen = kOriginal / kLow, high_wavelen = kOriginal / kHigh;
      if (wavelen > low_wavelen) {
        f = f / kFactor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (kOriginal / wavelen - kLow) / (kHigh - kLow);
        f = (1.0 - smooth) * f / kFactor + smooth * f;
      }
    }
    inv[i] = static_cast<float>(f);
  }
  return inv;
}

}  // namespace servesim::kernels
