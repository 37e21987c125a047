// models/kernels/tests/cpu_backend_test.cc — the CPU reference backend against naive
// double-precision formulas written out here independently, plus the consistency
// properties the GPU kernels must share (chunked prefill == full prefill, decode == last
// prefill row, grouped-query head mapping) and argument validation.
#include "models/kernels/cpu/cpu_backend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "models/kernels/bench/check.h"
#include "models/kernels/bench/paged.h"
#include "models/kernels/model_shapes.h"

namespace servesim::kernels {
namespace {

class CpuTest : public ::testing::Test {
 protected:
  ~CpuTest() override {
    for (Tensor& t : owned_) be_.Free(t);
  }
  // A tensor holding `values` rounded to dtype.
  Tensor Make(DType dtype, const std::vector<float>& values) {
    Tensor t = be_.Alloc(dtype, static_cast<int64_t>(values.size()));
    for (size_t i = 0; i < values.size(); ++i) StoreFromFloat(dtype, t.data, i, values[i]);
    owned_.push_back(t);
    return t;
  }
  Tensor MakeInts(const std::vector<int32_t>& values) {
    Tensor t = be_.Alloc(DType::kI32, static_cast<int64_t>(values.size()));
    be_.CopyFromHost(t, values.data());
    owned_.push_back(t);
    return t;
  }
  Tensor Poisoned(DType dtype, int64_t n) {
    Tensor t = be_.Alloc(dtype, n);
    be_.Fill(t, std::nanf(""));
    owned_.push_back(t);
    return t;
  }
  static std::vector<float> Read(const Tensor& t) {
    std::vector<float> v(t.elems);
    for (int64_t i = 0; i < t.elems; ++i) v[i] = LoadAsFloat(t.dtype, t.data, i);
    return v;
  }
  std::vector<float> Rand(size_t n, float lo, float hi, DType round_to = DType::kBF16) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (float& x : v) x = RoundTo(round_to, d(rng_));
    return v;
  }

  CpuBackend be_;
  std::mt19937 rng_{12345};
  std::vector<Tensor> owned_;
};

double MaxRelDiff(const std::vector<float>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return std::sqrt(num / den);
}

TEST_F(CpuTest, GemmMatchesNaiveRowMajorXWt) {
  const int m = 5, n = 24, k = 32;
  const std::vector<float> a = Rand(m * k, -1, 1), b = Rand(n * k, -1, 1);
  const Tensor c = Poisoned(DType::kBF16, m * n);
  be_.Gemm({Make(DType::kBF16, a), Make(DType::kBF16, b), c, m, n, k, 0.5f});
  std::vector<double> ref(m * n);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int p = 0; p < k; ++p) s += double{a[i * k + p]} * b[j * k + p];
      ref[i * n + j] = 0.5 * s;
    }
  }
  const std::vector<float> out = Read(c);
  EXPECT_LT(MaxRelDiff(out, ref), 5e-3);
  for (int i = 0; i < m * n; ++i) EXPECT_NEAR(out[i], ref[i], 0.01 * std::fabs(ref[i]) + 1e-3);
}

TEST_F(CpuTest, GemmF32AndFp8) {
  const int m = 3, n = 16, k = 48;
  const std::vector<float> a = Rand(m * k, -1, 1, DType::kF32), b = Rand(n * k, -1, 1, DType::kF32);
  const Tensor c = Poisoned(DType::kF32, m * n);
  be_.Gemm({Make(DType::kF32, a), Make(DType::kF32, b), c, m, n, k, 1.0f});
  std::vector<double> ref(m * n);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      for (int p = 0; p < k; ++p) ref[i * n + j] += double{a[i * k + p]} * b[j * k + p];
    }
  }
  EXPECT_LT(MaxRelDiff(Read(c), ref), 1e-6);
  // fp8: operands are rounded to e4m3 on store; the product uses the rounded values.
  const Tensor a8 = Make(DType::kF8E4M3, a), b8 = Make(DType::kF8E4M3, b);
  const Tensor c8 = Poisoned(DType::kBF16, m * n);
  be_.Gemm({a8, b8, c8, m, n, k, 1.0f});
  const std::vector<float> ar = Read(a8), br = Read(b8);
  std::vector<double> ref8(m * n);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      for (int p = 0; p < k; ++p) ref8[i * n + j] += double{ar[i * k + p]} * br[j * k + p];
    }
  }
  EXPECT_LT(MaxRelDiff(Read(c8), ref8), 5e-3);
  EXPECT_GT(MaxRelDiff(Read(c8), ref), 1e-3);  // e4m3 rounding is visible
}

