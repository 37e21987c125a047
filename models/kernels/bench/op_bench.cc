// models/kernels/bench/op_bench.cc — one timed point per call (see the header).
#include "op_bench.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "paged.h"
#include "stats.h"

namespace servesim::kernels {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

TimingOptions WithRotations(const BenchContext& ctx, int rotations) {
  TimingOptions o = ctx.timing;
  o.rotations = rotations;
  return o;
}

void LogPoint(const BenchContext& ctx, const Json& rec) {
  if (ctx.log == nullptr || rec.is_null()) return;
  *ctx.log << "  " << rec["op"].get<std::string>() << " " << rec["shape"].dump() << " "
           << rec["kernel"].get<std::string>() << " median " << rec["median_ms"].get<double>()
           << " ms (x" << rec["rotations"].get<int>() << ")\n";
  ctx.log->flush();
}

Json Skipped(const BenchContext& ctx, const std::string& what, int64_t set_bytes) {
  if (ctx.log != nullptr) {
    *ctx.log << "  skip " << what << ": " << set_bytes << " bytes > max_point_bytes "
             << ctx.max_point_bytes << "\n";
  }
  return Json();
}

// KV-cache bytes of one sequence of kv_len tokens (K and V, whole blocks).
int64_t CacheBytes(const ModelShape& s, int kv_len) {
  return CeilDiv(kv_len, kBlockTokens) * kBlockTokens * int64_t{s.kv_width()} * 2 * 2;
}

}  // namespace

int BenchContext::RotationsFor(int64_t set_bytes) const {
  if (l2_bytes <= 0 || set_bytes <= 0) return 1;
  int64_t r = 2 * l2_bytes / set_bytes + 1;
  r = std::min<int64_t>(r, std::max<int64_t>(1, max_point_bytes / set_bytes));
  return static_cast<int>(std::clamp<int64_t>(r, 1, std::max(1, max_rotations)));
}

Scratch::~Scratch() {
  for (Tensor& t : owned_) be_.Free(t);
}

Tensor Scratch::Alloc(DType dtype, int64_t elems) {
  owned_.push_back(be_.Alloc(dtype, elems));
  return owned_.back();
}

Tensor Scratch::Random(DType dtype, int64_t elems, uint64_t seed, float lo, float hi) {
  Tensor t = Alloc(dtype, elems);
  be_.FillRandom(t, seed, lo, hi);
  return t;
}

Tensor Scratch::Ints(const std::vector<int32_t>& values) {
  Tensor t = Alloc(DType::kI32, static_cast<int64_t>(std::max<size_t>(values.size(), 1)));
  if (!values.empty()) be_.CopyFromHost(t, values.data());
  return t;
}

Tensor Scratch::Floats(const std::vector<float>& values) {
  Tensor t = Alloc(DType::kF32, static_cast<int64_t>(std::max<size_t>(values.size(), 1)));
  if (!values.empty()) be_.CopyFromHost(t, values.data());
  return t;
}

Json MakeRecord(const std::string& op, const std::string& kernel, DType dtype, Json shape,
                double flops, double bytes, int rotations, const TimingResult& t) {
  const Stats s = Summarize(t.per_call_ms);
  Json rec;
  rec["op"] = op;
  rec["kernel"] = kernel;
  rec["dtype"] = std::string(DTypeName(dtype));
  rec["shape"] = std::move(shape);
  rec["flops"] = flops;
  rec["bytes"] = bytes;
  rec["rotations"] = rotations;
  rec["median_ms"] = s.median_ms;
  rec["p10_ms"] = s.p10_ms;
  rec["p90_ms"] = s.p90_ms;
  rec["min_ms"] = s.min_ms;
  rec["samples"] = s.samples;
  rec["tflop_s"] = s.median_ms > 0 ? flops / (s.median_ms * 1e9) : 0.0;
  rec["gb_s"] = s.median_ms > 0 ? bytes / (s.median_ms * 1e6) : 0.0;
  return rec;
}

