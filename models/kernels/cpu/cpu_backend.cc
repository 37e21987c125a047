// models/kernels/cpu/cpu_backend.cc — the reference implementations (f32 arithmetic on
// the stored inputs; one rounding to the output dtype per output element).
#include "cpu_backend.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <thread>

#include "../validate.h"
#include "parallel_for.h"

namespace servesim::kernels {
namespace {

// Reads a whole tensor (or its first n elements) as floats.
std::vector<float> ToFloats(const Tensor& t, int64_t n = -1) {
  if (n < 0) n = t.elems;
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = LoadAsFloat(t.dtype, t.data, i);
  return v;
}

const int32_t* Ints(const Tensor& t) { return static_cast<const int32_t*>(t.data); }

float Dot(const float* a, const float* b, int n) {
  // Eight independent partial sums: vectorisable, and a well-conditioned f32 sum.
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float s = 0.0f;
  for (; i < n; ++i) s += a[i] * b[i];
  for (float x : acc) s += x;
  return s;
}

float Silu(float x) { return x / (1.0f + std::exp(-x)); }

// Gathers positions [0, len) of one kv head of a sequence from the paged cache.
void GatherPaged(const Tensor& cache, const int32_t* block_row, int len, int kv_heads, int kvh,
                 int head_dim, std::vector<float>& dst) {
  dst.resize(static_cast<size_t>(len) * head_dim);
  for (int p = 0; p < len; ++p) {
    const int64_t block = block_row[p / kBlockTokens];
    const int64_t base = ((block * kBlockTokens + p % kBlockTokens) * kv_heads + kvh) * head_dim;
    for (int d = 0; d < head_dim; ++d) {
      dst[static_cast<size_t>(p) * head_dim + d] = LoadAsFloat(cache.dtype, cache.data, base + d);
    }
  }
}

// out[d] = sum_j softmax_j(scale * q.K[j]) V[j][d] over keys j in [0, n_keys).
void AttendOne(const float* q, const float* keys, const float* values, int n_keys, int head_dim,
               float scale, std::vector<float>& scores, float* out) {
  scores.resize(n_keys);
  float mx = -std::numeric_limits<float>::infinity();
  for (int j = 0; j < n_keys; ++j) {
    scores[j] = scale * Dot(q, keys + static_cast<size_t>(j) * head_dim, head_dim);
    mx = std::max(mx, scores[j]);
  }
  double sum = 0.0;
  for (int j = 0; j < n_keys; ++j) {
    scores[j] = std::exp(scores[j] - mx);
    sum += scores[j];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (int j = 0; j < n_keys; ++j) {
    const float p = scores[j] * inv;
    const float* v = values + static_cast<size_t>(j) * head_dim;
    for (int d = 0; d < head_dim; ++d) out[d] += p * v[d];
  }
}

}  // namespace

DeviceInfo CpuBackend::Device() const {
  DeviceInfo info;
  info.name = "cpu";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) info.name = line.substr(colon + 2);
      break;
    }
  }
  info.sm_count = static_cast<int>(std::thread::hardware_concurrency());
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) info.memory_bytes = int64_t{pages} * page;
  const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  if (l2 > 0) info.l2_bytes = l2;
  return info;
}

Tensor CpuBackend::Alloc(DType dtype, int64_t elems) {
  if (elems <= 0) throw std::invalid_argument("Alloc: elems must be positive");
  const size_t bytes = (static_cast<size_t>(elems) * DTypeBytes(dtype) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) throw std::bad_alloc();
  return Tensor{p, dtype, elems};
}

void CpuBackend::Free(Tensor& t) {
  std::free(t.data);
  t = Tensor{};
}

void CpuBackend::CopyFromHost(const Tensor& dst, const void* src) {
  std::memcpy(dst.data, src, dst.bytes());
}

void CpuBackend::CopyToHost(void* dst, const Tensor& src) {
  std::memcpy(dst, src.data, src.bytes());
}

void CpuBackend::CopyDevice(const Tensor& dst, const Tensor& src) {
  std::memcpy(dst.data, src.data, std::min(dst.bytes(), src.bytes()));
}

void CpuBackend::Fill(const Tensor& t, float value) {
  for (int64_t i = 0; i < t.elems; ++i) StoreFromFloat(t.dtype, t.data, i, value);
}