TEST_F(CpuTest, AddRmsNormUpdatesResidualAndNormalises) {
  const int tokens = 3, hidden = 64;
  const std::vector<float> x = Rand(tokens * hidden, -2, 2), r = Rand(tokens * hidden, -2, 2);
  const std::vector<float> w = Rand(hidden, 0.5f, 1.5f);
  const Tensor res = Make(DType::kBF16, r);
  const Tensor out = Poisoned(DType::kBF16, tokens * hidden);
  be_.RmsNorm({Make(DType::kBF16, x), res, Make(DType::kBF16, w), out, tokens, hidden, 1e-6f});
  const std::vector<float> got_res = Read(res), got = Read(out);
  for (int t = 0; t < tokens; ++t) {
    double ss = 0;
    for (int i = 0; i < hidden; ++i) {
      const double sum = x[t * hidden + i] + r[t * hidden + i];
      EXPECT_NEAR(got_res[t * hidden + i], sum, 0.01 * std::fabs(sum) + 1e-6);
      ss += sum * sum;
    }
    const double rstd = 1.0 / std::sqrt(ss / hidden + 1e-6);
    for (int i = 0; i < hidden; ++i) {
      const double want = (x[t * hidden + i] + r[t * hidden + i]) * rstd * w[i];
      EXPECT_NEAR(got[t * hidden + i], want, 0.02 * std::fabs(want) + 1e-2);
    }
  }
}

TEST_F(CpuTest, SiluMulAndSilu) {
  const int tokens = 2, width = 16;
  const std::vector<float> in = Rand(tokens * 2 * width, -5, 5, DType::kF32);
  const Tensor out = Poisoned(DType::kF32, tokens * width);
  be_.Act({Make(DType::kF32, in), out, tokens, width, true});
  const Tensor out1 = Poisoned(DType::kF32, tokens * width);
  be_.Act({Make(DType::kF32, in), out1, tokens, width, false});
  const std::vector<float> got = Read(out), got1 = Read(out1);
  for (int t = 0; t < tokens; ++t) {
    for (int f = 0; f < width; ++f) {
      const double g = in[t * 2 * width + f], u = in[t * 2 * width + width + f];
      EXPECT_NEAR(got[t * width + f], g / (1 + std::exp(-g)) * u, 1e-5);
      const double g1 = in[t * width + f];  // not gated: rows are `width` wide
      EXPECT_NEAR(got1[t * width + f], g1 / (1 + std::exp(-g1)), 1e-5);
    }
  }
}