Json BenchGemm(BenchContext& ctx, const std::string& op, DType dtype, int m, int n, int k) {
  Backend& be = *ctx.backend;
  const DType out = dtype == DType::kF32 ? DType::kF32 : DType::kBF16;
  const int64_t in_b = static_cast<int64_t>(DTypeBytes(dtype));
  const int64_t set = (int64_t{m} * k + int64_t{n} * k) * in_b +
                      int64_t{m} * n * static_cast<int64_t>(DTypeBytes(out));
  if (set > ctx.max_point_bytes) return Skipped(ctx, op, set);
  const int rotations = ctx.RotationsFor(set);
  Scratch s(be);
  std::vector<GemmArgs> args(rotations);
  for (GemmArgs& g : args) {
    g.a = s.Random(dtype, int64_t{m} * k, ctx.NextSeed(), -1.0f, 1.0f);
    g.b = s.Random(dtype, int64_t{n} * k, ctx.NextSeed(), -1.0f, 1.0f);
    g.c = s.Alloc(out, int64_t{m} * n);
    g.m = m;
    g.n = n;
    g.k = k;
  }
  std::string kernel;
  const TimingResult t =
      be.Time([&](int r) { kernel = be.Gemm(args[r]); }, WithRotations(ctx, rotations));
  Json shape = {{"tokens", m}, {"m", m}, {"n", n}, {"k", k}};
  Json rec = MakeRecord(op, kernel, dtype, std::move(shape), 2.0 * m * n * k,
                        static_cast<double>(set), rotations, t);
  LogPoint(ctx, rec);
  return rec;
}

Json BenchRmsNorm(BenchContext& ctx, bool add_residual, int tokens, int hidden) {
  Backend& be = *ctx.backend;
  const int64_t row = int64_t{tokens} * hidden * 2;
  const int64_t set = row * (add_residual ? 4 : 2) + int64_t{hidden} * 2;
  const std::string op = add_residual ? "add_rms_norm" : "rms_norm";
  if (set > ctx.max_point_bytes) return Skipped(ctx, op, set);
  const int rotations = ctx.RotationsFor(set);
  Scratch s(be);
  std::vector<RmsNormArgs> args(rotations);
  for (RmsNormArgs& a : args) {
    a.x = s.Random(DType::kBF16, int64_t{tokens} * hidden, ctx.NextSeed(), -1.0f, 1.0f);
    if (add_residual) {
      a.residual = s.Random(DType::kBF16, int64_t{tokens} * hidden, ctx.NextSeed(), -1.0f, 1.0f);
    }
    a.weight = s.Random(DType::kBF16, hidden, ctx.NextSeed(), 0.5f, 1.5f);
    a.out = s.Alloc(DType::kBF16, int64_t{tokens} * hidden);
    a.tokens = tokens;
    a.hidden = hidden;
  }
  std::string kernel;
  const TimingResult t =
      be.Time([&](int r) { kernel = be.RmsNorm(args[r]); }, WithRotations(ctx, rotations));
  Json rec = MakeRecord(op, kernel, DType::kBF16, {{"tokens", tokens}, {"hidden", hidden}},
                        4.0 * tokens * hidden, static_cast<double>(set), rotations, t);
  LogPoint(ctx, rec);
  return rec;
}

Json BenchAct(BenchContext& ctx, bool gated, int tokens, int width) {
  Backend& be = *ctx.backend;
  const int64_t set = int64_t{tokens} * width * 2 * (gated ? 3 : 2);
  const std::string op = "act";
  if (set > ctx.max_point_bytes) return Skipped(ctx, op, set);
  const int rotations = ctx.RotationsFor(set);
  Scratch s(be);
  std::vector<ActArgs> args(rotations);
  for (ActArgs& a : args) {
    a.in = s.Random(DType::kBF16, int64_t{tokens} * width * (gated ? 2 : 1), ctx.NextSeed(), -4.0f,
                    4.0f);
    a.out = s.Alloc(DType::kBF16, int64_t{tokens} * width);
    a.tokens = tokens;
    a.width = width;
    a.gated = gated;
  }
  std::string kernel;
  const TimingResult t =
      be.Time([&](int r) { kernel = be.Act(args[r]); }, WithRotations(ctx, rotations));
  Json rec = MakeRecord(op, kernel, DType::kBF16, {{"tokens", tokens}, {"width", width}},
                        5.0 * tokens * width, static_cast<double>(set), rotations, t);
  LogPoint(ctx, rec);
  return rec;
}

