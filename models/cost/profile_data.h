// models/cost/profile_data.h — measured kernel timings in one normalised form, and the importers
// that read them from the real tables (never copied into the repository; read by path):
//
//   aiconfigurator (ai-dynamo/aiconfigurator systems/data/<gpu>/…, CSV, latency in ms):
//     gemm_perf.csv                  gemm_dtype, m, n, k                       → gemm[dtype](k, n,
//     m) context_attention_perf.csv     batch_size, isl, num_heads, num_key_value_heads, head_dim,
//                                    kv_cache_dtype, step (prior), window_size  → prefill
//     generation_attention_perf.csv  batch_size, isl + step (= context), …     → decode
//     custom_allreduce_perf.csv      num_gpus, message_size (elements), backend → comm all_reduce
//     nccl_perf.csv                  op_name, nccl_dtype, num_gpus, message_size (elements)
//                                    → comm all_reduce / all_gather
//   Vidur (microsoft/vidur data/profiling, CSV, time_stats.<op>.median in ms):
//     mlp.csv        per model and TP degree vs num_tokens: attn_pre_proj, attn_post_proj,
//                    mlp_up_proj, mlp_down_proj → gemm; input/post_attention_layernorm, add,
//                    attn_rope, mlp_act → elementwise (emb is not used)
//     attention.csv  batch_size, prefill_chunk_size, kv_cache_size, is_prefill → prefill / decode
//     all_reduce.csv, send_recv.csv  size (bytes), num_workers; intra-node rows only
//   servesim kernel profile (models/kernels, JSON "format": "servesim-kernel-profile",
//     "version": 1): shard {hidden, heads, kv_heads, head_dim, ffn, gated}; ops[] {op, dtype,
//     shape, median_ms}: gemm_* {m, n, k}, rms_norm / add_rms_norm {tokens, hidden},
//     rope_cache {tokens}, act {tokens, width}, attn_prefill {tokens, batch, prior},
//     attn_decode {batch, context}, allreduce {bytes, gpus}.
//
// Normalised tables (every time in ns, coordinates as below; see log_grid.h):
//   gemm[dtype]                 (k, n, m)
//   prefill[head_dim, kv bytes] (q_heads / kv_heads, kv_heads, batch, prior tokens, new tokens
//                               per sequence)
//   decode[head_dim, kv bytes]  (q_heads / kv_heads, kv_heads, batch, context per sequence)
// (Attention is keyed by the GQA group size first: kernels are organised by it, and multi-head
// models of any size then lie on one curve over kv_heads.)
//   elementwise[kind]           (width, tokens); kinds rms_norm, add_rms_norm, add, rope,
//                               act_gated, act
//   comm[collective, impl]      (gpus, bytes); collectives all_reduce, all_gather, send_recv
// Head counts and widths are per device (a TP shard).
//
// Errors: an unreadable file, a missing column, a field that is not a number, a non-positive
// or non-finite time, or a malformed JSON record is an InputError "FILE:LINE: reason"
// (JSON: "FILE: ops[i]: reason").
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/cost/log_grid.h"

namespace servesim {

struct AttnKey {
  int head_dim = 0;
  int kv_dtype_bytes = 2;
  auto operator<=>(const AttnKey&) const = default;
};

struct CommKey {
  std::string collective;  // all_reduce | all_gather | send_recv
  std::string impl;        // vllm_graph, vllm_eager, nccl, vidur, servesim_nccl, …
  auto operator<=>(const CommKey&) const = default;
};

// One file read into the tables.
struct ProfileSource {
  std::string path;
  std::string format;  // aiconfigurator-gemm, vidur-mlp, servesim-kernel-profile, …
  std::string device;  // as the file names it ("" when it does not)
  std::int64_t points = 0;
  std::int64_t skipped_rows = 0;  // rows outside what the model uses (other dtypes, windows, …)
};

// Options of the importers.
struct ImportOptions {
  // aiconfigurator attention: the kernel_source to keep when a file holds several; "auto"
  // keeps vllm_flash_attn_fa3 when present, else the most frequent one.
  std::string attention_kernel = "auto";
};

struct ProfileData {
  using Points = std::vector<LogGrid::Point>;
  std::map<std::string, Points> gemm;
  std::map<AttnKey, Points> prefill;
  std::map<AttnKey, Points> decode;
  std::map<std::string, Points> elementwise;
  std::map<CommKey, Points> comm;
  std::vector<ProfileSource> sources;

  std::int64_t total_points() const;
  void merge(const ProfileData& other);
};

// Reads one file or every recognised file under a folder (sorted, recursively). A folder
// without any recognised file, or a file of an unknown kind, is an InputError.
ProfileData import_profile(const std::string& path, const ImportOptions& options = {});
// The format import_profile would use for `path` ("" when not recognised).
std::string detect_profile_format(const std::string& path);

// The compiled, immutable tables a `measured` model reads.
struct ProfileTables {
  std::map<std::string, LogGrid> gemm;
  std::map<AttnKey, LogGrid> prefill;
  std::map<AttnKey, LogGrid> decode;
  std::map<std::string, LogGrid> elementwise;
  std::map<CommKey, LogGrid> comm;
  std::vector<ProfileSource> sources;

  static std::shared_ptr<const ProfileTables> compile(const ProfileData& data);
};

// Loads and compiles `paths` (already resolved), sharing the result between callers that ask
// for the same files with the same options while any of them holds it (instances of one
// cluster build one model each). Thread-safe.
std::shared_ptr<const ProfileTables> load_profile_tables(const std::vector<std::string>& paths,
                                                         const ImportOptions& options);

// Device names: true when the table's device string names the catalog hardware (e.g.
// "NVIDIA H100 80GB HBM3" and h100-sxm), or when the table names no device.
bool device_matches(const std::string& table_device, const std::string& hardware_name);

}  // namespace servesim
