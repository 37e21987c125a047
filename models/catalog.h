// models/catalog.h — hardware and LLM catalogs: plain specs loaded (strictly) from the YAML
// files under models/hardware/ and models/llm/, which are compiled into the binary. Each number
// in those files carries its public source in a comment.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace servesim {

class ConfigNode;

// Host (CPU) time a serving engine spends in one iteration outside its kernels — scheduling,
// input preparation, launches the GPU waits for, reading the sampled tokens back, output
// processing — by iteration kind: base + per_seq × sequences + per_token × tokens (µs). Decode
// iterations replay a CUDA graph; prefill and mixed ones run eagerly, so their lines differ.
// Fitted from the reference engine's runs (tools/engine/fit_overhead.py; the fit and its
// held-out error are in models/calibration/*.host_overhead.json). Disabled: the constant
// step_overhead_us applies instead.
struct HostOverhead {
  struct Line {
    double base_us = 0, per_seq_us = 0, per_token_us = 0;
  };
  bool enabled = false;
  Line decode, prefill, mixed;
  // µs for an iteration of `prefills` prefill segments and `decodes` decodes with `tokens`
  // tokens in all (decodes count one each); never negative.
  double us(std::int64_t prefills, std::int64_t decodes, std::int64_t tokens) const {
    const Line& l = prefills == 0 ? decode : (decodes == 0 ? prefill : mixed);
    const double v = l.base_us + l.per_seq_us * static_cast<double>(prefills + decodes) +
                     l.per_token_us * static_cast<double>(tokens);
    return v > 0 ? v : 0.0;
  }
};

// Reads `key` of `parent` — {decode: [base, per_seq, per_token], prefill: [...], mixed: [...]}
// in µs, every kind required — or returns `fallback` when the key is absent.
HostOverhead read_host_overhead(ConfigNode& parent, const char* key, const HostOverhead& fallback);

struct HardwareSpec {
  std::string name;
  std::string kind;  // gpu | npu
  std::string vendor;
  std::string description;
  double memory_gib = 0;
  double memory_bandwidth_gbps = 0;  // GB/s (1e9 bytes/s)
  double bf16_tflops = 0;            // dense
  double fp8_tflops = 0;             // dense; 0 when the device has none
  double int8_tops = 0;              // dense; 0 when unknown
  double intra_node_link_gbps = 0;   // per device, per direction
  std::string intra_node_link;
  int devices_per_node = 8;
  double nic_gbps = 0;
  double host_link_gbps = 0;
  double kernel_launch_us = 0;
  double step_overhead_us = 0;
  HostOverhead host_overhead;  // when enabled, replaces step_overhead_us
  double tdp_w = 0;
  double idle_w = 0;                 // board power while idle with a CUDA context loaded
  double usd_per_hour = 0;           // rental price per device-hour (0 = unknown)
  double intra_node_latency_us = 0;  // one transfer's start-up latency over the fabric
  double nic_latency_us = 0;         // one transfer's start-up latency over the NIC
  std::string source_file;

  double memory_bytes() const { return memory_gib * 1073741824.0; }
};

struct ModelSpec {
  std::string name;
  std::string description;
  std::string source;
  int num_layers = 0;
  int hidden_size = 0;
  int num_attention_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int ffn_size = 0;  // per expert for MoE
  bool gated_mlp = true;
  int vocab_size = 0;
  int num_experts = 1;
  int experts_top_k = 1;
  std::int64_t max_context_tokens = 0;
  bool tied_embeddings = false;
  std::string norm;  // rmsnorm | layernorm
  bool attention_bias = false;
  std::string dtype;  // bf16 | fp16 | fp8
  int dtype_bytes = 2;
  std::string source_file;

  bool is_moe() const { return num_experts > 1; }
  // Why `tp`-way tensor parallelism cannot split this model (empty when it can): TP must divide
  // the attention heads, and the KV heads divide TP or TP divides them (vLLM's rule).
  std::string tensor_parallel_problem(int tp) const;
  // Parameters of one decoder layer (all experts) and of the whole model.
  double layer_params() const;
  double total_params() const;
};

class Catalog {
 public:
  // The catalog compiled into the binary. Parsed once; a malformed entry throws ConfigError.
  static const Catalog& builtin();
  // Parses the given files (path, text); used by builtin() and by tests.
  static Catalog from_files(const std::vector<std::pair<std::string, std::string>>& files);

  // Lookups throw ConfigError("unknown hardware 'x'; valid values are: ...").
  const HardwareSpec& hardware(const std::string& name) const;
  const ModelSpec& model(const std::string& name) const;
  const std::map<std::string, HardwareSpec>& all_hardware() const { return hardware_; }
  const std::map<std::string, ModelSpec>& all_models() const { return models_; }

 private:
  std::map<std::string, HardwareSpec> hardware_;
  std::map<std::string, ModelSpec> models_;
};

}  // namespace servesim