Json BenchRopeCache(BenchContext& ctx, const ModelShape& m, int tokens) {
  Backend& be = *ctx.backend;
  const int64_t qkv_elems = int64_t{tokens} * m.qkv_width();
  const int64_t set = qkv_elems * 2 + CacheBytes(m, tokens);
  const std::string op = "rope_cache";
  if (set > ctx.max_point_bytes) return Skipped(ctx, op, set);
  const int rotations = ctx.RotationsFor(set);
  const PagedTables pt = MakePagedTables({tokens}, rotations, ctx.NextSeed());
  Scratch s(be);
  const int64_t cache_elems = int64_t{pt.num_blocks} * kBlockTokens * m.kv_width();
  const Tensor k_cache = s.Alloc(DType::kBF16, cache_elems);
  const Tensor v_cache = s.Alloc(DType::kBF16, cache_elems);
  const Tensor inv_freq = s.Floats(RopeInvFreq(m));
  std::mt19937 rng(static_cast<uint32_t>(ctx.NextSeed()));
  std::uniform_int_distribution<int32_t> pos_dist(0, 8191);
  std::vector<RopeCacheArgs> args(rotations);
  for (int r = 0; r < rotations; ++r) {
    RopeCacheArgs& a = args[r];
    std::vector<int32_t> positions(tokens), slots(tokens);
    for (int t = 0; t < tokens; ++t) {
      positions[t] = pos_dist(rng);
      slots[t] = SlotOf(pt.tables[r], pt.max_blocks_per_seq, 0, t);
    }
    a.qkv = s.Random(DType::kBF16, qkv_elems, ctx.NextSeed(), -1.0f, 1.0f);
    a.positions = s.Ints(positions);
    a.slot_mapping = s.Ints(slots);
    a.inv_freq = inv_freq;
    a.k_cache = k_cache;
    a.v_cache = v_cache;
    a.tokens = tokens;
    a.heads = m.heads;
    a.kv_heads = m.kv_heads;
    a.head_dim = m.head_dim;
    a.row_stride = m.qkv_width();
  }
  std::string kernel;
  const TimingResult t =
      be.Time([&](int r) { kernel = be.RopeCache(args[r]); }, WithRotations(ctx, rotations));
  const double bytes =
      static_cast<double>(tokens) *
      (2.0 * m.qkv_width() + 2.0 * (m.heads + m.kv_heads) * m.head_dim + 4.0 * m.kv_width());
  Json rec = MakeRecord(op, kernel, DType::kBF16, {{"tokens", tokens}},
                        6.0 * tokens * (m.heads + m.kv_heads) * m.head_dim, bytes, rotations, t);
  LogPoint(ctx, rec);
  return rec;
}

Json BenchPrefill(BenchContext& ctx, const ModelShape& m, int batch, int tokens_per_seq, int prior,
                  int variant) {
  Backend& be = *ctx.backend;
  const int total = batch * tokens_per_seq;
  const int kv_len = prior + tokens_per_seq;
  const int64_t q_elems = int64_t{total} * m.qkv_width();
  const int64_t out_elems = int64_t{total} * m.q_width();
  const int64_t set = (q_elems + out_elems) * 2 + CacheBytes(m, kv_len) * batch;
  const std::string op = "attn_prefill";
  if (set > ctx.max_point_bytes) return Skipped(ctx, op, set);
  const int rotations = ctx.RotationsFor(set);
  const PagedTables pt =
      MakePagedTables(std::vector<int>(batch, kv_len), rotations, ctx.NextSeed());
  Scratch s(be);
  const int64_t cache_elems = int64_t{pt.num_blocks} * kBlockTokens * m.kv_width();
  const Tensor k_cache = s.Random(DType::kBF16, cache_elems, ctx.NextSeed(), -1.0f, 1.0f);
  const Tensor v_cache = s.Random(DType::kBF16, cache_elems, ctx.NextSeed(), -1.0f, 1.0f);
  std::vector<int32_t> cu(batch + 1);
  for (int b = 0; b <= batch; ++b) cu[b] = b * tokens_per_seq;
  const Tensor cu_t = s.Ints(cu);
  const Tensor prior_t = s.Ints(std::vector<int32_t>(batch, prior));
  std::vector<PrefillArgs> args(rotations);
  for (int r = 0; r < rotations; ++r) {
    PrefillArgs& a = args[r];
    a.q = s.Random(DType::kBF16, q_elems, ctx.NextSeed(), -1.0f, 1.0f);
    a.q_row_stride = m.qkv_width();
    a.k_cache = k_cache;
    a.v_cache = v_cache;
    a.block_table = s.Ints(pt.tables[r]);
    a.max_blocks_per_seq = pt.max_blocks_per_seq;
    a.cu_seqlens_q = cu_t;
    a.prior_lens = prior_t;
    a.out = s.Alloc(DType::kBF16, out_elems);
    a.num_seqs = batch;
    a.total_q = total;
    a.max_q_len = tokens_per_seq;
    a.heads = m.heads;
    a.kv_heads = m.kv_heads;
    a.head_dim = m.head_dim;
    a.scale = 1.0f / std::sqrt(static_cast<float>(m.head_dim));
    a.variant = variant;
  }
  std::string kernel;
  const TimingResult t =
      be.Time([&](int r) { kernel = be.AttnPrefill(args[r]); }, WithRotations(ctx, rotations));
  const double pairs = static_cast<double>(batch) *
                       (static_cast<double>(tokens_per_seq) * prior +
                        0.5 * static_cast<double>(tokens_per_seq) * (tokens_per_seq + 1));
  const double flops = 4.0 * m.head_dim * m.heads * pairs;
  const double bytes = 2.0 * (2.0 * total * m.q_width()) +
                       static_cast<double>(batch) * kv_len * m.kv_width() * 2.0 * 2.0;
  Json shape = {{"tokens", total}, {"batch", batch}, {"prior", prior}, {"context", kv_len}};
  Json rec = MakeRecord(op, kernel, DType::kBF16, std::move(shape), flops, bytes, rotations, t);
  LogPoint(ctx, rec);
  return rec;
}

