// models/cost/profile_data.cc — the importers of profile_data.h: a small strict CSV reader, the
// aiconfigurator, Vidur and servesim-kernel-profile readers, compilation into LogGrids and the
// shared table cache.
#include "models/cost/profile_data.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "sim/config/errors.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read profile file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A whole CSV file with a header line; fields are plain (no quoting in these tables).
class CsvFile {
 public:
  explicit CsvFile(const std::string& path) : path_(path), text_(read_file(path)) {
    if (!next_line()) fail_at(1, "empty file (expected a header line)");
    split(header_);
    for (std::size_t i = 0; i < header_.size(); ++i) names_.emplace_back(header_[i]);
  }

  const std::string& path() const { return path_; }
  // Index of a column; a required one that is missing is an InputError naming it.
  int column(std::string_view name, bool required = true) const {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return static_cast<int>(i);
    }
    if (required) fail_at(1, "missing column '" + std::string(name) + "'");
    return -1;
  }
  // Advances to the next non-empty data line; false at the end.
  bool next() {
    while (next_line()) {
      if (line_.empty()) continue;
      split(fields_);
      if (fields_.size() != names_.size()) {
        fail("expected " + std::to_string(names_.size()) + " fields, found " +
             std::to_string(fields_.size()));
      }
      return true;
    }
    return false;
  }
  std::string_view field(int col) const { return fields_[static_cast<std::size_t>(col)]; }
  bool empty(int col) const { return field(col).empty(); }
  double number(int col) const {
    const std::string_view f = field(col);
    double v = 0;
    const auto r = std::from_chars(f.data(), f.data() + f.size(), v);
    if (f.empty() || r.ec != std::errc() || r.ptr != f.data() + f.size() || !std::isfinite(v)) {
      fail("column '" + names_[static_cast<std::size_t>(col)] + "': '" + std::string(f) +
           "' is not a number");
    }
    return v;
  }
  // A time in ms that must be > 0; returned in ns.
  double time_ms_to_ns(int col) const {
    const double v = number(col);
    if (!(v > 0))
      fail("column '" + names_[static_cast<std::size_t>(col)] + "': time must be > 0, got " +
           std::string(field(col)));
    return v * 1e6;
  }
  double positive(int col) const {
    const double v = number(col);
    if (!(v > 0))
      fail("column '" + names_[static_cast<std::size_t>(col)] + "': must be > 0, got " +
           std::string(field(col)));
    return v;
  }
  // A whole number in [1, 2^31 − 1] (head counts, widths, TP degrees).
  int count(int col) const {
    const double v = positive(col);
    if (v != std::floor(v) || v > std::numeric_limits<int>::max())
      fail("column '" + names_[static_cast<std::size_t>(col)] +
           "': expected a whole number up to 2^31 - 1, got " + std::string(field(col)));
    return static_cast<int>(v);
  }
  double non_negative(int col) const {
    const double v = number(col);
    if (v < 0)
      fail("column '" + names_[static_cast<std::size_t>(col)] + "': must be >= 0, got " +
           std::string(field(col)));
    return v;
  }
  bool boolean(int col) const {
    const std::string_view f = field(col);
    if (f == "True" || f == "true" || f == "1") return true;
    if (f == "False" || f == "false" || f == "0") return false;
    fail("column '" + names_[static_cast<std::size_t>(col)] + "': '" + std::string(f) +
         "' is not a boolean");
  }
  int line() const { return line_no_; }
  [[noreturn]] void fail(const std::string& reason) const { fail_at(line_no_, reason); }
  [[noreturn]] void fail_at(int line, const std::string& reason) const {
    throw InputError(path_ + ":" + std::to_string(line) + ": " + reason);
  }

 private:
  bool next_line() {
    if (pos_ >= text_.size()) return false;
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string::npos) end = text_.size();
    line_ = std::string_view(text_).substr(pos_, end - pos_);
    if (!line_.empty() && line_.back() == '\r') line_.remove_suffix(1);
    pos_ = end + 1;
    ++line_no_;
    return true;
  }
  void split(std::vector<std::string_view>& out) const {
    out.clear();
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = line_.find(',', start);
      if (comma == std::string_view::npos) {
        out.push_back(line_.substr(start));
        break;
      }
      out.push_back(line_.substr(start, comma - start));
      start = comma + 1;
    }
  }

  std::string path_;
  std::string text_;
  std::size_t pos_ = 0;
  int line_no_ = 0;
  std::string_view line_;
  std::vector<std::string_view> header_, fields_;
  std::vector<std::string> names_;
};