void CpuBackend::FillRandom(const Tensor& t, uint64_t seed, float lo, float hi) {
  if (t.dtype == DType::kI32) throw std::invalid_argument("FillRandom: float types only");
  ParallelFor((t.elems + 65535) / 65536, [&](int64_t chunk) {
    const int64_t end = std::min<int64_t>(t.elems, (chunk + 1) * 65536);
    for (int64_t i = chunk * 65536; i < end; ++i) {
      StoreFromFloat(t.dtype, t.data, i, HashUniform(seed, i, lo, hi));
    }
  });
}

std::string CpuBackend::Gemm(const GemmArgs& a) {
  ValidateGemm(a);
  const std::vector<float> A = ToFloats(a.a, int64_t{a.m} * a.k);
  const std::vector<float> B = ToFloats(a.b, int64_t{a.n} * a.k);
  constexpr int kRowsPerTask = 8;
  ParallelFor((a.m + kRowsPerTask - 1) / kRowsPerTask, [&](int64_t task) {
    const int i_end = std::min<int>(a.m, static_cast<int>(task + 1) * kRowsPerTask);
    for (int i = static_cast<int>(task) * kRowsPerTask; i < i_end; ++i) {
      const float* ai = A.data() + static_cast<size_t>(i) * a.k;
      for (int j = 0; j < a.n; ++j) {
        const float v = a.alpha * Dot(ai, B.data() + static_cast<size_t>(j) * a.k, a.k);
        StoreFromFloat(a.c.dtype, a.c.data, static_cast<size_t>(i) * a.n + j, v);
      }
    }
  });
  return std::string("cpu_gemm_") + std::string(DTypeName(a.a.dtype));
}

std::string CpuBackend::RmsNorm(const RmsNormArgs& a) {
  ValidateRmsNorm(a);
  const DType t = a.x.dtype;
  const std::vector<float> w = ToFloats(a.weight, a.hidden);
  ParallelFor(a.tokens, [&](int64_t tok) {
    std::vector<float> row(a.hidden);
    const size_t base = static_cast<size_t>(tok) * a.hidden;
    double sumsq = 0.0;
    for (int i = 0; i < a.hidden; ++i) {
      float x = LoadAsFloat(t, a.x.data, base + i);
      if (!a.residual.empty()) {
        x = RoundTo(t, x + LoadAsFloat(t, a.residual.data, base + i));
        StoreFromFloat(t, a.residual.data, base + i, x);
      }
      row[i] = x;
      sumsq += static_cast<double>(x) * x;
    }
    const float rstd = static_cast<float>(1.0 / std::sqrt(sumsq / a.hidden + a.eps));
    for (int i = 0; i < a.hidden; ++i)
      StoreFromFloat(t, a.out.data, base + i, row[i] * rstd * w[i]);
  });
  return a.residual.empty() ? "cpu_rms_norm" : "cpu_add_rms_norm";
}

std::string CpuBackend::Act(const ActArgs& a) {
  ValidateAct(a);
  const DType t = a.in.dtype;
  const int64_t in_row = int64_t{a.width} * (a.gated ? 2 : 1);
  ParallelFor(a.tokens, [&](int64_t tok) {
    for (int f = 0; f < a.width; ++f) {
      const float g = LoadAsFloat(t, a.in.data, tok * in_row + f);
      float v = Silu(g);
      if (a.gated) v *= LoadAsFloat(t, a.in.data, tok * in_row + a.width + f);
      StoreFromFloat(t, a.out.data, tok * a.width + f, v);
    }
  });
  return a.gated ? "cpu_silu_mul" : "cpu_silu";
}

std::string CpuBackend::RopeCache(const RopeCacheArgs& a) {
  ValidateRopeCache(a);
  const int half = a.head_dim / 2;
  const float* inv_freq = static_cast<const float*>(a.inv_freq.data);
  const int32_t* pos = Ints(a.positions);
  const int32_t* slots = Ints(a.slot_mapping);
  auto* qkv = static_cast<uint16_t*>(a.qkv.data);
  ParallelFor(a.tokens, [&](int64_t t) {
    uint16_t* row = qkv + t * a.row_stride;
    for (int i = 0; i < half; ++i) {
      const float angle = static_cast<float>(pos[t]) * inv_freq[i];  // f32 product
      const float c = static_cast<float>(std::cos(static_cast<double>(angle)));
      const float s = static_cast<float>(std::sin(static_cast<double>(angle)));
      for (int h = 0; h < a.heads + a.kv_heads; ++h) {  // q heads then k heads
        uint16_t* x = row + static_cast<size_t>(h) * a.head_dim;
        const float x1 = Bf16ToFloat(x[i]), x2 = Bf16ToFloat(x[i + half]);
        x[i] = FloatToBf16(x1 * c - x2 * s);
        x[i + half] = FloatToBf16(x2 * c + x1 * s);
      }
    }
    if (slots[t] < 0) return;
    const int64_t kv_width = int64_t{a.kv_heads} * a.head_dim;
    const uint16_t* k = row + int64_t{a.heads} * a.head_dim;
    const uint16_t* v = k + kv_width;
    std::memcpy(static_cast<uint16_t*>(a.k_cache.data) + slots[t] * kv_width, k, kv_width * 2);
    std::memcpy(static_cast<uint16_t*>(a.v_cache.data) + slots[t] * kv_width, v, kv_width * 2);
  });
  return "cpu_rope_cache";
}

