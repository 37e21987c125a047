// models/kernels/bench/profile.cc — the profile sweep, the attention comparison grid and
// the ceilings.
#include "profile.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <stdexcept>

#include "allreduce.h"

namespace servesim::kernels {
namespace {

BenchContext MakeContext(Backend& be, const ProfileOptions& opt, std::ostream* log) {
  BenchContext ctx;
  ctx.backend = &be;
  ctx.timing = opt.timing;
  ctx.max_rotations = opt.max_rotations;
  ctx.l2_bytes = be.Device().l2_bytes;
  ctx.max_point_bytes = opt.max_point_bytes;
  ctx.seed = opt.seed;
  ctx.log = log;
  return ctx;
}

bool Selected(const ProfileOptions& opt, const std::string& group) {
  return opt.groups.empty() ||
         std::find(opt.groups.begin(), opt.groups.end(), group) != opt.groups.end();
}

void Push(Json& arr, Json rec) {
  if (!rec.is_null()) arr.push_back(std::move(rec));
}

// Runs one bench point; a point that throws is logged and listed in `errors` instead of
// ending the sweep.
template <typename Fn>
void Point(Json& arr, Json& errors, std::ostream* log, Fn&& fn) {
  try {
    Push(arr, fn());
  } catch (const std::exception& e) {
    if (log != nullptr) *log << "  ERROR " << e.what() << "\n";
    errors.push_back(e.what());
  }
}

std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Json MethodJson(const Backend& be, const ProfileOptions& opt) {
  Json m;
  m["warmup"] = opt.timing.warmup;
  m["iters"] = opt.timing.iters;
  m["cuda_graphs"] = be.Name() == "cuda";
  m["rotating_buffers"] = opt.max_rotations;
  m["rotation_rule"] =
      "per op: floor(2 * l2_bytes / set_bytes) + 1 input/output sets, at most "
      "rotating_buffers; KV caches rotate disjoint block sets of one pool";
  m["timer"] = be.Name() == "cuda" ? "cuda events around one graph replay of all rotations"
                                   : "steady_clock around one pass over all rotations";
  m["statistic"] =
      "per-call time = sample / rotations; median, p10, p90 over samples "
      "(linear interpolation)";
  return m;
}

}  // namespace

SweepGrid DefaultGrid() {
  SweepGrid g;
  g.gemm_tokens = {1,   2,    4,    8,    16,   32,   64,   128,  256,   384,  512,
                   768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384};
  g.lm_head_tokens = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048};
  g.elementwise_tokens = {1, 8, 32, 128, 512, 1024, 2048, 4096, 8192, 16384};
  g.prefill_tokens = {16, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};
  g.prefill_prior = {0, 512, 2048, 8192, 16384};
  g.max_prefill_context = 32768;
  g.prefill_batched = {{4, 256}, {8, 512}, {4, 2048}, {16, 1024}};
  g.decode_batch = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  g.decode_context = {128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};
  g.allreduce_bytes = {int64_t{1} << 12, int64_t{1} << 14, int64_t{1} << 16,
                       int64_t{1} << 18, int64_t{1} << 20, int64_t{1} << 22,
                       int64_t{1} << 24, int64_t{1} << 26, int64_t{1} << 28};
  g.layers = DefaultLayerShapes(false);
  return g;
}

SweepGrid QuickGrid() {
  SweepGrid g;
  g.gemm_tokens = {1, 8, 33};
  g.lm_head_tokens = {1, 4};
  g.elementwise_tokens = {1, 16};
  g.prefill_tokens = {16, 40};
  g.prefill_prior = {0, 24};
  g.max_prefill_context = 64;
  g.prefill_batched = {{2, 16}};
  g.decode_batch = {1, 3};
  g.decode_context = {17, 64};
  g.allreduce_bytes = {int64_t{1} << 12, int64_t{1} << 20};
  g.layers = DefaultLayerShapes(true);
  return g;
}

const std::vector<std::string>& OpGroups() {
  static const std::vector<std::string> kGroups = {
      "gemm", "norm", "rope", "act", "attn_prefill", "attn_decode", "layers", "allreduce"};
  return kGroups;
}