TEST_F(CpuTest, RopeRotatesPairsAndWritesCache) {
  ModelShape m = FindModel("llama-3-8b");
  m.heads = 2;
  m.kv_heads = 1;
  m.head_dim = 64;
  const int tokens = 3, half = 32;
  const int64_t width = m.qkv_width();
  const std::vector<float> qkv0 = Rand(tokens * width, -1, 1);
  const Tensor qkv = Make(DType::kBF16, qkv0);
  const std::vector<float> inv = RopeInvFreq(m);
  const std::vector<int32_t> pos = {0, 7, 5000}, slots = {5, -1, 0};
  const Tensor kc = Poisoned(DType::kBF16, 2 * kBlockTokens * m.kv_width());
  const Tensor vc = Poisoned(DType::kBF16, 2 * kBlockTokens * m.kv_width());
  be_.RopeCache({qkv, MakeInts(pos), MakeInts(slots), Make(DType::kF32, inv), kc, vc, tokens,
                 m.heads, m.kv_heads, m.head_dim, width});
  const std::vector<float> got = Read(qkv), k = Read(kc), v = Read(vc);
  for (int t = 0; t < tokens; ++t) {
    for (int h = 0; h < m.heads + m.kv_heads; ++h) {
      for (int i = 0; i < half; ++i) {
        const double ang = static_cast<double>(static_cast<float>(pos[t]) * inv[i]);
        const size_t base = t * width + h * m.head_dim;
        const double x1 = qkv0[base + i], x2 = qkv0[base + i + half];
        EXPECT_NEAR(got[base + i], x1 * std::cos(ang) - x2 * std::sin(ang), 0.01);
        EXPECT_NEAR(got[base + i + half], x2 * std::cos(ang) + x1 * std::sin(ang), 0.01);
      }
    }
    // V is untouched.
    for (int e = 0; e < m.kv_width(); ++e) {
      const size_t i = t * width + (m.heads + m.kv_heads) * m.head_dim + e;
      EXPECT_EQ(got[i], qkv0[i]);
    }
  }
  // Position 0 is the identity.
  for (int e = 0; e < (m.heads + m.kv_heads) * m.head_dim; ++e) EXPECT_EQ(got[e], qkv0[e]);
  // Token 0 -> slot 5, token 2 -> slot 0, token 1 writes nothing.
  for (int e = 0; e < m.kv_width(); ++e) {
    EXPECT_EQ(k[5 * m.kv_width() + e], got[0 * width + m.q_width() + e]);
    EXPECT_EQ(v[5 * m.kv_width() + e], got[0 * width + m.q_width() + m.kv_width() + e]);
    EXPECT_EQ(k[0 * m.kv_width() + e], got[2 * width + m.q_width() + e]);
  }
  int poisoned = 0;
  for (float x : k) poisoned += std::isnan(x) ? 1 : 0;
  EXPECT_EQ(poisoned, (2 * kBlockTokens - 2) * m.kv_width());
}

TEST(ModelShapes, LlamaThreeFrequencyScaling) {
  const std::vector<float> l3 = RopeInvFreq(FindModel("llama-3-8b"));
  const std::vector<float> l2 = RopeInvFreq(FindModel("llama-2-13b"));
  ASSERT_EQ(l3.size(), 64u);
  EXPECT_FLOAT_EQ(l3[0], 1.0f);  // high frequency: unscaled
  EXPECT_FLOAT_EQ(l2[0], 1.0f);
  const double raw_last = 1.0 / std::pow(500000.0, 126.0 / 128.0);
  EXPECT_NEAR(l3[63], raw_last / 8.0, 1e-12);  // low frequency: divided by the factor
  EXPECT_NEAR(l2[63], 1.0 / std::pow(10000.0, 126.0 / 128.0), 1e-9);
}

// ---- attention -------------------------------------------------------------------------

// Independent reference: contiguous K/V per sequence, explicit causal loop, double math.
struct AttnProblem {
  int heads = 4, kv_heads = 2, head_dim = 64;
  std::vector<int> q_lens, priors;
  std::vector<std::vector<float>> k, v;  // per sequence [kv_len, kv_heads, head_dim]
  std::vector<float> q;                  // [total_q, heads, head_dim] (stride = heads*head_dim)
};

std::vector<double> NaiveAttention(const AttnProblem& p) {
  const int D = p.head_dim, G = p.heads / p.kv_heads;
  std::vector<double> out;
  int row = 0;
  for (size_t s = 0; s < p.q_lens.size(); ++s) {
    for (int i = 0; i < p.q_lens[s]; ++i, ++row) {
      for (int h = 0; h < p.heads; ++h) {
        const int kvh = h / G, keys = p.priors[s] + i + 1;
        std::vector<double> sc(keys);
        double mx = -1e300;
        for (int j = 0; j < keys; ++j) {
          double d = 0;
          for (int e = 0; e < D; ++e) {
            d += double{p.q[(row * p.heads + h) * D + e]} *
                 p.k[s][(static_cast<size_t>(j) * p.kv_heads + kvh) * D + e];
          }
          sc[j] = d / std::sqrt(double(D));
          mx = std::max(mx, sc[j]);
        }
        double sum = 0;
        for (double& x : sc) sum += (x = std::exp(x - mx));
        for (int e = 0; e < D; ++e) {
          double o = 0;
          for (int j = 0; j < keys; ++j) {
            o += sc[j] / sum * p.v[s][(static_cast<size_t>(j) * p.kv_heads + kvh) * D + e];
          }
          out.push_back(o);
        }
      }
    }
  }
  return out;
}

