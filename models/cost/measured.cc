// models/cost/measured.cc — the `measured` cost model; see measured.h.
#include "models/cost/measured.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "models/cost/accuracy.h"
#include "sim/config/data_path.h"
#include "sim/config/errors.h"

namespace servesim {
namespace {

constexpr int kAllReduce = 0, kAllGather = 1, kSend = 2;

std::string grouped(std::size_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

std::string resolve_profile_path(const std::string& raw, const std::string& data_dir) {
  namespace fs = std::filesystem;
  const std::string path = resolve_data_path(raw, data_dir);  // "$data/..." like every path key
  std::error_code ec;
  if (fs::path(path).is_absolute()) {
    if (!fs::exists(path, ec)) throw ConfigError("profile '" + path + "' does not exist");
    return path;
  }
  if (!data_dir.empty()) {
    const std::string under = (fs::path(data_dir) / path).string();
    if (fs::exists(under, ec)) return under;
  }
  if (fs::exists(path, ec)) return path;
  throw ConfigError(
      "profile '" + path + "' not found (tried " +
      (data_dir.empty() ? std::string() : (fs::path(data_dir) / path).string() + " and ") + "./" +
      path + "; data_dir is the scenario's data_dir or $SERVESIM_DATA_DIR)");
}

MeasuredCostModel::MeasuredCostModel(ConfigNode& cfg, const Deployment& d)
    : d_(d), roof_(d, read_roofline_params(cfg, d)), dims_(ShardDims::of(d)) {
  const auto paths =
      cfg.get<std::vector<std::string>>("profiles", {},
                                        "measured tables: files or folders (aiconfigurator, Vidur, "
                                        "servesim-kernel-profile); relative "
                                        "paths under data_dir, else the current directory");
  if (paths.empty()) {
    cfg.fail("profiles",
             "the measured cost model needs at least one profile (e.g. profiles: "
             "[profiles/aiconfigurator/h100_sxm])");
  }
  o_.import.attention_kernel = cfg.get<std::string>(
      "attention_kernel", "auto",
      "aiconfigurator attention kernel_source to use (auto: FA3 when present)");
  o_.comm_impl = cfg.get<std::string>(
      "comm_impl", "fastest",
      "all-reduce implementation: fastest, or one name (vllm_graph, nccl, vidur, ...)");
  o_.device_check =
      cfg.get<bool>("device_check", true, "require every table to come from the deployment's GPU");
  o_.anchored =
      cfg.choice(
          "extrapolation", "anchored", {"anchored", "roofline"},
          "outside the measured range: roofline anchored at the nearest measured point, or plain "
          "roofline") == "anchored";
  std::vector<std::string> resolved;
  for (const std::string& p : paths) {
    try {
      resolved.push_back(resolve_profile_path(p, d.data_dir));
    } catch (const ConfigError& e) {
      cfg.fail("profiles", e.what());
    }
  }
  tables_ = load_profile_tables(resolved, o_.import);
  if (o_.device_check) {
    for (const ProfileSource& s : tables_->sources) {
      if (!device_matches(s.device, d.hardware->name)) {
        cfg.fail("profiles", s.path + " was measured on '" + s.device + "', not " +
                                 d.hardware->name + " (device_check: false uses it anyway)");
      }
    }
  }
  bind();
}

MeasuredCostModel::MeasuredCostModel(const Deployment& d,
                                     std::shared_ptr<const ProfileTables> tables,
                                     const RooflineParams& p, const MeasuredOptions& o)
    : d_(d), roof_(d, p), o_(o), tables_(std::move(tables)), dims_(ShardDims::of(d)) {
  if (o_.device_check) {
    for (const ProfileSource& s : tables_->sources) {
      if (!device_matches(s.device, d.hardware->name)) {
        throw ConfigError(s.path + " was measured on '" + s.device + "', not " + d.hardware->name);
      }
    }
  }
  bind();
}

MeasuredCostModel::AttnView MeasuredCostModel::bind_attention(
    const std::map<AttnKey, LogGrid>& grids, bool prefill) const {
  AttnView v;
  const auto it =
      grids.find(AttnKey{static_cast<int>(dims_.head_dim), static_cast<int>(dims_.kv_dtype_bytes)});
  if (it == grids.end() || it->second.empty()) return v;
  const LogGrid& g = it->second;
  const int q = static_cast<int>(dims_.q_heads), kv = static_cast<int>(dims_.kv_heads);
  const int fold = attention_fold(g, kv, q);
  const int folded_kv = kv / fold;  // exact: attention_fold returns a divisor of kv
  const double prefix[2] = {static_cast<double>(q) / kv, static_cast<double>(folded_kv)};
  v.view = g.view(prefix);
  v.grid = &g;
  v.fold = fold;
  v.has_prior = prefill && g.max_coord(3) > 0;
  v.shape = RooflineCostModel::AttentionShape{prefix[0] * prefix[1], prefix[1], dims_.head_dim,
                                              dims_.dtype_bytes, dims_.kv_dtype_bytes};
  return v;
}

void MeasuredCostModel::bind() {
  const ProfileTables& t = *tables_;
  gemm_dtype_ = roof_.params().use_fp8 ? "fp8" : (d_.model->dtype_bytes == 1 ? "fp8" : "bf16");
  if (auto it = t.gemm.find(gemm_dtype_); it != t.gemm.end() && !it->second.empty()) {
    const LogGrid& g = it->second;
    const double n_max = g.max_coord(1);
    const IterationShape unit{};
    for (Op op : {Op::kQkv, Op::kOProj, Op::kRouter, Op::kGateUp, Op::kDown, Op::kLmHead}) {
      if (op == Op::kRouter && !dims_.moe) continue;
      const GemmDims gd = gemm_dims(op, unit, dims_);
      GemmView& v = gemm_[static_cast<int>(op)];
      v.pieces = gd.n > n_max ? std::ceil(gd.n / n_max) : 1.0;
      v.n = gd.n / v.pieces;
      v.k = gd.k;
      const double prefix[2] = {v.k, v.n};
      v.view = g.view(prefix);
    }
  }
  prefill_ = bind_attention(t.prefill, true);
  decode_ = bind_attention(t.decode, false);
  auto elem = [&](const char* kind, double width) {
    ElemView v;
    v.width = width;
    if (auto it = t.elementwise.find(kind); it != t.elementwise.end() && !it->second.empty()) {
      const double prefix[1] = {width};
      v.view = it->second.view(prefix);
    }
    return v;
  };
  add_norm_ = elem("add_rms_norm", dims_.hidden);
  norm_ = elem("rms_norm", dims_.hidden);
  add_ = elem("add", dims_.hidden);
  rope_ = elem("rope", (dims_.q_heads + dims_.kv_heads) * dims_.head_dim);
  act_ = elem(dims_.gated ? "act_gated" : "act", dims_.ffn_shard);
  auto comm = [&](const char* collective, int gpus) {
    std::vector<CommView> out;
    for (const auto& [key, grid] : t.comm) {
      if (key.collective != collective || grid.empty()) continue;
      if (o_.comm_impl != "fastest" && key.impl != o_.comm_impl) continue;
      const double prefix[1] = {static_cast<double>(gpus)};
      if (!grid.has_prefix(prefix)) continue;  // never interpolate across group sizes
      out.push_back(CommView{grid.view(prefix), gpus});
    }
    return out;
  };
  if (dims_.tp > 1) {
    allreduce_ = comm("all_reduce", dims_.tp);
    allgather_ = comm("all_gather", dims_.tp);
  }
  if (dims_.pp > 1) send_ = comm("send_recv", 2);
}

double MeasuredCostModel::gemm_ns(Op op, const IterationShape& s, bool* fb) const {
  const GemmView& v = gemm_[static_cast<int>(op)];
  if (!v.view.valid()) {
    *fb = true;
    return roof_.price(op, s, nullptr);
  }
  const double m = gemm_dims(op, s, dims_).m;
  bool out = false;
  const double ns = v.view.lookup(
      &m, [this](const double* c) { return std::log(roof_.gemm_ns(c[2], c[1], c[0])); }, &out);
  if (out) {
    *fb = true;
    if (!o_.anchored) return roof_.price(op, s, nullptr);
  }
  return ns * v.pieces;
}

double MeasuredCostModel::prefill_ns(const IterationShape& s, bool* fb) const {
  const AttnView& v = prefill_;
  if (!v.view.valid()) {
    *fb = true;
    return roof_.price(Op::kAttnPrefill, s, nullptr);
  }
  const double segs = s.prefill_segments, pairs = s.prefill_pairs / segs;
  double rest[3];
  rest[0] = segs * v.fold;
  if (s.prefill_prior > 0 && v.has_prior) {
    const double n = s.prefill_tokens / segs;
    rest[1] = std::max(0.0, (pairs - n * (n + 1.0) / 2.0) / n);
    rest[2] = n;
  } else {
    rest[1] = 0;
    rest[2] = (std::sqrt(1.0 + 8.0 * pairs) - 1.0) / 2.0;
  }
  const RooflineCostModel::AttentionShape base = v.shape;
  bool out = false;
  const double ns = v.view.lookup(
      rest,
      [&](const double* c) {
        RooflineCostModel::AttentionShape a = base;
        a.kv_heads = c[1];
        a.q_heads = c[0] * c[1];
        return std::log(roof_.prefill_attention_ns(a, c[2], c[4], c[3]));
      },
      &out);
  if (out) {
    *fb = true;
    if (!o_.anchored) return roof_.price(Op::kAttnPrefill, s, nullptr);
  }
  return ns;
}

double MeasuredCostModel::decode_ns(const IterationShape& s, bool* fb) const {
  const AttnView& v = decode_;
  if (!v.view.valid()) {
    *fb = true;
    return roof_.price(Op::kAttnDecode, s, nullptr);
  }
  const double rest[2] = {s.decode_requests * v.fold, s.decode_context / s.decode_requests};
  const RooflineCostModel::AttentionShape base = v.shape;
  bool out = false;
  const double ns = v.view.lookup(
      rest,
      [&](const double* c) {
        RooflineCostModel::AttentionShape a = base;
        a.kv_heads = c[1];
        a.q_heads = c[0] * c[1];
        return std::log(roof_.decode_attention_ns(a, c[2], c[3]));
      },
      &out);
  if (out) {
    *fb = true;
    if (!o_.anchored) return roof_.price(Op::kAttnDecode, s, nullptr);
  }
  return ns;
}

// A bandwidth-bound kernel over tokens × width elements of `unit` bytes each.
double MeasuredCostModel::elem_ns(const ElemView& v, double tokens, double unit, bool* fb) const {
  bool out = false;
  const double ns = v.view.lookup(
      &tokens, [&](const double* c) { return std::log(roof_.memory_ns(c[0] * c[1] * unit)); },
      &out);
  if (out) {
    *fb = true;
    if (!o_.anchored) return roof_.memory_ns(v.width * tokens * unit);
  }
  return ns;
}

double MeasuredCostModel::comm_ns(const std::vector<CommView>& views, double bytes, int kind,
                                  bool* fb) const {
  auto ref = [&](double b, int gpus) {
    switch (kind) {
      case kAllReduce:
        return roof_.allreduce_ns(b, gpus);
      case kAllGather:
        return roof_.allgather_ns(b, gpus);
      default:
        return roof_.send_ns(b);
    }
  };
  double best_in = -1, best_out = -1;
  for (const CommView& v : views) {
    bool out = false;
    const double ns = v.view.lookup(
        &bytes, [&](const double* c) { return std::log(ref(c[1], static_cast<int>(c[0]))); }, &out);
    double& best = out ? best_out : best_in;
    if (best < 0 || ns < best) best = ns;
  }
  if (best_in >= 0) return best_in;
  *fb = true;
  if (best_out >= 0 && o_.anchored) return best_out;
  return ref(bytes, views.empty() ? dims_.tp : views.front().gpus);
}

double MeasuredCostModel::memo_count(Op op, const IterationShape& s) const {
  double n = -1;
  if (is_gemm(op)) n = gemm_dims(op, s, dims_).m;  // gemm_ns and its roofline fallback read only m
  switch (op) {
    case Op::kAddNorm:
      n = (add_norm_.view.valid() || (norm_.view.valid() && add_.view.valid())) ? s.tokens : -1;
      break;
    case Op::kRope:
      n = rope_.view.valid() ? s.tokens : -1;
      break;
    case Op::kAct:
      n = act_.view.valid() && !dims_.moe ? s.tokens : -1;
      break;
    case Op::kTpAllReduce:
    case Op::kPpSend:
      n = s.tokens;
      break;
    case Op::kLogitsGather:
      n = s.seqs;
      break;
    default:
      break;
  }
  return n >= 0 && n < static_cast<double>(kMemoCounts) && n == std::floor(n) ? n : -1;
}

double MeasuredCostModel::price(Op op, const IterationShape& s, bool* fb) const {
  const double n = memo_count(op, s);
  if (n < 0) return price_uncached(op, s, fb);
  std::vector<MemoEntry>& memo = memo_[static_cast<std::size_t>(op)];
  const auto i = static_cast<std::size_t>(n);
  if (i >= memo.size()) memo.resize(std::max<std::size_t>(i + 1, 2 * memo.size()));
  MemoEntry& e = memo[i];
  if (!e.known) {
    bool out = false;
    e.ns = price_uncached(op, s, &out);
    e.fell_back = out;
    e.known = true;
  }
  if (e.fell_back) *fb = true;
  return e.ns;
}

double MeasuredCostModel::price_uncached(Op op, const IterationShape& s, bool* fb) const {
  const double b = dims_.dtype_bytes;
  switch (op) {
    case Op::kQkv:
    case Op::kOProj:
    case Op::kRouter:
    case Op::kGateUp:
    case Op::kDown:
    case Op::kLmHead:
      return gemm_ns(op, s, fb);
    case Op::kAttnPrefill:
      return prefill_ns(s, fb);
    case Op::kAttnDecode:
      return decode_ns(s, fb);
    case Op::kAddNorm:
      if (add_norm_.view.valid()) return elem_ns(add_norm_, s.tokens, 4.0 * b, fb);
      if (norm_.view.valid() && add_.view.valid()) {
        return elem_ns(norm_, s.tokens, 2.0 * b, fb) + elem_ns(add_, s.tokens, 3.0 * b, fb);
      }
      *fb = true;
      return roof_.price(op, s, nullptr);
    case Op::kRope:
      if (rope_.view.valid()) return elem_ns(rope_, s.tokens, 2.0 * b, fb);
      *fb = true;
      return roof_.price(op, s, nullptr);
    case Op::kAct:
      if (act_.view.valid()) {
        return elem_ns(act_, dims_.moe ? s.tokens_per_expert : s.tokens,
                       (dims_.gated ? 3.0 : 2.0) * b, fb);
      }
      *fb = true;
      return roof_.price(op, s, nullptr);
    case Op::kTpAllReduce:
      return comm_ns(allreduce_, s.tokens * dims_.hidden * b, kAllReduce, fb);
    case Op::kLogitsGather:
      return comm_ns(allgather_, s.seqs * dims_.vocab * b, kAllGather, fb);
    case Op::kPpSend:
      return comm_ns(send_, s.tokens * dims_.hidden * b, kSend, fb);
    case Op::kEmbed:
    case Op::kSample:
      return roof_.price(op, s, nullptr);
    case Op::kCount:
      break;
  }
  return 0;
}

IterationCost MeasuredCostModel::estimate(const BatchShape& batch) const {
  return assemble(*this, dims_, batch, roof_.params().pipeline_mode, roof_.overhead_ns(batch));
}

IterationCost MeasuredCostModel::explain(const BatchShape& batch, OpTimes* detail) const {
  return assemble(*this, dims_, batch, roof_.params().pipeline_mode, roof_.overhead_ns(batch),
                  detail);
}

std::vector<std::string> MeasuredCostModel::coverage() const {
  std::vector<std::string> out;
  const ProfileTables& t = *tables_;
  auto line = [&](const char* what, bool ok, const std::string& detail) {
    out.push_back(std::string(what) + ": " + (ok ? detail : "roofline (no table)"));
  };
  const auto g = t.gemm.find(gemm_dtype_);
  line("gemm", g != t.gemm.end(),
       g == t.gemm.end() ? ""
                         : "table " + gemm_dtype_ + " (" + grouped(g->second.size()) + " points)");
  char buf[160];
  std::snprintf(buf, sizeof buf, "table head_dim %d, %d/%d heads%s",
                static_cast<int>(dims_.head_dim), static_cast<int>(dims_.q_heads / prefill_.fold),
                static_cast<int>(dims_.kv_heads / prefill_.fold),
                prefill_.fold > 1 ? " (folded)" : "");
  line("attention_prefill", prefill_.view.valid(), buf);
  std::snprintf(buf, sizeof buf, "table head_dim %d, %d/%d heads%s",
                static_cast<int>(dims_.head_dim), static_cast<int>(dims_.q_heads / decode_.fold),
                static_cast<int>(dims_.kv_heads / decode_.fold),
                decode_.fold > 1 ? " (folded)" : "");
  line("attention_decode", decode_.view.valid(), buf);
  std::string elem;
  if (add_norm_.view.valid()) elem += "add_rms_norm ";
  if (norm_.view.valid()) elem += "rms_norm ";
  if (add_.view.valid()) elem += "add ";
  if (rope_.view.valid()) elem += "rope ";
  if (act_.view.valid()) elem += "act ";
  line("elementwise", !elem.empty(), "tables " + elem + "(others roofline)");
  if (dims_.tp > 1) {
    std::string impls;
    for (const auto& [key, grid] : t.comm) {
      const double prefix[1] = {static_cast<double>(dims_.tp)};
      if (key.collective == "all_reduce" && grid.has_prefix(prefix)) impls += key.impl + " ";
    }
    line("communication", !allreduce_.empty(), "all_reduce tables " + impls);
  }
  return out;
}

SERVESIM_REGISTER(
    CostModel, MeasuredCostModel, "measured",
    "measured kernel tables (aiconfigurator, Vidur, servesim kernel profiles) interpolated in log "
    "space; roofline outside their range")

}  // namespace servesim
