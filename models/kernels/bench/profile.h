// models/kernels/bench/profile.h — the sweeps of the bench driver: the kernel profile a
// cost model reads (format in models/kernels/README.md), the attention grid compared with
// PyTorch, and the machine's two ceilings.
#ifndef SERVESIM_MODELS_KERNELS_BENCH_PROFILE_H_
#define SERVESIM_MODELS_KERNELS_BENCH_PROFILE_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "layer.h"
#include "op_bench.h"

namespace servesim::kernels {

struct SweepGrid {
  std::vector<int> gemm_tokens;         // m of the per-token GEMMs (qkv, o, gate_up, down)
  std::vector<int> lm_head_tokens;      // m of the LM head (one row per sequence)
  std::vector<int> elementwise_tokens;  // norms, rope+cache, activation
  std::vector<int> prefill_tokens;      // new tokens of one sequence
  std::vector<int> prefill_prior;       // cached tokens before them
  int max_prefill_context = 32768;      // points with tokens + prior above this are skipped
  std::vector<std::pair<int, int>> prefill_batched;  // (sequences, tokens each), prior 0
  std::vector<int> decode_batch;
  std::vector<int> decode_context;
  std::vector<int64_t> allreduce_bytes;
  std::vector<LayerShape> layers;
};

// The full grid (GPU) and a small one (CPU backend, tests, smoke runs).
SweepGrid DefaultGrid();
SweepGrid QuickGrid();

// Op groups that can be selected: gemm, norm, rope, act, attn_prefill, attn_decode,
// layers, allreduce.
const std::vector<std::string>& OpGroups();

struct ProfileOptions {
  ModelShape model;  // full model; the profile measures ShardForTp(model, tp)
  int tp = 1;
  SweepGrid grid = DefaultGrid();
  TimingOptions timing;
  int max_rotations = 64;
  int64_t max_point_bytes = int64_t{24} << 30;
  uint64_t seed = 1;
  bool fp8 = true;                  // also time fp8 GEMMs where the backend supports them
  std::vector<std::string> groups;  // empty: all groups
  int allreduce_gpus = 0;           // > 1: time NCCL all-reduce over that many GPUs
                                    // (the CLI defaults it to min(tp, GPUs) when tp > 1)
};

// Runs the sweep on `backend` and returns the profile document.
Json RunProfile(Backend& backend, const ProfileOptions& opt, std::ostream* log);

// The attention grid measured beside PyTorch's scaled_dot_product_attention: prefill at
// sequence 1k..8k (16k tokens per call, for each kernel variant), decode at batch
// {1,4,16,64,256} x context {256,1k,4k,8k}. `quick` shrinks it for tests.
Json RunAttnBench(Backend& backend, const ModelShape& shard, const ProfileOptions& opt, bool quick,
                  std::ostream* log);

// Device-to-device copy bandwidth and a large bf16 GEMM rate.
Json RunCeilings(Backend& backend, const ProfileOptions& opt, bool quick, std::ostream* log);

// The "device" object of a profile.
Json DeviceJson(const DeviceInfo& d);
// The "model" object: the shape fields of m.
Json ModelJson(const ModelShape& m);

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_BENCH_PROFILE_H_