class AttnTest : public CpuTest {
 protected:
  AttnProblem MakeProblem(std::vector<int> q_lens, std::vector<int> priors, int heads = 4,
                          int kv_heads = 2) {
    AttnProblem p;
    p.heads = heads;
    p.kv_heads = kv_heads;
    p.q_lens = std::move(q_lens);
    p.priors = std::move(priors);
    int total = 0;
    for (size_t s = 0; s < p.q_lens.size(); ++s) {
      const int kv_len = p.q_lens[s] + p.priors[s];
      p.k.push_back(Rand(static_cast<size_t>(kv_len) * kv_heads * p.head_dim, -1, 1));
      p.v.push_back(Rand(static_cast<size_t>(kv_len) * kv_heads * p.head_dim, -1, 1));
      total += p.q_lens[s];
    }
    p.q = Rand(static_cast<size_t>(total) * heads * p.head_dim, -3, 3);
    return p;
  }

  // Scatters the problem's K/V into a paged cache in random block order.
  void BuildCache(const AttnProblem& p, Tensor* kc, Tensor* vc, Tensor* bt, int* max_blocks) {
    std::vector<int> kv_lens;
    for (size_t s = 0; s < p.q_lens.size(); ++s) kv_lens.push_back(p.q_lens[s] + p.priors[s]);
    const PagedTables pt = MakePagedTables(kv_lens, 1, 99, 2);
    const int kvw = p.kv_heads * p.head_dim;
    std::vector<float> kcache(static_cast<size_t>(pt.num_blocks) * kBlockTokens * kvw, 0.0f);
    std::vector<float> vcache(kcache.size(), 0.0f);
    for (size_t s = 0; s < kv_lens.size(); ++s) {
      for (int pos = 0; pos < kv_lens[s]; ++pos) {
        const int slot = SlotOf(pt.tables[0], pt.max_blocks_per_seq, static_cast<int>(s), pos);
        for (int e = 0; e < kvw; ++e) {
          kcache[static_cast<size_t>(slot) * kvw + e] = p.k[s][static_cast<size_t>(pos) * kvw + e];
          vcache[static_cast<size_t>(slot) * kvw + e] = p.v[s][static_cast<size_t>(pos) * kvw + e];
        }
      }
    }
    *kc = Make(DType::kBF16, kcache);
    *vc = Make(DType::kBF16, vcache);
    *bt = MakeInts(pt.tables[0]);
    *max_blocks = pt.max_blocks_per_seq;
  }

  std::vector<float> RunPrefill(const AttnProblem& p, const Tensor& kc, const Tensor& vc,
                                const Tensor& bt, int max_blocks) {
    std::vector<int32_t> cu{0};
    int max_q = 0;
    for (int l : p.q_lens) {
      cu.push_back(cu.back() + l);
      max_q = std::max(max_q, l);
    }
    PrefillArgs a;
    a.q = Make(DType::kBF16, p.q);
    a.q_row_stride = p.heads * p.head_dim;
    a.k_cache = kc;
    a.v_cache = vc;
    a.block_table = bt;
    a.max_blocks_per_seq = max_blocks;
    a.cu_seqlens_q = MakeInts(cu);
    a.prior_lens = MakeInts(std::vector<int32_t>(p.priors.begin(), p.priors.end()));
    a.out = Poisoned(DType::kBF16, static_cast<int64_t>(cu.back()) * p.heads * p.head_dim);
    a.num_seqs = static_cast<int>(p.q_lens.size());
    a.total_q = cu.back();
    a.max_q_len = max_q;
    a.heads = p.heads;
    a.kv_heads = p.kv_heads;
    a.head_dim = p.head_dim;
    a.scale = 1.0f / std::sqrt(static_cast<float>(p.head_dim));
    be_.AttnPrefill(a);
    return Read(a.out);
  }
};