LogGrid::Point point(std::initializer_list<double> xs, double value_ns) {
  LogGrid::Point p;
  int i = 0;
  for (double x : xs) p.x[static_cast<std::size_t>(i++)] = x;
  p.value = value_ns;
  return p;
}

std::string normal_dtype(std::string_view s) {
  if (s == "bfloat16" || s == "bf16" || s == "float16" || s == "half" || s == "fp16") return "bf16";
  if (s == "fp8" || s == "fp8_e4m3" || s == "f8e4m3" || s == "float8_e4m3fn") return "fp8";
  return std::string(s);
}

int dtype_bytes(std::string_view s) {
  const std::string d = normal_dtype(s);
  if (d == "bf16") return 2;
  if (d == "fp8" || s == "int8") return 1;
  if (s == "float" || s == "float32" || s == "f32") return 4;
  return 0;
}

std::string first_device(CsvFile& f, int device_col) {
  return device_col >= 0 ? std::string(f.field(device_col)) : std::string();
}

// ---------------------------------------------------------------- aiconfigurator

void import_aic_gemm(const std::string& path, ProfileData& out) {
  CsvFile f(path);
  const int dtype = f.column("gemm_dtype"), m = f.column("m"), n = f.column("n"), k = f.column("k");
  const int lat = f.column("latency"), dev = f.column("device", false);
  ProfileSource src{path, "aiconfigurator-gemm", "", 0, 0};
  while (f.next()) {
    if (src.device.empty()) src.device = first_device(f, dev);
    const double mv = f.positive(m), nv = f.positive(n), kv = f.positive(k);
    out.gemm[normal_dtype(f.field(dtype))].push_back(point({kv, nv, mv}, f.time_ms_to_ns(lat)));
    ++src.points;
  }
  out.sources.push_back(src);
}

// The kernel_source to keep from an attention file (see ImportOptions::attention_kernel).
std::string pick_kernel(const std::string& path, const std::string& wanted) {
  if (wanted != "auto") return wanted;
  CsvFile f(path);
  const int ks = f.column("kernel_source", false);
  if (ks < 0) return "";
  std::map<std::string, std::int64_t> counts;
  while (f.next()) ++counts[std::string(f.field(ks))];
  std::string best;
  std::int64_t best_n = -1;
  for (const auto& [name, n] : counts) {
    if (name.find("fa3") != std::string::npos) return name;
    if (n > best_n) best = name, best_n = n;
  }
  return best;
}

void import_aic_attention(const std::string& path, bool context, const ImportOptions& opt,
                          ProfileData& out) {
  const std::string kernel = pick_kernel(path, opt.attention_kernel);
  CsvFile f(path);
  const int b = f.column("batch_size"), isl = f.column("isl"), heads = f.column("num_heads");
  const int kvh = f.column("num_key_value_heads"), hd = f.column("head_dim"),
            kvd = f.column("kv_cache_dtype");
  const int step = f.column("step"), lat = f.column("latency");
  const int win = f.column("window_size", false), ks = f.column("kernel_source", false),
            dev = f.column("device", false);
  const int adt = f.column("attn_dtype", false), beam = f.column("beam_width", false);
  ProfileSource src{
      path, context ? "aiconfigurator-context-attention" : "aiconfigurator-generation-attention",
      "", 0, 0};
  while (f.next()) {
    if (src.device.empty()) src.device = first_device(f, dev);
    const bool keep =
        (win < 0 || f.number(win) == 0) && (ks < 0 || kernel.empty() || f.field(ks) == kernel) &&
        (adt < 0 || normal_dtype(f.field(adt)) == "bf16") && (beam < 0 || f.number(beam) == 1);
    if (!keep) {
      ++src.skipped_rows;
      continue;
    }
    const int kv_bytes = dtype_bytes(f.field(kvd));
    if (kv_bytes == 0)
      f.fail("column 'kv_cache_dtype': unknown dtype '" + std::string(f.field(kvd)) + "'");
    const AttnKey key{f.count(hd), kv_bytes};
    const double q = f.positive(heads), kv = f.positive(kvh), bs = f.positive(b);
    const double t = f.time_ms_to_ns(lat);
    if (context) {
      out.prefill[key].push_back(point({q / kv, kv, bs, f.non_negative(step), f.positive(isl)}, t));
    } else {
      // Generation: one new token attending to isl + step cached-and-current tokens.
      out.decode[key].push_back(point({q / kv, kv, bs, f.positive(isl) + f.non_negative(step)}, t));
    }
    ++src.points;
  }
  out.sources.push_back(src);
}