Json BenchDecode(BenchContext& ctx, const ModelShape& m, int batch, int context, int num_splits) {
  Backend& be = *ctx.backend;
  const int64_t q_elems = int64_t{batch} * m.qkv_width();
  const int64_t out_elems = int64_t{batch} * m.q_width();
  const int64_t set = (q_elems + out_elems) * 2 + CacheBytes(m, context) * batch;
  const std::string op = "attn_decode";
  if (set > ctx.max_point_bytes) return Skipped(ctx, op, set);
  const int rotations = ctx.RotationsFor(set);
  const PagedTables pt =
      MakePagedTables(std::vector<int>(batch, context), rotations, ctx.NextSeed());
  Scratch s(be);
  const int64_t cache_elems = int64_t{pt.num_blocks} * kBlockTokens * m.kv_width();
  const Tensor k_cache = s.Random(DType::kBF16, cache_elems, ctx.NextSeed(), -1.0f, 1.0f);
  const Tensor v_cache = s.Random(DType::kBF16, cache_elems, ctx.NextSeed(), -1.0f, 1.0f);
  const Tensor ctx_t = s.Ints(std::vector<int32_t>(batch, context));
  std::vector<DecodeArgs> args(rotations);
  for (int r = 0; r < rotations; ++r) {
    DecodeArgs& a = args[r];
    a.q = s.Random(DType::kBF16, q_elems, ctx.NextSeed(), -1.0f, 1.0f);
    a.q_row_stride = m.qkv_width();
    a.k_cache = k_cache;
    a.v_cache = v_cache;
    a.block_table = s.Ints(pt.tables[r]);
    a.max_blocks_per_seq = pt.max_blocks_per_seq;
    a.context_lens = ctx_t;
    a.out = s.Alloc(DType::kBF16, out_elems);
    a.batch = batch;
    a.max_context = context;
    a.heads = m.heads;
    a.kv_heads = m.kv_heads;
    a.head_dim = m.head_dim;
    a.scale = 1.0f / std::sqrt(static_cast<float>(m.head_dim));
    a.num_splits = num_splits;
  }
  std::string kernel;
  const TimingResult t =
      be.Time([&](int r) { kernel = be.AttnDecode(args[r]); }, WithRotations(ctx, rotations));
  const double flops = 4.0 * m.head_dim * m.heads * static_cast<double>(batch) * context;
  const double bytes = 2.0 * (2.0 * batch * m.q_width()) +
                       static_cast<double>(batch) * context * m.kv_width() * 2.0 * 2.0;
  Json shape = {{"tokens", batch}, {"batch", batch}, {"context", context}};
  Json rec = MakeRecord(op, kernel, DType::kBF16, std::move(shape), flops, bytes, rotations, t);
  LogPoint(ctx, rec);
  return rec;
}

Json BenchCopy(BenchContext& ctx, int64_t bytes) {
  Backend& be = *ctx.backend;
  const int64_t elems = bytes / 2;
  if (2 * bytes > ctx.max_point_bytes) return Skipped(ctx, "copy_d2d", 2 * bytes);
  Scratch s(be);
  const Tensor src = s.Random(DType::kBF16, elems, ctx.NextSeed(), -1.0f, 1.0f);
  const Tensor dst = s.Alloc(DType::kBF16, elems);
  const TimingResult t = be.Time([&](int) { be.CopyDevice(dst, src); }, WithRotations(ctx, 1));
  Json rec =
      MakeRecord("copy_d2d", be.Name() == "cuda" ? "cudaMemcpyAsync_d2d" : "memcpy", DType::kBF16,
                 {{"bytes", 2 * elems * 2}}, 0.0, static_cast<double>(2 * elems * 2), 1, t);
  LogPoint(ctx, rec);
  return rec;
}

}  // namespace servesim::kernels