TEST_F(AttnTest, PrefillMatchesNaiveCausalGqaWithPriorContext) {
  const AttnProblem p = MakeProblem({5, 1, 19}, {0, 7, 33});
  Tensor kc, vc, bt;
  int mb = 0;
  BuildCache(p, &kc, &vc, &bt, &mb);
  const std::vector<float> got = RunPrefill(p, kc, vc, bt, mb);
  const std::vector<double> want = NaiveAttention(p);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_LT(MaxRelDiff(got, want), 5e-3);
}

TEST_F(AttnTest, ChunkedPrefillEqualsFullPrefill) {
  AttnProblem full = MakeProblem({40}, {0});
  Tensor kc, vc, bt;
  int mb = 0;
  BuildCache(full, &kc, &vc, &bt, &mb);
  const std::vector<float> whole = RunPrefill(full, kc, vc, bt, mb);
  // The last 15 tokens as a chunk after 25 cached ones, on the same cache and table.
  AttnProblem chunk = full;
  chunk.q_lens = {15};
  chunk.priors = {25};
  const size_t row = static_cast<size_t>(full.heads) * full.head_dim;
  chunk.q.assign(full.q.begin() + 25 * row, full.q.end());
  const std::vector<float> part = RunPrefill(chunk, kc, vc, bt, mb);
  ASSERT_EQ(part.size(), 15 * row);
  for (size_t i = 0; i < part.size(); ++i) EXPECT_EQ(part[i], whole[25 * row + i]);
}

TEST_F(AttnTest, DecodeEqualsLastPrefillRowAndUsesGroupMapping) {
  const AttnProblem p = MakeProblem({1, 1}, {30, 64}, 8, 2);  // group of 4 heads per kv head
  Tensor kc, vc, bt;
  int mb = 0;
  BuildCache(p, &kc, &vc, &bt, &mb);
  const std::vector<float> pre = RunPrefill(p, kc, vc, bt, mb);
  DecodeArgs d;
  d.q = Make(DType::kBF16, p.q);
  d.q_row_stride = p.heads * p.head_dim;
  d.k_cache = kc;
  d.v_cache = vc;
  d.block_table = bt;
  d.max_blocks_per_seq = mb;
  d.context_lens = MakeInts({31, 65});
  d.out = Poisoned(DType::kBF16, 2 * p.heads * p.head_dim);
  d.batch = 2;
  d.max_context = 65;
  d.heads = p.heads;
  d.kv_heads = p.kv_heads;
  d.head_dim = p.head_dim;
  d.scale = 1.0f / std::sqrt(static_cast<float>(p.head_dim));
  be_.AttnDecode(d);
  const std::vector<float> dec = Read(d.out);
  EXPECT_EQ(dec, pre);
  EXPECT_LT(MaxRelDiff(dec, NaiveAttention(p)), 5e-3);
}

TEST_F(CpuTest, ValidationRejectsBadArguments) {
  const Tensor a = Poisoned(DType::kBF16, 64), f = Poisoned(DType::kF32, 64);
  EXPECT_THROW(be_.Gemm({a, f, a, 2, 2, 16, 1.0f}), std::invalid_argument);  // dtype mismatch
  EXPECT_THROW(be_.Gemm({a, a, a, 4, 8, 16, 1.0f}), std::invalid_argument);  // too small
  EXPECT_THROW(be_.RmsNorm({a, {}, a, a, 1, 12, 1e-5f}), std::invalid_argument);
  DecodeArgs d;
  d.head_dim = 96;
  EXPECT_THROW(be_.AttnDecode(d), std::invalid_argument);
  EXPECT_THROW(MakeBackend("tpu"), std::invalid_argument);
}

// ---- the check harness -------------------------------------------------------------------