Json DeviceJson(const DeviceInfo& d) {
  Json j;
  j["name"] = d.name;
  j["sm_count"] = d.sm_count;
  j["sm_clock_mhz"] = d.sm_clock_mhz;
  j["mem_clock_mhz"] = d.mem_clock_mhz;
  j["l2_bytes"] = d.l2_bytes;
  j["memory_bytes"] = d.memory_bytes;
  j["driver_version"] = d.driver_version;
  j["cuda_version"] = d.cuda_version;
  j["compute_capability"] = d.compute_capability;
  return j;
}

Json ModelJson(const ModelShape& m) {
  Json j;
  j["name"] = m.name;
  j["hidden"] = m.hidden;
  j["heads"] = m.heads;
  j["kv_heads"] = m.kv_heads;
  j["head_dim"] = m.head_dim;
  j["ffn"] = m.ffn;
  j["gated"] = m.gated;
  j["vocab"] = m.vocab;
  return j;
}

Json RunProfile(Backend& be, const ProfileOptions& opt, std::ostream* log) {
  for (const std::string& g : opt.groups) {
    if (std::find(OpGroups().begin(), OpGroups().end(), g) == OpGroups().end()) {
      std::string valid;
      for (const std::string& v : OpGroups()) valid += (valid.empty() ? "" : ", ") + v;
      throw std::invalid_argument("unknown op group '" + g + "'; valid values are: " + valid);
    }
  }
  const ModelShape s = ShardForTp(opt.model, opt.tp);
  BenchContext ctx = MakeContext(be, opt, log);
  const SweepGrid& grid = opt.grid;
  const auto t0 = std::chrono::steady_clock::now();

  Json doc;
  doc["format"] = "servesim-kernel-profile";
  doc["version"] = 1;
  doc["backend"] = std::string(be.Name());
  doc["device"] = DeviceJson(be.Device());
  doc["model"] = ModelJson(opt.model);
  doc["tp"] = opt.tp;
  doc["shard"] = ModelJson(s);
  doc["method"] = MethodJson(be, opt);
  doc["created_utc"] = UtcNow();
  Json ops = Json::array();
  Json errors = Json::array();

  if (Selected(opt, "gemm")) {
    if (log != nullptr) *log << "gemm\n";
    std::vector<DType> dtypes = {DType::kBF16};
    if (opt.fp8 && be.SupportsFp8()) dtypes.push_back(DType::kF8E4M3);
    struct G {
      const char* op;
      int n, k;
    };
    const G gemms[] = {{"gemm_qkv", s.qkv_width(), s.hidden},
                       {"gemm_o", s.hidden, s.q_width()},
                       {"gemm_gate_up", s.gate_up_width(), s.hidden},
                       {"gemm_down", s.hidden, s.ffn}};
    for (DType dt : dtypes) {
      for (const G& g : gemms) {
        for (int m : grid.gemm_tokens)
          Point(ops, errors, log, [&] { return BenchGemm(ctx, g.op, dt, m, g.n, g.k); });
      }
      for (int m : grid.lm_head_tokens) {
        Point(ops, errors, log,
              [&] { return BenchGemm(ctx, "gemm_lm_head", dt, m, s.vocab, s.hidden); });
      }
    }
  }
  if (Selected(opt, "norm")) {
    if (log != nullptr) *log << "norm\n";
    for (int t : grid.elementwise_tokens) {
      Point(ops, errors, log, [&] { return BenchRmsNorm(ctx, false, t, s.hidden); });
      Point(ops, errors, log, [&] { return BenchRmsNorm(ctx, true, t, s.hidden); });
    }
  }
  if (Selected(opt, "rope")) {
    if (log != nullptr) *log << "rope\n";
    for (int t : grid.elementwise_tokens)
      Point(ops, errors, log, [&] { return BenchRopeCache(ctx, s, t); });
  }
  if (Selected(opt, "act")) {
    if (log != nullptr) *log << "act\n";
    for (int t : grid.elementwise_tokens)
      Point(ops, errors, log, [&] { return BenchAct(ctx, s.gated, t, s.ffn); });
  }
  if (Selected(opt, "attn_prefill")) {
    if (log != nullptr) *log << "attn_prefill\n";
    for (int t : grid.prefill_tokens) {
      for (int p : grid.prefill_prior) {
        if (t + p <= grid.max_prefill_context)
          Point(ops, errors, log, [&] { return BenchPrefill(ctx, s, 1, t, p); });
      }
    }
    for (const auto& [b, t] : grid.prefill_batched)
      Point(ops, errors, log, [&] { return BenchPrefill(ctx, s, b, t, 0); });
  }
  if (Selected(opt, "attn_decode")) {
    if (log != nullptr) *log << "attn_decode\n";
    for (int b : grid.decode_batch) {
      for (int c : grid.decode_context)
        Point(ops, errors, log, [&] { return BenchDecode(ctx, s, b, c); });
    }
  }
  if (opt.allreduce_gpus > 1 && Selected(opt, "allreduce")) {
    if (log != nullptr) *log << "allreduce\n";
    for (Json& rec : BenchAllReduce(opt.allreduce_gpus, grid.allreduce_bytes, opt.timing, log)) {
      ops.push_back(std::move(rec));
    }
  }
  doc["ops"] = std::move(ops);

  Json layers = Json::array();
  if (Selected(opt, "layers")) {
    if (log != nullptr) *log << "layers\n";
    for (const LayerShape& shape : grid.layers)
      Point(layers, errors, log, [&] { return BenchLayer(ctx, s, shape); });
  }
  doc["layers"] = std::move(layers);
  doc["errors"] = std::move(errors);
  doc["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return doc;
}

Json RunAttnBench(Backend& be, const ModelShape& shard, const ProfileOptions& opt, bool quick,
                  std::ostream* log) {
  BenchContext ctx = MakeContext(be, opt, log);
  Json doc;
  doc["format"] = "servesim-attn-bench";
  doc["version"] = 1;
  doc["backend"] = std::string(be.Name());
  doc["device"] = DeviceJson(be.Device());
  doc["shard"] = ModelJson(shard);
  doc["method"] = MethodJson(be, opt);
  Json recs = Json::array();
  Json errors = Json::array();
  const int total_tokens = quick ? 64 : 16384;
  const std::vector<int> seqs =
      quick ? std::vector<int>{16, 32} : std::vector<int>{1024, 2048, 4096, 8192};
  const std::vector<int> variants = be.Name() == "cuda" && shard.head_dim == 128
                                        ? std::vector<int>{0, 1, 2, 3, 4}
                                        : std::vector<int>{0};
  for (int seq : seqs) {
    for (int v : variants) {
      Point(recs, errors, log, [&] {
        Json rec = BenchPrefill(ctx, shard, total_tokens / seq, seq, 0, v);
        if (!rec.is_null()) rec["variant"] = v;
        return rec;
      });
    }
  }
  const std::vector<int> batches =
      quick ? std::vector<int>{1, 2} : std::vector<int>{1, 4, 16, 64, 256};
  const std::vector<int> contexts =
      quick ? std::vector<int>{17, 40} : std::vector<int>{256, 1024, 4096, 8192};
  for (int b : batches) {
    for (int c : contexts) Point(recs, errors, log, [&] { return BenchDecode(ctx, shard, b, c); });
  }
  doc["records"] = std::move(recs);
  doc["errors"] = std::move(errors);
  return doc;
}

Json RunCeilings(Backend& be, const ProfileOptions& opt, bool quick, std::ostream* log) {
  BenchContext ctx = MakeContext(be, opt, log);
  Json doc;
  doc["format"] = "servesim-ceilings";
  doc["version"] = 1;
  doc["backend"] = std::string(be.Name());
  doc["device"] = DeviceJson(be.Device());
  const int64_t copy_bytes = quick ? (int64_t{1} << 22) : (int64_t{1} << 31);
  const int n = quick ? 256 : 8192;
  Json copy = BenchCopy(ctx, copy_bytes);
  Json gemm = BenchGemm(ctx, "gemm_ceiling", DType::kBF16, n, n, n);
  doc["copy"] = copy;
  doc["gemm_bf16"] = gemm;
  doc["copy_bytes_per_s"] = copy.is_null() ? 0.0 : copy["gb_s"].get<double>() * 1e9;
  doc["gemm_bf16_flop_per_s"] = gemm.is_null() ? 0.0 : gemm["tflop_s"].get<double>() * 1e12;
  if (be.SupportsFp8() && opt.fp8) {
    Json g8 = BenchGemm(ctx, "gemm_ceiling", DType::kF8E4M3, n, n, n);
    doc["gemm_fp8"] = g8;
    doc["gemm_fp8_flop_per_s"] = g8.is_null() ? 0.0 : g8["tflop_s"].get<double>() * 1e12;
  }
  return doc;
}

}  // namespace servesim::kernels
