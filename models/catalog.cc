// models/catalog.cc — loads catalog entries through the strict config reader, so a typo in a
// catalog file is an error naming the file, line and key, like a typo in a scenario.
#include "models/catalog.h"

#include <cmath>
#include <utility>

#include "models/catalog_data.h"
#include "sim/config/config.h"

namespace servesim {

HostOverhead read_host_overhead(ConfigNode& parent, const char* key, const HostOverhead& fallback) {
  if (!parent.has(key)) return fallback;
  if (!parent.is_mapping(key))
    parent.fail(key,
                "must be a mapping {decode: [base, per_seq, per_token], prefill: [...], "
                "mixed: [...]} in us");
  ConfigNode c = parent.child(key);
  HostOverhead h;
  h.enabled = true;
  for (auto [kind, line] : {std::pair{"decode", &h.decode}, std::pair{"prefill", &h.prefill},
                            std::pair{"mixed", &h.mixed}}) {
    const auto v = c.required<std::vector<double>>(
        kind, "host overhead of this iteration kind: [base_us, per_seq_us, per_token_us]");
    if (v.size() != 3) c.fail(kind, "needs 3 numbers [base_us, per_seq_us, per_token_us]");
    for (const double x : v) {
      if (!std::isfinite(x)) c.fail(kind, "numbers must be finite");
    }
    *line = HostOverhead::Line{v[0], v[1], v[2]};
  }
  return h;
}

namespace {

HardwareSpec read_hardware(ConfigNode c, const std::string& file) {
  HardwareSpec h;
  h.source_file = file;
  h.name = c.required<std::string>("name", "catalog name");
  h.kind = c.choice("kind", "gpu", {"gpu", "npu"}, "device kind");
  h.vendor = c.required<std::string>("vendor", "vendor");
  h.description = c.get<std::string>("description", "", "one-line description");
  h.memory_gib = c.required<double>("memory_gib", "device memory, GiB", Positive());
  h.memory_bandwidth_gbps =
      c.required<double>("memory_bandwidth_gbps", "peak memory bandwidth, GB/s", Positive());
  h.bf16_tflops =
      c.required<double>("bf16_tflops", "dense BF16 (or FP16) peak, TFLOP/s", Positive());
  h.fp8_tflops =
      c.get<double>("fp8_tflops", 0.0, "dense FP8 peak, TFLOP/s (0 = none)", NonNegative());
  h.int8_tops =
      c.get<double>("int8_tops", 0.0, "dense INT8 peak, TOP/s (0 = unknown)", NonNegative());
  h.intra_node_link_gbps = c.required<double>(
      "intra_node_link_gbps", "scale-up link per device per direction, GB/s", Positive());
  h.intra_node_link = c.required<std::string>("intra_node_link", "scale-up link name");
  h.devices_per_node = c.get<int>("devices_per_node", 8, "devices in one node", AtLeast(1));
  h.nic_gbps = c.required<double>("nic_gbps", "scale-out NIC per device, GB/s", Positive());
  h.host_link_gbps =
      c.required<double>("host_link_gbps", "host link (PCIe) per direction, GB/s", Positive());
  h.kernel_launch_us =
      c.required<double>("kernel_launch_us", "kernel launch latency, us", NonNegative());
  h.step_overhead_us =
      c.required<double>("step_overhead_us", "per-iteration framework overhead, us", NonNegative());
  h.host_overhead = read_host_overhead(c, "host_overhead_us", HostOverhead{});
  h.tdp_w = c.required<double>("tdp_w", "board power, W", Positive());
  h.idle_w = c.get<double>("idle_w", 0.15 * h.tdp_w,
                           "idle board power with a context loaded, W (default 15% of TDP)",
                           NonNegative());
  h.usd_per_hour = c.get<double>("usd_per_hour", 0.0,
                                 "rental price per device-hour, USD (0 = unknown)", NonNegative());
  h.intra_node_latency_us =
      c.get<double>("intra_node_latency_us", 2.0,
                    "start-up latency of a transfer over the scale-up fabric, us", NonNegative());
  h.nic_latency_us = c.get<double>(
      "nic_latency_us", 5.0, "start-up latency of a transfer over the NIC, us", NonNegative());
  return h;
}

ModelSpec read_model(ConfigNode c, const std::string& file) {
  ModelSpec m;
  m.source_file = file;
  m.name = c.required<std::string>("name", "catalog name");
  m.description = c.get<std::string>("description", "", "one-line description");
  m.source = c.required<std::string>("source", "public config the numbers come from");
  m.num_layers = c.required<int>("num_layers", "decoder layers", AtLeast(1));
  m.hidden_size = c.required<int>("hidden_size", "model width", AtLeast(1));
  m.num_attention_heads = c.required<int>("num_attention_heads", "query heads", AtLeast(1));
  m.num_kv_heads = c.required<int>("num_kv_heads", "key/value heads", AtLeast(1));
  m.head_dim = c.required<int>("head_dim", "dimension per head", AtLeast(1));
  m.ffn_size = c.required<int>("ffn_size", "MLP intermediate size (per expert)", AtLeast(1));
  m.gated_mlp = c.required<bool>("gated_mlp", "gate+up+down (SwiGLU) vs up+down");
  m.vocab_size = c.required<int>("vocab_size", "vocabulary size", AtLeast(1));
  m.num_experts = c.get<int>("num_experts", 1, "experts per MoE layer (1 = dense)", AtLeast(1));
  m.experts_top_k = c.get<int>("experts_top_k", 1, "experts per token", AtLeast(1));
  m.max_context_tokens =
      c.required<std::int64_t>("max_context_tokens", "maximum context length", AtLeast(1));
  m.tied_embeddings = c.get<bool>("tied_embeddings", false, "LM head shares the embedding matrix");
  m.norm = c.choice("norm", "rmsnorm", {"rmsnorm", "layernorm"}, "normalisation layer");
  m.attention_bias = c.get<bool>("attention_bias", false, "QKV projections have biases");
  m.dtype = c.choice("dtype", "bf16", {"bf16", "fp16", "fp8"}, "weight dtype when served");
  m.dtype_bytes = m.dtype == "fp8" ? 1 : 2;
  if (m.num_attention_heads % m.num_kv_heads != 0) {
    c.fail("num_kv_heads",
           "must divide num_attention_heads (" + std::to_string(m.num_attention_heads) + ")");
  }
  if (m.experts_top_k > m.num_experts) c.fail("experts_top_k", "must be <= num_experts");
  return m;
}

}  // namespace

double ModelSpec::layer_params() const {
  const double h = hidden_size, hd = head_dim;
  const double attn = h * (num_attention_heads + 2.0 * num_kv_heads) * hd +
                      num_attention_heads * hd * h +
                      (attention_bias ? (num_attention_heads + 2.0 * num_kv_heads) * hd : 0.0);
  const double mlp_one = (gated_mlp ? 3.0 : 2.0) * h * ffn_size;
  const double router = is_moe() ? h * num_experts : 0.0;
  const double norms = 2.0 * h * (norm == "layernorm" ? 2.0 : 1.0);
  return attn + mlp_one * num_experts + router + norms;
}

std::string ModelSpec::tensor_parallel_problem(int tp) const {
  if (tp < 1) return "must be at least 1";
  if (num_attention_heads % tp != 0) {
    return "does not divide " + name + "'s " + std::to_string(num_attention_heads) +
           " attention heads";
  }
  if (num_kv_heads % tp != 0 && tp % num_kv_heads != 0) {
    return "and " + name + "'s " + std::to_string(num_kv_heads) +
           " KV heads must divide one another";
  }
  return "";
}

double ModelSpec::total_params() const {
  const double emb = static_cast<double>(vocab_size) * hidden_size;
  return emb * (tied_embeddings ? 1.0 : 2.0) + num_layers * layer_params() + hidden_size;
}

Catalog Catalog::from_files(const std::vector<std::pair<std::string, std::string>>& files) {
  Catalog cat;
  for (const auto& [path, text] : files) {
    auto tree = ConfigTree::parse(text, path);
    const bool is_hw = path.find("hardware/") != std::string::npos;
    if (is_hw) {
      HardwareSpec h = read_hardware(tree->root(), path);
      tree->check_all_consumed();
      const std::string name = h.name;
      if (!cat.hardware_.emplace(name, std::move(h)).second)
        throw ConfigError(path + ": duplicate hardware name '" + name + "'");
    } else {
      ModelSpec m = read_model(tree->root(), path);
      tree->check_all_consumed();
      const std::string name = m.name;
      if (!cat.models_.emplace(name, std::move(m)).second)
        throw ConfigError(path + ": duplicate model name '" + name + "'");
    }
  }
  return cat;
}

const Catalog& Catalog::builtin() {
  static const Catalog cat = [] {
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& f : embedded_catalog_files()) files.emplace_back(f.path, f.text);
    return from_files(files);
  }();
  return cat;
}

namespace {
template <class Map>
std::string valid_names(const Map& m) {
  std::string s;
  for (const auto& [n, v] : m) s += (s.empty() ? "" : ", ") + n;
  return s;
}
}  // namespace

const HardwareSpec& Catalog::hardware(const std::string& name) const {
  auto it = hardware_.find(name);
  if (it == hardware_.end())
    throw ConfigError("unknown hardware '" + name +
                      "'; valid values are: " + valid_names(hardware_));
  return it->second;
}

const ModelSpec& Catalog::model(const std::string& name) const {
  auto it = models_.find(name);
  if (it == models_.end())
    throw ConfigError("unknown model '" + name + "'; valid values are: " + valid_names(models_));
  return it->second;
}

}  // namespace servesim
