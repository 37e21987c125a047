// models/kernels/bench/check.cc — the correctness cases (see the header).
#include "check.h"

#include <array>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <sstream>

#include "paged.h"

namespace servesim::kernels {
namespace {

struct Pair {
  Tensor dut, ref;
};

// Allocates every tensor on both backends, with identical contents.
class Mirror {
 public:
  Mirror(Backend& dut, Backend& ref) : dut_(dut), ref_(ref), dut_s_(dut), ref_s_(ref) {}

  Pair Random(DType dtype, int64_t elems, uint64_t seed, float lo, float hi) {
    Pair p{dut_s_.Random(dtype, elems, seed, lo, hi), ref_s_.Alloc(dtype, elems)};
    CopyAcross(p);
    return p;
  }
  Pair Poisoned(DType dtype, int64_t elems) {
    Pair p{dut_s_.Alloc(dtype, elems), ref_s_.Alloc(dtype, elems)};
    dut_.Fill(p.dut, std::nanf(""));
    ref_.Fill(p.ref, std::nanf(""));
    return p;
  }
  Pair Ints(const std::vector<int32_t>& v) { return {dut_s_.Ints(v), ref_s_.Ints(v)}; }
  Pair Floats(const std::vector<float>& v) { return {dut_s_.Floats(v), ref_s_.Floats(v)}; }

  std::vector<float> ReadDut(const Tensor& t) { return Read(dut_, t); }
  std::vector<float> ReadRef(const Tensor& t) { return Read(ref_, t); }

 private:
  void CopyAcross(const Pair& p) {
    std::vector<unsigned char> buf(p.dut.bytes());
    dut_.CopyToHost(buf.data(), p.dut);
    ref_.CopyFromHost(p.ref, buf.data());
  }
  static std::vector<float> Read(Backend& be, const Tensor& t) {
    std::vector<unsigned char> buf(t.bytes());
    be.CopyToHost(buf.data(), t);
    std::vector<float> v(t.elems);
    for (int64_t i = 0; i < t.elems; ++i) v[i] = LoadAsFloat(t.dtype, buf.data(), i);
    return v;
  }

  Backend& dut_;
  Backend& ref_;
  Scratch dut_s_;
  Scratch ref_s_;
};

class Checker {
 public:
  Checker(Backend& dut, Backend& ref, const CheckOptions& opt)
      : dut_(dut), ref_(ref), opt_(opt), seed_(opt.seed) {}

  uint64_t NextSeed() { return seed_ = seed_ * 6364136223846793005ull + 1442695040888963407ull; }

  // Runs one case; `body` fills in kernel/rel_err/finite and returns normally, or throws.
  void Case(const std::string& op, DType dtype, const std::string& shape,
            const std::function<void(Mirror&, CheckResult&)>& body) {
    CheckResult r;
    r.op = op;
    r.dtype = std::string(DTypeName(dtype));
    r.shape = shape;
    r.tol = dtype == DType::kF32 ? 1e-4 : 1e-2;
    try {
      Mirror mirror(dut_, ref_);
      body(mirror, r);
      r.pass = r.finite && r.rel_err < r.tol;
    } catch (const std::exception& e) {
      r.error = e.what();
      r.pass = false;
    }
    if (opt_.log != nullptr) {
      *opt_.log << (r.pass ? "  PASS " : "  FAIL ") << r.op << " " << r.dtype << " " << r.shape
                << " rel_err=" << r.rel_err << " tol=" << r.tol << (r.finite ? "" : " NON-FINITE")
                << (r.error.empty() ? "" : " error: " + r.error) << " [" << r.kernel << "]\n";
      opt_.log->flush();
    }
    results_.push_back(std::move(r));
  }

  // Folds one compared output into the case's result (max of relative errors).
  static void Compare(CheckResult& r, const std::vector<float>& out,
                      const std::vector<float>& ref) {
    bool finite = true;
    const double e = RelError(out, ref, &finite);
    r.finite = r.finite && finite;
    r.rel_err = std::max(r.rel_err, std::isnan(e) ? INFINITY : e);
  }

  Backend& dut() { return dut_; }
  Backend& ref() { return ref_; }
  std::vector<CheckResult>& results() { return results_; }

