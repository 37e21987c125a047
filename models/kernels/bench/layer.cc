// models/kernels/bench/layer.cc — a whole decoder layer from the backend's kernels.
#include "layer.h"

#include <cmath>
#include <random>

#include "paged.h"

namespace servesim::kernels {

std::vector<LayerShape> DefaultLayerShapes(bool quick) {
  if (quick) {
    return {
        {"prefill", {{32, 0}}, 0, 0},
        {"decode", {}, 4, 48},
        {"mixed", {{16, 16}}, 3, 40},
    };
  }
  return {
      {"prefill", {{512, 0}}, 0, 0},
      {"prefill", {{2048, 0}}, 0, 0},
      {"prefill", {{1024, 0}, {1024, 0}, {1024, 0}, {1024, 0}}, 0, 0},
      {"prefill", {{512, 3584}}, 0, 0},
      {"decode", {}, 1, 1024},
      {"decode", {}, 16, 1024},
      {"decode", {}, 64, 2048},
      {"decode", {}, 256, 1024},
      {"decode", {}, 32, 8192},
      {"mixed", {{512, 1024}}, 32, 2048},
      {"mixed", {{2048, 0}}, 128, 1024},
      {"mixed", {{256, 0}, {256, 4096}}, 64, 4096},
  };
}

Json BenchLayer(BenchContext& ctx, const ModelShape& m, const LayerShape& shape) {
  Backend& be = *ctx.backend;
  const int prefill_tokens = [&] {
    int n = 0;
    for (const PrefillSegment& p : shape.prefill) n += p.tokens;
    return n;
  }();
  const int T = prefill_tokens + shape.decode_batch;
  std::vector<int> kv_lens;
  for (const PrefillSegment& p : shape.prefill) kv_lens.push_back(p.prior + p.tokens);
  for (int b = 0; b < shape.decode_batch; ++b) kv_lens.push_back(shape.decode_context);

  // Footprint of one set: weights + activations + this batch's cache.
  const int64_t H = m.hidden, F = m.ffn, QKV = m.qkv_width(), GU = m.gate_up_width();
  const int64_t weights = (QKV * H + H * m.q_width() + GU * H + H * F + 2 * H) * 2;
  const int64_t acts = int64_t{T} * (3 * H + QKV + m.q_width() + H + GU + F) * 2;
  int64_t cache = 0;
  for (int len : kv_lens) {
    cache += (len + kBlockTokens - 1) / kBlockTokens * kBlockTokens * int64_t{m.kv_width()} * 4;
  }
  const int64_t set = weights + acts + cache;
  if (set > ctx.max_point_bytes) {
    if (ctx.log != nullptr) *ctx.log << "  skip layer " << shape.kind << ": too large\n";
    return Json();
  }
  const int rotations = ctx.RotationsFor(set);
  const PagedTables pt = MakePagedTables(kv_lens, rotations, ctx.NextSeed());
  Scratch s(be);
  const int64_t cache_elems = int64_t{pt.num_blocks} * kBlockTokens * m.kv_width();
  const Tensor k_cache = s.Random(DType::kBF16, cache_elems, ctx.NextSeed(), -1.0f, 1.0f);
  const Tensor v_cache = s.Random(DType::kBF16, cache_elems, ctx.NextSeed(), -1.0f, 1.0f);
  const Tensor inv_freq = s.Floats(RopeInvFreq(m));

  // Per-token positions and the sequence metadata (the same for every rotation except the
  // block tables and slots).
  std::vector<int32_t> positions, cu{0}, priors, ctx_lens;
  for (const PrefillSegment& p : shape.prefill) {
    for (int i = 0; i < p.tokens; ++i) positions.push_back(p.prior + i);
    cu.push_back(cu.back() + p.tokens);
    priors.push_back(p.prior);
  }
  for (int b = 0; b < shape.decode_batch; ++b) {
    positions.push_back(shape.decode_context - 1);
    ctx_lens.push_back(shape.decode_context);
  }
  const Tensor positions_t = s.Ints(positions);
  const Tensor cu_t = s.Ints(cu);
  const Tensor priors_t = s.Ints(priors);
  const Tensor ctx_t = s.Ints(ctx_lens);
  const int n_prefill = static_cast<int>(shape.prefill.size());
  const float scale = 1.0f / std::sqrt(static_cast<float>(m.head_dim));
  int max_q_len = 0;
  for (const PrefillSegment& p : shape.prefill) max_q_len = std::max(max_q_len, p.tokens);

  struct Set {
    GemmArgs qkv, o, gate_up, down;
    RmsNormArgs norm1, norm2;
    RopeCacheArgs rope;
    PrefillArgs prefill;
    DecodeArgs decode;
    ActArgs act;
  };
  std::vector<Set> sets(rotations);
  for (int r = 0; r < rotations; ++r) {
    Set& st = sets[r];
    const Tensor hidden = s.Random(DType::kBF16, T * H, ctx.NextSeed(), -1.0f, 1.0f);
    const Tensor residual = s.Random(DType::kBF16, T * H, ctx.NextSeed(), -1.0f, 1.0f);
    const Tensor normed = s.Alloc(DType::kBF16, T * H);
    const Tensor qkv = s.Alloc(DType::kBF16, T * QKV);
    const Tensor attn = s.Alloc(DType::kBF16, int64_t{T} * m.q_width());
    const Tensor o = s.Alloc(DType::kBF16, T * H);
    const Tensor gu = s.Alloc(DType::kBF16, T * GU);
    const Tensor act = s.Alloc(DType::kBF16, T * F);
    const float wr = 1.0f / std::sqrt(static_cast<float>(H));
    const Tensor w_qkv = s.Random(DType::kBF16, QKV * H, ctx.NextSeed(), -wr, wr);
    const Tensor w_o = s.Random(DType::kBF16, H * m.q_width(), ctx.NextSeed(), -wr, wr);
    const Tensor w_gu = s.Random(DType::kBF16, GU * H, ctx.NextSeed(), -wr, wr);
    const float wf = 1.0f / std::sqrt(static_cast<float>(F));
    const Tensor w_down = s.Random(DType::kBF16, H * F, ctx.NextSeed(), -wf, wf);
    const Tensor ln1 = s.Random(DType::kBF16, H, ctx.NextSeed(), 0.5f, 1.5f);
    const Tensor ln2 = s.Random(DType::kBF16, H, ctx.NextSeed(), 0.5f, 1.5f);
    std::vector<int32_t> slots;
    for (size_t seq = 0; seq < shape.prefill.size(); ++seq) {
      const PrefillSegment& p = shape.prefill[seq];
      for (int i = 0; i < p.tokens; ++i) {
        slots.push_back(
            SlotOf(pt.tables[r], pt.max_blocks_per_seq, static_cast<int>(seq), p.prior + i));
      }
    }
    for (int b = 0; b < shape.decode_batch; ++b) {
      slots.push_back(
          SlotOf(pt.tables[r], pt.max_blocks_per_seq, n_prefill + b, shape.decode_context - 1));
    }
    const Tensor table = s.Ints(pt.tables[r]);

    st.norm1 = {hidden, residual, ln1, normed, T, m.hidden, m.rms_eps};
    st.qkv = {normed, w_qkv, qkv, T, m.qkv_width(), m.hidden, 1.0f};
    st.rope = {qkv, positions_t, s.Ints(slots), inv_freq,   k_cache,      v_cache,
               T,   m.heads,     m.kv_heads,    m.head_dim, m.qkv_width()};
    if (n_prefill > 0) {
      PrefillArgs& a = st.prefill;
      a.q = qkv;
      a.q_row_stride = m.qkv_width();
      a.k_cache = k_cache;
      a.v_cache = v_cache;
      a.block_table = table;
      a.max_blocks_per_seq = pt.max_blocks_per_seq;
      a.cu_seqlens_q = cu_t;
      a.prior_lens = priors_t;
      a.out = attn;
      a.num_seqs = n_prefill;
      a.total_q = prefill_tokens;
      a.max_q_len = max_q_len;
      a.heads = m.heads;
      a.kv_heads = m.kv_heads;
      a.head_dim = m.head_dim;
      a.scale = scale;
    }
    if (shape.decode_batch > 0) {
      DecodeArgs& a = st.decode;
      a.q = Slice(qkv, int64_t{prefill_tokens} * QKV, int64_t{shape.decode_batch} * QKV);
      a.q_row_stride = m.qkv_width();
      a.k_cache = k_cache;
      a.v_cache = v_cache;
      a.block_table = Slice(table, int64_t{n_prefill} * pt.max_blocks_per_seq,
                            int64_t{shape.decode_batch} * pt.max_blocks_per_seq);
      a.max_blocks_per_seq = pt.max_blocks_per_seq;
      a.context_lens = ctx_t;
      a.out = Slice(attn, int64_t{prefill_tokens} * m.q_width(),
                    int64_t{shape.decode_batch} * m.q_width());
      a.batch = shape.decode_batch;
      a.max_context = shape.decode_context;
      a.heads = m.heads;
      a.kv_heads = m.kv_heads;
      a.head_dim = m.head_dim;
      a.scale = scale;
    }
    st.o = {attn, w_o, o, T, m.hidden, m.q_width(), 1.0f};
    st.norm2 = {o, residual, ln2, normed, T, m.hidden, m.rms_eps};
    st.gate_up = {normed, w_gu, gu, T, m.gate_up_width(), m.hidden, 1.0f};
    st.act = {gu, act, T, m.ffn, m.gated};
    st.down = {act, w_down, hidden, T, m.hidden, m.ffn, 1.0f};
  }

  std::vector<std::string> kernels;
  const auto run = [&](int r) {
    Set& st = sets[r];
    std::vector<std::string> k;
    k.push_back(be.RmsNorm(st.norm1));
    k.push_back(be.Gemm(st.qkv));
    k.push_back(be.RopeCache(st.rope));
    if (n_prefill > 0) k.push_back(be.AttnPrefill(st.prefill));
    if (shape.decode_batch > 0) k.push_back(be.AttnDecode(st.decode));
    k.push_back(be.Gemm(st.o));
    k.push_back(be.RmsNorm(st.norm2));
    k.push_back(be.Gemm(st.gate_up));
    k.push_back(be.Act(st.act));
    k.push_back(be.Gemm(st.down));
    kernels = std::move(k);
  };
  TimingOptions o = ctx.timing;
  o.rotations = rotations;
  const TimingResult t = be.Time(run, o);

  Json prefill = Json::array();
  for (const PrefillSegment& p : shape.prefill) {
    prefill.push_back({{"tokens", p.tokens}, {"prior", p.prior}});
  }
  Json shape_json;
  shape_json["tokens"] = T;
  shape_json["prefill"] = std::move(prefill);
  shape_json["decode"] = {{"batch", shape.decode_batch}, {"context", shape.decode_context}};
  Json rec = MakeRecord("layer_" + shape.kind, "", DType::kBF16, std::move(shape_json), 0.0,
                        static_cast<double>(set), rotations, t);
  Json layer;
  layer["kind"] = shape.kind;
  layer["shape"] = rec["shape"];
  layer["kernels"] = kernels;
  for (const char* key : {"rotations", "median_ms", "p10_ms", "p90_ms", "min_ms", "samples"}) {
    layer[key] = rec[key];
  }
  if (ctx.log != nullptr) {
    *ctx.log << "  layer " << shape.kind << " " << layer["shape"].dump() << " median "
             << layer["median_ms"].get<double>() << " ms\n";
  }
  return layer;
}

}  // namespace servesim::kernels