std::string CpuBackend::AttnPrefill(const PrefillArgs& a) {
  ValidatePrefill(a);
  const int32_t* cu = Ints(a.cu_seqlens_q);
  const int32_t* prior = Ints(a.prior_lens);
  const int32_t* bt = Ints(a.block_table);
  const int group = a.heads / a.kv_heads;
  const int D = a.head_dim;
  ParallelFor(int64_t{a.num_seqs} * a.kv_heads, [&](int64_t task) {
    const int s = static_cast<int>(task / a.kv_heads), kvh = static_cast<int>(task % a.kv_heads);
    const int q_len = cu[s + 1] - cu[s];
    const int kv_len = prior[s] + q_len;
    if (q_len <= 0) return;
    std::vector<float> K, V, scores, q(D), o(D);
    GatherPaged(a.k_cache, bt + int64_t{s} * a.max_blocks_per_seq, kv_len, a.kv_heads, kvh, D, K);
    GatherPaged(a.v_cache, bt + int64_t{s} * a.max_blocks_per_seq, kv_len, a.kv_heads, kvh, D, V);
    for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
      for (int i = 0; i < q_len; ++i) {
        const int64_t row = cu[s] + i;
        for (int d = 0; d < D; ++d) {
          q[d] = LoadAsFloat(DType::kBF16, a.q.data, row * a.q_row_stride + int64_t{h} * D + d);
        }
        AttendOne(q.data(), K.data(), V.data(), prior[s] + i + 1, D, a.scale, scores, o.data());
        for (int d = 0; d < D; ++d) {
          StoreFromFloat(DType::kBF16, a.out.data, (row * a.heads + h) * D + d, o[d]);
        }
      }
    }
  });
  return "cpu_attn_prefill";
}

std::string CpuBackend::AttnDecode(const DecodeArgs& a) {
  ValidateDecode(a);
  const int32_t* ctx = Ints(a.context_lens);
  const int32_t* bt = Ints(a.block_table);
  const int group = a.heads / a.kv_heads;
  const int D = a.head_dim;
  ParallelFor(int64_t{a.batch} * a.kv_heads, [&](int64_t task) {
    const int b = static_cast<int>(task / a.kv_heads), kvh = static_cast<int>(task % a.kv_heads);
    const int len = ctx[b];
    std::vector<float> K, V, scores, q(D), o(D);
    GatherPaged(a.k_cache, bt + int64_t{b} * a.max_blocks_per_seq, len, a.kv_heads, kvh, D, K);
    GatherPaged(a.v_cache, bt + int64_t{b} * a.max_blocks_per_seq, len, a.kv_heads, kvh, D, V);
    for (int h = kvh * group; h < (kvh + 1) * group; ++h) {
      for (int d = 0; d < D; ++d) {
        q[d] = LoadAsFloat(DType::kBF16, a.q.data, b * a.q_row_stride + int64_t{h} * D + d);
      }
      AttendOne(q.data(), K.data(), V.data(), len, D, a.scale, scores, o.data());
      for (int d = 0; d < D; ++d) {
        StoreFromFloat(DType::kBF16, a.out.data, (int64_t{b} * a.heads + h) * D + d, o[d]);
      }
    }
  });
  return "cpu_attn_decode";
}

TimingResult CpuBackend::Time(const std::function<void(int)>& body, const TimingOptions& o) {
  const int rotations = std::max(1, o.rotations);
  for (int w = 0; w < o.warmup; ++w) {
    for (int r = 0; r < rotations; ++r) body(r);
  }
  TimingResult result;
  result.cuda_graphs = false;
  for (int i = 0; i < o.iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < rotations; ++r) body(r);
    const auto stop = std::chrono::steady_clock::now();
    result.per_call_ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count() /
                                 rotations);
  }
  return result;
}

}  // namespace servesim::kernels