TEST(RelError, BasicsAndNonFinite) {
  bool finite = false;
  EXPECT_DOUBLE_EQ(RelError({1, 2}, {1, 2}, &finite), 0.0);
  EXPECT_TRUE(finite);
  EXPECT_NEAR(RelError({0, 0}, {3, 4}, &finite), 1.0, 1e-12);
  RelError({1, std::nanf("")}, {1, 2}, &finite);
  EXPECT_FALSE(finite);
}

// A backend with planted faults: a scaled GEMM and a decode that leaves one element unwritten.
class FaultyBackend : public Backend {
 public:
  std::string_view Name() const override { return "faulty"; }
  DeviceInfo Device() const override { return cpu_.Device(); }
  bool SupportsFp8() const override { return false; }
  Tensor Alloc(DType d, int64_t n) override { return cpu_.Alloc(d, n); }
  void Free(Tensor& t) override { cpu_.Free(t); }
  void CopyFromHost(const Tensor& d, const void* s) override { cpu_.CopyFromHost(d, s); }
  void CopyToHost(void* d, const Tensor& s) override { cpu_.CopyToHost(d, s); }
  void CopyDevice(const Tensor& d, const Tensor& s) override { cpu_.CopyDevice(d, s); }
  void Fill(const Tensor& t, float v) override { cpu_.Fill(t, v); }
  void FillRandom(const Tensor& t, uint64_t s, float lo, float hi) override {
    cpu_.FillRandom(t, s, lo, hi);
  }
  void Synchronize() override {}
  std::string Gemm(const GemmArgs& a) override {
    GemmArgs b = a;
    b.alpha *= 1.05f;  // 5% off: above the 1e-2 tolerance
    return cpu_.Gemm(b);
  }
  std::string RmsNorm(const RmsNormArgs& a) override { return cpu_.RmsNorm(a); }
  std::string Act(const ActArgs& a) override { return cpu_.Act(a); }
  std::string RopeCache(const RopeCacheArgs& a) override { return cpu_.RopeCache(a); }
  std::string AttnPrefill(const PrefillArgs& a) override { return cpu_.AttnPrefill(a); }
  std::string AttnDecode(const DecodeArgs& a) override {
    // Compute into a scratch copy, then write all but the last element.
    DecodeArgs b = a;
    b.out = cpu_.Alloc(a.out.dtype, a.out.elems);
    cpu_.AttnDecode(b);
    std::memcpy(a.out.data, b.out.data, a.out.bytes() - DTypeBytes(a.out.dtype));
    cpu_.Free(b.out);
    return "faulty_decode";
  }
  TimingResult Time(const std::function<void(int)>& body, const TimingOptions& o) override {
    return cpu_.Time(body, o);
  }

 private:
  CpuBackend cpu_;
};

TEST(Checks, CpuAgainstCpuPassesAndPlantedFaultsFail) {
  CpuBackend a, b;
  CheckOptions opt;
  opt.quick = true;
  opt.seed = 7;
  const std::vector<CheckResult> ok = RunChecks(a, b, opt);
  ASSERT_FALSE(ok.empty());
  for (const CheckResult& r : ok) EXPECT_TRUE(r.pass) << r.op << " " << r.shape << " " << r.error;

  FaultyBackend faulty;
  const std::vector<CheckResult> bad = RunChecks(faulty, b, opt);
  int gemm_fail = 0, decode_fail = 0, other_fail = 0;
  for (const CheckResult& r : bad) {
    if (r.op == "gemm" && !r.pass)
      ++gemm_fail;
    else if (r.op == "attn_decode" && !r.pass && !r.finite)
      ++decode_fail;
    else if (!r.pass)
      ++other_fail;
  }
  EXPECT_GT(gemm_fail, 0);
  EXPECT_GT(decode_fail, 0);
  EXPECT_EQ(other_fail, 0);
  const Json j = ChecksToJson(bad, opt.seed);
  EXPECT_EQ(j["failed"].get<int>(), gemm_fail + decode_fail);
}

}  // namespace
}  // namespace servesim::kernels