void import_aic_custom_allreduce(const std::string& path, ProfileData& out) {
  CsvFile f(path);
  const int dt = f.column("allreduce_dtype"), gpus = f.column("num_gpus"),
            size = f.column("message_size");
  const int lat = f.column("latency"), backend = f.column("backend", false),
            ks = f.column("kernel_source", false);
  const int dev = f.column("device", false);
  ProfileSource src{path, "aiconfigurator-custom-allreduce", "", 0, 0};
  while (f.next()) {
    if (src.device.empty()) src.device = first_device(f, dev);
    const int bytes = dtype_bytes(f.field(dt));
    if (bytes == 0)
      f.fail("column 'allreduce_dtype': unknown dtype '" + std::string(f.field(dt)) + "'");
    const std::string impl = backend >= 0 ? std::string(f.field(backend))
                             : ks >= 0    ? std::string(f.field(ks))
                                          : "custom";
    out.comm[CommKey{"all_reduce", impl}].push_back(
        point({f.positive(gpus), f.positive(size) * bytes}, f.time_ms_to_ns(lat)));
    ++src.points;
  }
  out.sources.push_back(src);
}

void import_aic_nccl(const std::string& path, ProfileData& out) {
  CsvFile f(path);
  const int op = f.column("op_name"), dt = f.column("nccl_dtype"), gpus = f.column("num_gpus");
  const int size = f.column("message_size"), lat = f.column("latency"),
            dev = f.column("device", false);
  ProfileSource src{path, "aiconfigurator-nccl", "", 0, 0};
  while (f.next()) {
    if (src.device.empty()) src.device = first_device(f, dev);
    const std::string_view name = f.field(op);
    if (name != "all_reduce" && name != "all_gather") {
      ++src.skipped_rows;
      continue;
    }
    const int bytes = dtype_bytes(f.field(dt));
    if (bytes == 0) f.fail("column 'nccl_dtype': unknown dtype '" + std::string(f.field(dt)) + "'");
    // message_size counts elements (for all_gather: of the gathered output, as nccl-tests).
    out.comm[CommKey{std::string(name), "nccl"}].push_back(
        point({f.positive(gpus), f.positive(size) * bytes}, f.time_ms_to_ns(lat)));
    ++src.points;
  }
  out.sources.push_back(src);
}

// ---------------------------------------------------------------- Vidur

// The GPU a Vidur file was measured on, from its path (…/compute/a100/…, …/network/h100_dgx/…).
std::string vidur_device(const std::string& path) {
  const fs::path p(path);
  std::vector<std::string> parts;
  for (const auto& c : p) parts.push_back(c.string());
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] == "compute" || parts[i] == "network" || parts[i] == "legacy_acb95f6" ||
        parts[i] == "legacy_6d98aa8") {
      const std::string& next = parts[i + 1];
      return next.substr(0, next.find('_'));
    }
  }
  return "";
}

int ceil_div_i(int a, int b) {
  return static_cast<int>((static_cast<std::int64_t>(a) + b - 1) / b);
}