 private:
  Backend& dut_;
  Backend& ref_;
  CheckOptions opt_;
  uint64_t seed_;
  std::vector<CheckResult> results_;
};

std::string Str(std::initializer_list<std::pair<const char*, int64_t>> kv) {
  std::ostringstream s;
  bool first = true;
  for (const auto& [k, v] : kv) {
    s << (first ? "" : " ") << k << "=" << v;
    first = false;
  }
  return s.str();
}

void CheckGemm(Checker& c, DType dtype, int m, int n, int k) {
  c.Case("gemm", dtype, Str({{"m", m}, {"n", n}, {"k", k}}), [&](Mirror& mr, CheckResult& r) {
    const DType out = dtype == DType::kF32 ? DType::kF32 : DType::kBF16;
    const Pair a = mr.Random(dtype, int64_t{m} * k, c.NextSeed(), -1.0f, 1.0f);
    const Pair b = mr.Random(dtype, int64_t{n} * k, c.NextSeed(), -1.0f, 1.0f);
    const Pair y = mr.Poisoned(out, int64_t{m} * n);
    const float alpha = 0.75f;
    r.kernel = c.dut().Gemm({a.dut, b.dut, y.dut, m, n, k, alpha});
    c.ref().Gemm({a.ref, b.ref, y.ref, m, n, k, alpha});
    Checker::Compare(r, mr.ReadDut(y.dut), mr.ReadRef(y.ref));
  });
}

void CheckRmsNorm(Checker& c, DType dtype, int tokens, int hidden, bool add) {
  c.Case(add ? "add_rms_norm" : "rms_norm", dtype, Str({{"tokens", tokens}, {"hidden", hidden}}),
         [&](Mirror& mr, CheckResult& r) {
           const int64_t n = int64_t{tokens} * hidden;
           const Pair x = mr.Random(dtype, n, c.NextSeed(), -2.0f, 2.0f);
           const Pair res = add ? mr.Random(dtype, n, c.NextSeed(), -2.0f, 2.0f) : Pair{};
           const Pair w = mr.Random(dtype, hidden, c.NextSeed(), 0.5f, 1.5f);
           const Pair out = mr.Poisoned(dtype, n);
           r.kernel = c.dut().RmsNorm({x.dut, res.dut, w.dut, out.dut, tokens, hidden, 1e-5f});
           c.ref().RmsNorm({x.ref, res.ref, w.ref, out.ref, tokens, hidden, 1e-5f});
           Checker::Compare(r, mr.ReadDut(out.dut), mr.ReadRef(out.ref));
           if (add) Checker::Compare(r, mr.ReadDut(res.dut), mr.ReadRef(res.ref));
         });
}

void CheckAct(Checker& c, DType dtype, int tokens, int width, bool gated) {
  c.Case(gated ? "silu_mul" : "silu", dtype, Str({{"tokens", tokens}, {"width", width}}),
         [&](Mirror& mr, CheckResult& r) {
           const Pair in = mr.Random(dtype, int64_t{tokens} * width * (gated ? 2 : 1), c.NextSeed(),
                                     -6.0f, 6.0f);
           const Pair out = mr.Poisoned(dtype, int64_t{tokens} * width);
           r.kernel = c.dut().Act({in.dut, out.dut, tokens, width, gated});
           c.ref().Act({in.ref, out.ref, tokens, width, gated});
           Checker::Compare(r, mr.ReadDut(out.dut), mr.ReadRef(out.ref));
         });
}

void CheckRope(Checker& c, const ModelShape& m, int tokens) {
  c.Case("rope_cache", DType::kBF16,
         m.name + " " +
             Str({{"tokens", tokens},
                  {"heads", m.heads},
                  {"kv_heads", m.kv_heads},
                  {"head_dim", m.head_dim}}),
         [&](Mirror& mr, CheckResult& r) {
           std::mt19937 rng(static_cast<uint32_t>(c.NextSeed()));
           const int num_blocks = (2 * tokens + kBlockTokens - 1) / kBlockTokens + 1;
           std::vector<int32_t> all_slots(num_blocks * kBlockTokens);
           std::iota(all_slots.begin(), all_slots.end(), 0);
           std::shuffle(all_slots.begin(), all_slots.end(), rng);
           std::vector<int32_t> positions(tokens), slots(tokens);
           std::uniform_int_distribution<int32_t> pos(0, 131071);
           for (int t = 0; t < tokens; ++t) {
             positions[t] = pos(rng);
             slots[t] = (t % 7 == 3) ? -1 : all_slots[t];  // some tokens write no cache
           }
           const int64_t stride = m.qkv_width() + 8;  // padded rows: the stride is honoured
           const Pair qkv = mr.Random(DType::kBF16, tokens * stride, c.NextSeed(), -2.0f, 2.0f);
           const Pair pos_t = mr.Ints(positions), slot_t = mr.Ints(slots);
           const Pair inv = mr.Floats(RopeInvFreq(m));
           const int64_t cache_elems = int64_t{num_blocks} * kBlockTokens * m.kv_width();
           const Pair kc = mr.Poisoned(DType::kBF16, cache_elems);
           const Pair vc = mr.Poisoned(DType::kBF16, cache_elems);
           RopeCacheArgs a{qkv.dut, pos_t.dut, slot_t.dut, inv.dut,    kc.dut, vc.dut,
                           tokens,  m.heads,   m.kv_heads, m.head_dim, stride};
           r.kernel = c.dut().RopeCache(a);
           a = {qkv.ref, pos_t.ref, slot_t.ref, inv.ref,    kc.ref, vc.ref,
                tokens,  m.heads,   m.kv_heads, m.head_dim, stride};
           c.ref().RopeCache(a);
           Checker::Compare(r, mr.ReadDut(qkv.dut), mr.ReadRef(qkv.ref));
           // Written slots must match; every other slot must still be poisoned.
           for (const Pair* cache : {&kc, &vc}) {
             const std::vector<float> d = mr.ReadDut(cache->dut), f = mr.ReadRef(cache->ref);
             std::vector<char> written(num_blocks * kBlockTokens, 0);
             for (int32_t s : slots) {
               if (s >= 0) written[s] = 1;
             }
             std::vector<float> dw, fw;
             for (size_t slot = 0; slot < written.size(); ++slot) {
               for (int e = 0; e < m.kv_width(); ++e) {
                 const size_t i = slot * m.kv_width() + e;
                 if (written[slot]) {
                   dw.push_back(d[i]);
                   fw.push_back(f[i]);
                 } else if (!std::isnan(d[i])) {
                   throw std::runtime_error("stray cache write at slot " + std::to_string(slot));
                 }
               }
             }
             Checker::Compare(r, dw, fw);
           }
         });
}

struct PrefillCase {
  std::vector<int> q_lens, priors;
  int heads, kv_heads, head_dim;
  float q_range = 1.0f;
  int variant = 0;
};

void CheckPrefill(Checker& c, const PrefillCase& pc) {
  std::ostringstream shape;
  shape << "seqs=" << pc.q_lens.size() << " q_lens=";
  for (size_t i = 0; i < pc.q_lens.size(); ++i) shape << (i ? "," : "") << pc.q_lens[i];
  shape << " priors=";
  for (size_t i = 0; i < pc.priors.size(); ++i) shape << (i ? "," : "") << pc.priors[i];
  shape << " "
        << Str({{"heads", pc.heads},
                {"kv_heads", pc.kv_heads},
                {"head_dim", pc.head_dim},
                {"variant", pc.variant}})
        << " q_range=" << pc.q_range;
  c.Case("attn_prefill", DType::kBF16, shape.str(), [&](Mirror& mr, CheckResult& r) {
    const int n = static_cast<int>(pc.q_lens.size());
    std::vector<int> kv_lens(n);
    std::vector<int32_t> cu{0};
    int max_q = 0;
    for (int s = 0; s < n; ++s) {
      kv_lens[s] = pc.priors[s] + pc.q_lens[s];
      cu.push_back(cu.back() + pc.q_lens[s]);
      max_q = std::max(max_q, pc.q_lens[s]);
    }
    const int total = cu.back();
    const PagedTables pt = MakePagedTables(kv_lens, 1, c.NextSeed(), 3);
    const int64_t kv_width = int64_t{pc.kv_heads} * pc.head_dim;
    const int64_t cache_elems = int64_t{pt.num_blocks} * kBlockTokens * kv_width;
    // Q rows with a stride larger than the q heads (as in a fused qkv buffer).
    const int64_t stride = int64_t{pc.heads + 2 * pc.kv_heads} * pc.head_dim;
    const Pair q = mr.Random(DType::kBF16, total * stride, c.NextSeed(), -pc.q_range, pc.q_range);
    const Pair kc = mr.Random(DType::kBF16, cache_elems, c.NextSeed(), -1.0f, 1.0f);
    const Pair vc = mr.Random(DType::kBF16, cache_elems, c.NextSeed(), -1.0f, 1.0f);
    const Pair bt = mr.Ints(pt.tables[0]);
    const Pair cu_t = mr.Ints(cu);
    const Pair pr = mr.Ints(std::vector<int32_t>(pc.priors.begin(), pc.priors.end()));
    const Pair out = mr.Poisoned(DType::kBF16, int64_t{total} * pc.heads * pc.head_dim);
    PrefillArgs a;
    a.q_row_stride = stride;
    a.max_blocks_per_seq = pt.max_blocks_per_seq;
    a.num_seqs = n;
    a.total_q = total;
    a.max_q_len = max_q;
    a.heads = pc.heads;
    a.kv_heads = pc.kv_heads;
    a.head_dim = pc.head_dim;
    a.scale = 1.0f / std::sqrt(static_cast<float>(pc.head_dim));
    a.variant = pc.variant;
    PrefillArgs d = a;
    d.q = q.dut, d.k_cache = kc.dut, d.v_cache = vc.dut, d.block_table = bt.dut;
    d.cu_seqlens_q = cu_t.dut, d.prior_lens = pr.dut, d.out = out.dut;
    r.kernel = c.dut().AttnPrefill(d);
    a.q = q.ref, a.k_cache = kc.ref, a.v_cache = vc.ref, a.block_table = bt.ref;
    a.cu_seqlens_q = cu_t.ref, a.prior_lens = pr.ref, a.out = out.ref;
    c.ref().AttnPrefill(a);
    Checker::Compare(r, mr.ReadDut(out.dut), mr.ReadRef(out.ref));
  });
}

struct DecodeCase {
  std::vector<int> contexts;
  int heads, kv_heads, head_dim;
  int num_splits = 0;
  float q_range = 1.0f;
};

void CheckDecode(Checker& c, const DecodeCase& dc) {
  std::ostringstream shape;
  int max_ctx = 0;
  for (int x : dc.contexts) max_ctx = std::max(max_ctx, x);
  shape << "batch=" << dc.contexts.size() << " max_context=" << max_ctx << " "
        << Str({{"heads", dc.heads},
                {"kv_heads", dc.kv_heads},
                {"head_dim", dc.head_dim},
                {"splits", dc.num_splits}})
        << " q_range=" << dc.q_range;
  c.Case("attn_decode", DType::kBF16, shape.str(), [&](Mirror& mr, CheckResult& r) {
    const int batch = static_cast<int>(dc.contexts.size());
    const PagedTables pt = MakePagedTables(dc.contexts, 1, c.NextSeed(), 5);
    const int64_t kv_width = int64_t{dc.kv_heads} * dc.head_dim;
    const int64_t cache_elems = int64_t{pt.num_blocks} * kBlockTokens * kv_width;
    const int64_t stride = int64_t{dc.heads + 2 * dc.kv_heads} * dc.head_dim;
    const Pair q = mr.Random(DType::kBF16, batch * stride, c.NextSeed(), -dc.q_range, dc.q_range);
    const Pair kc = mr.Random(DType::kBF16, cache_elems, c.NextSeed(), -1.0f, 1.0f);
    const Pair vc = mr.Random(DType::kBF16, cache_elems, c.NextSeed(), -1.0f, 1.0f);
    const Pair bt = mr.Ints(pt.tables[0]);
    const Pair cl = mr.Ints(std::vector<int32_t>(dc.contexts.begin(), dc.contexts.end()));
    const Pair out = mr.Poisoned(DType::kBF16, int64_t{batch} * dc.heads * dc.head_dim);
    DecodeArgs a;
    a.q_row_stride = stride;
    a.batch = batch;
    a.max_context = max_ctx;
    a.max_blocks_per_seq = pt.max_blocks_per_seq;
    a.heads = dc.heads;
    a.kv_heads = dc.kv_heads;
    a.head_dim = dc.head_dim;
    a.scale = 1.0f / std::sqrt(static_cast<float>(dc.head_dim));
    a.num_splits = dc.num_splits;
    DecodeArgs d = a;
    d.q = q.dut, d.k_cache = kc.dut, d.v_cache = vc.dut, d.block_table = bt.dut;
    d.context_lens = cl.dut, d.out = out.dut;
    r.kernel = c.dut().AttnDecode(d);
    a.q = q.ref, a.k_cache = kc.ref, a.v_cache = vc.ref, a.block_table = bt.ref;
    a.context_lens = cl.ref, a.out = out.ref;
    c.ref().AttnDecode(a);
    Checker::Compare(r, mr.ReadDut(out.dut), mr.ReadRef(out.ref));
  });
}

std::vector<int> RandomLens(std::mt19937& rng, int n, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int> v(n);
  for (int& x : v) x = d(rng);
  return v;
}

}  // namespace

double RelError(const std::vector<float>& out, const std::vector<float>& ref, bool* finite) {
  *finite = out.size() == ref.size();
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < out.size() && i < ref.size(); ++i) {
    if (!std::isfinite(out[i]) || !std::isfinite(ref[i])) *finite = false;
    const double d = static_cast<double>(out[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  if (den == 0.0) return num == 0.0 ? 0.0 : INFINITY;
  return std::sqrt(num / den);
}

std::vector<CheckResult> RunChecks(Backend& under_test, Backend& reference, CheckOptions& opt) {
  if (opt.seed == 0)
    opt.seed = (static_cast<uint64_t>(std::random_device{}()) << 32) | std::random_device{}();
  Checker c(under_test, reference, opt);
  std::mt19937 rng(static_cast<uint32_t>(opt.seed));
  const bool fp8 = under_test.SupportsFp8() && reference.SupportsFp8();

  // GEMMs.
  std::vector<std::array<int, 3>> gemms = {{1, 256, 128}, {7, 384, 256}, {33, 264, 512}};
  if (!opt.quick) {
    gemms.insert(gemms.end(),
                 {{1, 4096, 4096}, {128, 1024, 512}, {300, 2560, 1024}, {2048, 1536, 1024}});
  }
  for (const auto& [m, n, k] : gemms) {
    CheckGemm(c, DType::kBF16, m, n, k);
    if (fp8) CheckGemm(c, DType::kF8E4M3, m, n, k);
  }
  CheckGemm(c, DType::kF32, 64, 520, 256);
  if (!opt.quick) CheckGemm(c, DType::kF32, 333, 1000, 520);

  // Norms and activations.
  CheckRmsNorm(c, DType::kBF16, 1, 4096, false);
  CheckRmsNorm(c, DType::kBF16, 33, 5120, true);
  CheckRmsNorm(c, DType::kF32, 17, 1024, true);
  CheckRmsNorm(c, DType::kF32, 5, 2048, false);
  if (!opt.quick) CheckRmsNorm(c, DType::kBF16, 512, 8192, true);
  CheckAct(c, DType::kBF16, 1, 14336, true);
  CheckAct(c, DType::kBF16, 5, 4096, false);
  CheckAct(c, DType::kF32, 65, 1024, true);
  if (!opt.quick) CheckAct(c, DType::kBF16, 333, 7168, true);

  // RoPE + cache write.
  ModelShape l3 = FindModel("llama-3-8b"), l2 = FindModel("llama-2-13b");
  ModelShape d64 = l3;
  d64.name = "d64";
  d64.heads = 16;
  d64.kv_heads = 4;
  d64.head_dim = 64;
  CheckRope(c, l3, 1);
  CheckRope(c, d64, 50);
  if (!opt.quick) {
    CheckRope(c, l3, 1000);
    CheckRope(c, l2, 77);
  }

  // Prefill attention.
  CheckPrefill(c, {{1}, {0}, 4, 2, 128});
  CheckPrefill(c, {{3, 17, 40}, {0, 5, 30}, 4, 1, 64, 4.0f});
  CheckPrefill(c, {{70}, {0}, 8, 2, 128, 8.0f});
  if (!opt.quick) {
    CheckPrefill(c, {{128}, {0}, 32, 8, 128});
    CheckPrefill(c, {{1, 77, 300}, {0, 5, 130}, 8, 2, 128, 4.0f, 1});
    CheckPrefill(c, {{1, 77, 300}, {0, 5, 130}, 8, 2, 128, 4.0f, 2});
    CheckPrefill(c, {{1, 77, 300}, {0, 5, 130}, 8, 2, 128, 4.0f, 3});
    CheckPrefill(c, {{1, 77, 300}, {0, 5, 130}, 8, 2, 128, 4.0f, 4});
    CheckPrefill(c, {{200, 64}, {17, 0}, 16, 4, 64, 8.0f, 1});
    CheckPrefill(c, {{200, 64}, {17, 0}, 16, 4, 64, 8.0f, 3});
    CheckPrefill(c, {{700, 129}, {300, 0}, 32, 8, 128, 2.0f, 3});
    CheckPrefill(c, {{700, 129}, {300, 0}, 32, 8, 128, 2.0f, 4});
    CheckPrefill(c, {{1000, 513}, {0, 1500}, 32, 8, 128, 1.0f, 0});
    CheckPrefill(c, {{200, 64}, {17, 0}, 16, 4, 64, 8.0f});
    CheckPrefill(c, {{256}, {0}, 40, 40, 128, 2.0f, 2});
    CheckPrefill(c, {{333}, {1000}, 16, 2, 128, 2.0f, 1});
    CheckPrefill(c, {RandomLens(rng, 6, 1, 400), RandomLens(rng, 6, 0, 700), 8, 1, 128, 3.0f});
  }

  // Decode attention.
  CheckDecode(c, {{1}, 4, 2, 128});
  CheckDecode(c, {{1, 15, 16, 17, 100}, 8, 2, 64, 0, 4.0f});
  CheckDecode(c, {{300, 64}, 4, 4, 128, 3, 8.0f});
  if (!opt.quick) {
    CheckDecode(c, {{1, 15, 16, 17, 300}, 32, 8, 128});
    CheckDecode(c, {{5000, 8192, 1234}, 32, 8, 128, 0, 4.0f});
    CheckDecode(c, {RandomLens(rng, 64, 1, 2048), 16, 2, 128});
    CheckDecode(c, {RandomLens(rng, 8, 1, 3000), 40, 40, 128, 0, 2.0f});
    CheckDecode(c, {RandomLens(rng, 4, 1, 3000), 16, 4, 64});
    CheckDecode(c, {{4099, 777}, 32, 8, 128, 7, 8.0f});
    CheckDecode(c, {{20000}, 64, 8, 128, 0, 2.0f});
  }
  return std::move(c.results());
}

Json ChecksToJson(const std::vector<CheckResult>& results, uint64_t seed) {
  Json j;
  j["format"] = "servesim-kernel-check";
  j["version"] = 1;
  j["seed"] = seed;
  Json cases = Json::array();
  int failed = 0;
  for (const CheckResult& r : results) {
    Json c;
    c["op"] = r.op;
    c["kernel"] = r.kernel;
    c["dtype"] = r.dtype;
    c["shape"] = r.shape;
    c["rel_err"] = std::isfinite(r.rel_err) ? Json(r.rel_err) : Json(nullptr);
    c["tol"] = r.tol;
    c["finite"] = r.finite;
    c["pass"] = r.pass;
    if (!r.error.empty()) c["error"] = r.error;
    failed += r.pass ? 0 : 1;
    cases.push_back(std::move(c));
  }
  j["cases"] = std::move(cases);
  j["passed"] = static_cast<int>(results.size()) - failed;
  j["failed"] = failed;
  return j;
}

}  // namespace servesim::kernels