void import_vidur_mlp(const std::string& path, ProfileData& out) {
  CsvFile f(path);
  const int heads = f.column("n_head"), kvh = f.column("n_kv_head"), embd = f.column("n_embd");
  const int ffn = f.column("n_expanded_embd"), gated = f.column("use_gated_mlp"),
            tokens = f.column("num_tokens");
  const int tpw = f.column("num_tensor_parallel_workers");
  struct OpCol {
    const char* op;
    int col;
  };
  const char* names[] = {"attn_pre_proj", "attn_post_proj",  "mlp_up_proj",
                         "mlp_down_proj", "input_layernorm", "post_attention_layernorm",
                         "add",           "attn_rope",       "mlp_act"};
  std::vector<OpCol> ops;
  for (const char* n : names)
    ops.push_back({n, f.column(std::string("time_stats.") + n + ".median", false)});
  ProfileSource src{path, "vidur-mlp", vidur_device(path), 0, 0};
  while (f.next()) {
    const int tp = f.count(tpw);
    const int h = f.count(embd), nh = f.count(heads);
    const int nkv = f.count(kvh), ff = f.count(ffn);
    const bool g = f.boolean(gated);
    const double t = f.positive(tokens);
    const double hd = static_cast<double>(h) / nh;
    const double q = ceil_div_i(nh, tp), kv = ceil_div_i(nkv, tp), ffs = ceil_div_i(ff, tp);
    for (const OpCol& oc : ops) {
      if (oc.col < 0 || f.empty(oc.col)) continue;
      const double ns = f.time_ms_to_ns(oc.col);
      const std::string_view op = oc.op;
      if (op == "attn_pre_proj") {
        out.gemm["bf16"].push_back(point({static_cast<double>(h), (q + 2 * kv) * hd, t}, ns));
      } else if (op == "attn_post_proj") {
        out.gemm["bf16"].push_back(point({q * hd, static_cast<double>(h), t}, ns));
      } else if (op == "mlp_up_proj") {
        out.gemm["bf16"].push_back(point({static_cast<double>(h), (g ? 2.0 : 1.0) * ffs, t}, ns));
      } else if (op == "mlp_down_proj") {
        out.gemm["bf16"].push_back(point({ffs, static_cast<double>(h), t}, ns));
      } else if (op == "input_layernorm" || op == "post_attention_layernorm") {
        out.elementwise["rms_norm"].push_back(point({static_cast<double>(h), t}, ns));
      } else if (op == "add") {
        out.elementwise["add"].push_back(point({static_cast<double>(h), t}, ns));
      } else if (op == "attn_rope") {
        out.elementwise["rope"].push_back(point({(q + kv) * hd, t}, ns));
      } else if (op == "mlp_act") {
        out.elementwise[g ? "act_gated" : "act"].push_back(point({ffs, t}, ns));
      }
      ++src.points;
    }
  }
  out.sources.push_back(src);
}

void import_vidur_attention(const std::string& path, ProfileData& out) {
  CsvFile f(path);
  const int embd = f.column("n_embd"), heads = f.column("n_q_head"), kvh = f.column("n_kv_head");
  const int tpw = f.column("num_tensor_parallel_workers"), b = f.column("batch_size");
  const int chunk = f.column("prefill_chunk_size"), kvc = f.column("kv_cache_size"),
            isp = f.column("is_prefill");
  const int pre = f.column("time_stats.attn_prefill.median"),
            dec = f.column("time_stats.attn_decode.median");
  ProfileSource src{path, "vidur-attention", vidur_device(path), 0, 0};
  while (f.next()) {
    const int tp = f.count(tpw);
    const int nh = f.count(heads);
    const int hd = f.count(embd) / nh;
    const double q = ceil_div_i(nh, tp), kv = ceil_div_i(f.count(kvh), tp);
    const AttnKey key{hd, 2};
    const double bs = f.positive(b), cached = f.non_negative(kvc);
    if (f.boolean(isp)) {
      if (f.empty(pre)) f.fail("column 'time_stats.attn_prefill.median' is empty on a prefill row");
      out.prefill[key].push_back(
          point({q / kv, kv, bs, cached, f.positive(chunk)}, f.time_ms_to_ns(pre)));
    } else {
      if (f.empty(dec)) f.fail("column 'time_stats.attn_decode.median' is empty on a decode row");
      out.decode[key].push_back(point({q / kv, kv, bs, cached + 1.0}, f.time_ms_to_ns(dec)));
    }
    ++src.points;
  }
  out.sources.push_back(src);
}

void import_vidur_network(const std::string& path, const std::string& collective,
                          ProfileData& out) {
  CsvFile f(path);
  const int t = f.column("time_stats." + collective + ".median"), workers = f.column("num_workers");
  const int size = f.column("size"), per_node = f.column("devices_per_node");
  ProfileSource src{path, "vidur-" + collective, vidur_device(path), 0, 0};
  while (f.next()) {
    if (f.number(per_node) !=
        f.number(workers)) {  // inter-node rows: not a TP/PP group of one node
      ++src.skipped_rows;
      continue;
    }
    out.comm[CommKey{collective, "vidur"}].push_back(
        point({f.positive(workers), f.positive(size)}, f.time_ms_to_ns(t)));
    ++src.points;
  }
  out.sources.push_back(src);
}

// ---------------------------------------------------------------- servesim kernel profile

using Json = nlohmann::json;

void import_kernel_profile(const std::string& path, const Json& doc, ProfileData& out) {
  auto fail = [&](const std::string& where, const std::string& reason) -> void {
    throw InputError(path + ": " + where + ": " + reason);
  };
  if (doc.value("version", 0) != 1)
    fail("version", "unsupported servesim-kernel-profile version (expected 1)");
  if (!doc.contains("shard") || !doc["shard"].is_object()) fail("shard", "missing object");
  if (!doc.contains("ops") || !doc["ops"].is_array()) fail("ops", "missing array");
  const Json& shard = doc["shard"];
  auto shard_num = [&](const char* key) {
    if (!shard.contains(key) || !shard[key].is_number() || !(shard[key].get<double>() > 0) ||
        shard[key].get<double>() > std::numeric_limits<int>::max()) {
      fail(std::string("shard.") + key, "missing or not a positive number up to 2^31 - 1");
    }
    return shard[key].get<double>();
  };
  const double hidden = shard_num("hidden"), heads = shard_num("heads"),
               kv_heads = shard_num("kv_heads");
  const double head_dim = shard_num("head_dim");
  const bool gated = shard.value("gated", true);
  ProfileSource src{path, "servesim-kernel-profile", "", 0, 0};
  if (doc.contains("device") && doc["device"].is_object())
    src.device = doc["device"].value("name", "");
  const Json& ops = doc["ops"];
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Json& r = ops[i];
    const std::string where = "ops[" + std::to_string(i) + "]";
    if (!r.is_object() || !r.contains("op") || !r["op"].is_string()) fail(where, "missing 'op'");
    const std::string op = r["op"].get<std::string>();
    if (!r.contains("median_ms") || !r["median_ms"].is_number())
      fail(where + " (" + op + ")", "missing 'median_ms'");
    const double ms = r["median_ms"].get<double>();
    if (!(ms > 0) || !std::isfinite(ms)) fail(where + " (" + op + ")", "median_ms must be > 0");
    const double ns = ms * 1e6;
    if (!r.contains("shape") || !r["shape"].is_object())
      fail(where + " (" + op + ")", "missing 'shape'");
    const Json& s = r["shape"];
    auto dim = [&](const char* key) {
      if (!s.contains(key) || !s[key].is_number() || s[key].get<double>() < 0) {
        fail(where + " (" + op + ")", std::string("shape.") + key + " missing or negative");
      }
      return s[key].get<double>();
    };
    if (op.rfind("gemm_", 0) == 0 && op != "gemm_ceiling") {
      const std::string dt = normal_dtype(r.value("dtype", "bf16"));
      out.gemm[dt].push_back(point({dim("k"), dim("n"), dim("m")}, ns));
    } else if (op == "rms_norm" || op == "add_rms_norm") {
      out.elementwise[op].push_back(point({dim("hidden"), dim("tokens")}, ns));
    } else if (op == "rope_cache") {
      out.elementwise["rope"].push_back(point({(heads + kv_heads) * head_dim, dim("tokens")}, ns));
    } else if (op == "act") {
      out.elementwise[gated ? "act_gated" : "act"].push_back(
          point({dim("width"), dim("tokens")}, ns));
    } else if (op == "attn_prefill") {
      const double batch = dim("batch");
      if (batch <= 0) fail(where + " (" + op + ")", "shape.batch must be > 0");
      out.prefill[AttnKey{static_cast<int>(head_dim), 2}].push_back(
          point({heads / kv_heads, kv_heads, batch, dim("prior"), dim("tokens") / batch}, ns));
    } else if (op == "attn_decode") {
      out.decode[AttnKey{static_cast<int>(head_dim), 2}].push_back(
          point({heads / kv_heads, kv_heads, dim("batch"), dim("context")}, ns));
    } else if (op == "allreduce") {
      out.comm[CommKey{"all_reduce", "servesim_nccl"}].push_back(
          point({dim("gpus"), dim("bytes")}, ns));
    } else {
      ++src.skipped_rows;  // copy_d2d, ceilings, future ops
      continue;
    }
    ++src.points;
  }
  (void)hidden;
  out.sources.push_back(src);
}

bool is_kernel_profile_json(const std::string& path, Json* doc) {
  const std::string text = read_file(path);
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {  // parse_error, or out_of_range for 1e537 (fuzz_profile)
    throw InputError(path + ": not valid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("format") || j["format"] != "servesim-kernel-profile")
    return false;
  if (doc != nullptr) *doc = std::move(j);
  return true;
}

void import_file(const std::string& path, const std::string& format, const ImportOptions& opt,
                 ProfileData& out) {
  if (format == "aiconfigurator-gemm") return import_aic_gemm(path, out);
  if (format == "aiconfigurator-context-attention")
    return import_aic_attention(path, true, opt, out);
  if (format == "aiconfigurator-generation-attention")
    return import_aic_attention(path, false, opt, out);
  if (format == "aiconfigurator-custom-allreduce") return import_aic_custom_allreduce(path, out);
  if (format == "aiconfigurator-nccl") return import_aic_nccl(path, out);
  if (format == "vidur-mlp") return import_vidur_mlp(path, out);
  if (format == "vidur-attention") return import_vidur_attention(path, out);
  if (format == "vidur-all_reduce") return import_vidur_network(path, "all_reduce", out);
  if (format == "vidur-send_recv") return import_vidur_network(path, "send_recv", out);
  if (format == "servesim-kernel-profile") {
    Json doc;
    if (!is_kernel_profile_json(path, &doc))
      throw InputError(path + ": not a servesim-kernel-profile");
    try {
      return import_kernel_profile(path, doc, out);
    } catch (const Json::exception& e) {  // a value of the wrong JSON type (found by fuzzing)
      throw InputError(path + ": " + e.what());
    }
  }
  throw InputError(path + ": unrecognised profile file");
}

}  // namespace

std::string detect_profile_format(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  if (name == "gemm_perf.csv") return "aiconfigurator-gemm";
  if (name == "context_attention_perf.csv") return "aiconfigurator-context-attention";
  if (name == "generation_attention_perf.csv") return "aiconfigurator-generation-attention";
  if (name == "custom_allreduce_perf.csv") return "aiconfigurator-custom-allreduce";
  if (name == "nccl_perf.csv") return "aiconfigurator-nccl";
  if (name == "mlp.csv") return "vidur-mlp";
  if (name == "attention.csv") return "vidur-attention";
  if (name == "all_reduce.csv") return "vidur-all_reduce";
  if (name == "send_recv.csv") return "vidur-send_recv";
  if (fs::path(path).extension() == ".json") {
    try {
      if (is_kernel_profile_json(path, nullptr)) return "servesim-kernel-profile";
    } catch (const InputError&) {
      return "";
    }
  }
  return "";
}

ProfileData import_profile(const std::string& path, const ImportOptions& options) {
  ProfileData out;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(path, ec)) {
      if (e.is_regular_file()) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& f : files) {
      const std::string fmt = detect_profile_format(f);
      if (!fmt.empty()) import_file(f, fmt, options, out);
    }
    if (out.sources.empty()) {
      throw InputError(
          path +
          ": no profile tables found (expected gemm_perf.csv, *_attention_perf.csv, "
          "custom_allreduce_perf.csv, nccl_perf.csv, mlp.csv, attention.csv, all_reduce.csv, "
          "send_recv.csv or servesim-kernel-profile JSON files)");
    }
    return out;
  }
  if (!fs::exists(path, ec)) throw InputError(path + ": profile file not found");
  const std::string fmt = detect_profile_format(path);
  if (fmt.empty()) {
    if (fs::path(path).extension() == ".json") {
      is_kernel_profile_json(path, nullptr);  // rethrows a JSON syntax error with its position
      throw InputError(path + ": JSON file is not a servesim-kernel-profile (\"format\" key)");
    }
    throw InputError(path +
                     ": unrecognised profile file (expected an aiconfigurator, Vidur or "
                     "servesim-kernel-profile table)");
  }
  import_file(path, fmt, options, out);
  return out;
}

std::int64_t ProfileData::total_points() const {
  std::int64_t n = 0;
  for (const auto& [k, v] : gemm) n += static_cast<std::int64_t>(v.size());
  for (const auto& [k, v] : prefill) n += static_cast<std::int64_t>(v.size());
  for (const auto& [k, v] : decode) n += static_cast<std::int64_t>(v.size());
  for (const auto& [k, v] : elementwise) n += static_cast<std::int64_t>(v.size());
  for (const auto& [k, v] : comm) n += static_cast<std::int64_t>(v.size());
  return n;
}

void ProfileData::merge(const ProfileData& o) {
  auto add = [](auto& dst, const auto& src) {
    for (const auto& [k, v] : src) dst[k].insert(dst[k].end(), v.begin(), v.end());
  };
  add(gemm, o.gemm);
  add(prefill, o.prefill);
  add(decode, o.decode);
  add(elementwise, o.elementwise);
  add(comm, o.comm);
  sources.insert(sources.end(), o.sources.begin(), o.sources.end());
}

std::shared_ptr<const ProfileTables> ProfileTables::compile(const ProfileData& data) {
  auto t = std::make_shared<ProfileTables>();
  for (const auto& [k, v] : data.gemm) t->gemm.emplace(k, LogGrid(3, v));
  // Attention curves are smooth and convex in (log length, log time): monotone cubic along the
  // last axis. GEMM and elementwise curves carry tile-quantisation steps: linear.
  for (const auto& [k, v] : data.prefill) t->prefill.emplace(k, LogGrid(5, v, true));
  for (const auto& [k, v] : data.decode) t->decode.emplace(k, LogGrid(4, v, true));
  for (const auto& [k, v] : data.elementwise) t->elementwise.emplace(k, LogGrid(2, v));
  for (const auto& [k, v] : data.comm) t->comm.emplace(k, LogGrid(2, v));
  t->sources = data.sources;
  return t;
}

std::shared_ptr<const ProfileTables> load_profile_tables(const std::vector<std::string>& paths,
                                                         const ImportOptions& options) {
  // Key: the canonical paths with their sizes and modification times, and the options.
  std::string key = options.attention_kernel;
  for (const std::string& p : paths) {
    std::error_code ec;
    key.push_back('\n');
    key.append(fs::weakly_canonical(p, ec).string());
    if (fs::is_regular_file(p, ec)) {
      key.push_back(':');
      key.append(std::to_string(fs::file_size(p, ec)));
      key.push_back(':');
      key.append(std::to_string(fs::last_write_time(p, ec).time_since_epoch().count()));
    }
  }
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<const ProfileTables>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(key); it != cache.end()) {
      if (auto live = it->second.lock()) return live;
    }
  }
  ProfileData data;
  for (const std::string& p : paths) data.merge(import_profile(p, options));
  auto tables = ProfileTables::compile(data);
  std::lock_guard<std::mutex> lock(mu);
  cache[key] = tables;
  return tables;
}

bool device_matches(const std::string& table_device, const std::string& hardware_name) {
  if (table_device.empty()) return true;
  auto squash = [](const std::string& s) {
    std::string o;
    for (char c : s) {
      if (std::isalnum(static_cast<unsigned char>(c)))
        o += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return o;
  };
  // The catalog name's family: "h100-sxm" → "h100", "a100-80g" → "a100", "ascend-910b" →
  // "ascend910b".
  std::string family = hardware_name.substr(0, hardware_name.find('-'));
  if (family == "ascend")
    return squash(table_device).find(squash(hardware_name)) != std::string::npos;
  family = squash(family);
  // A word of the device name starting with the family and not going on with a digit: "a10"
  // matches "NVIDIA A10" but not "NVIDIA A100-SXM4-80GB".
  std::string word;
  for (std::size_t i = 0; i <= table_device.size(); ++i) {
    const char c = i < table_device.size() ? table_device[i] : ' ';
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      continue;
    }
    if (word.compare(0, family.size(), family) == 0 &&
        (word.size() == family.size() ||
         !std::isdigit(static_cast<unsigned char>(word[family.size()]))))
      return true;
    word.clear();
  }
  return false;
}

}  // namespace servesim
