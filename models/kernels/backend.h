// models/kernels/backend.h — the backend interface of the kernel module: memory, the
// operations of one decoder layer, and timing. The bench driver, the checks and the
// layer composition are written against this interface only; `Cpu` (reference, fp32
// math) and `Cuda` (cuBLASLt + the module's own kernels) implement it.
//
// Layout conventions shared by every backend (row-major everywhere):
//   activations  X[tokens, k]            weights  W[n, k]  (PyTorch Linear layout)
//   GEMM         Y[tokens, n] = alpha * X W^T
//   q/k/v rows   one row per token; head h of a row starts at h * head_dim
//   KV cache     K[num_blocks, kBlockTokens, kv_heads, head_dim], V likewise; a token at
//                position p of sequence s lives in block block_table[s][p / kBlockTokens],
//                slot p % kBlockTokens
//   attention    grouped-query: query head h reads kv head h / (heads / kv_heads)
//
// Threading: a backend object is used from one thread. CUDA ops are asynchronous on the
// backend's stream; CPU ops complete before returning. Synchronize() orders host reads.
#ifndef SERVESIM_MODELS_KERNELS_BACKEND_H_
#define SERVESIM_MODELS_KERNELS_BACKEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dtype.h"

namespace servesim::kernels {

inline constexpr int kBlockTokens = 16;  // tokens per KV-cache block

// A typed, non-owning view of backend memory (device memory for CUDA, host for CPU).
struct Tensor {
  void* data = nullptr;
  DType dtype = DType::kF32;
  int64_t elems = 0;
  size_t bytes() const { return static_cast<size_t>(elems) * DTypeBytes(dtype); }
  bool empty() const { return data == nullptr; }
};

// Elements [offset, offset + elems) of t as a view. REQUIRES: the range lies inside t.
inline Tensor Slice(const Tensor& t, int64_t offset, int64_t elems) {
  return Tensor{static_cast<char*>(t.data) + offset * static_cast<int64_t>(DTypeBytes(t.dtype)),
                t.dtype, elems};
}

// What a profile records about the machine. Zero where a backend cannot tell.
struct DeviceInfo {
  std::string name;
  int sm_count = 0;       // CUDA: multiprocessors; CPU: hardware threads
  int sm_clock_mhz = 0;   // peak SM clock (CUDA attribute), CPU: 0
  int mem_clock_mhz = 0;  // peak memory clock
  int64_t l2_bytes = 0;
  int64_t memory_bytes = 0;    // device memory (CUDA) or physical RAM (CPU)
  std::string driver_version;  // "13.0" style; "" on CPU
  std::string cuda_version;    // runtime version the module was built against
  int compute_capability = 0;  // 90 for sm_90; 0 on CPU
};

// Y[m, n] = alpha * A[m, k] * B[n, k]^T. A and B share a dtype (bf16, fp8 e4m3 or f32);
// C is bf16 for bf16/fp8 operands and f32 for f32 operands. fp8 per-tensor scales are
// folded into alpha. REQUIRES: k % 16 == 0 and n % 8 == 0 for fp8/bf16.
struct GemmArgs {
  Tensor a, b, c;
  int m = 0, n = 0, k = 0;
  float alpha = 1.0f;
};

// out[t, :] = x'[t, :] * rsqrt(mean(x'[t, :]^2) + eps) * weight, where x' = x when
// residual is empty; otherwise x' = round(x + residual) and residual <- x' (vLLM's fused
// add + norm). x, residual, out share a dtype (bf16 or f32); weight has that dtype too.
struct RmsNormArgs {
  Tensor x, residual, weight, out;
  int tokens = 0, hidden = 0;
  float eps = 1e-5f;
};

// Activation: gated: out[t, f] = silu(in[t, f]) * in[t, F + f] with in[t, 2F];
// not gated: out[t, f] = silu(in[t, f]) with in[t, F]. bf16 or f32.
struct ActArgs {
  Tensor in, out;
  int tokens = 0, width = 0;  // width = F
  bool gated = true;
};

// Rotary embedding (neox/HF-llama "rotate half" pairing of i and i + head_dim/2) applied
// in place to the q and k heads of a fused qkv buffer, then k and v written into the
// paged cache. qkv row t: [heads*head_dim q | kv_heads*head_dim k | kv_heads*head_dim v],
// row stride row_stride elements. angle(t, i) = float(position[t]) * inv_freq[i], the
// product rounded to f32. slot_mapping[t] = block * kBlockTokens + slot, or -1 for no
// write. qkv and caches are bf16; positions, slot_mapping i32; inv_freq f32 [head_dim/2].
struct RopeCacheArgs {
  Tensor qkv, positions, slot_mapping, inv_freq, k_cache, v_cache;
  int tokens = 0, heads = 0, kv_heads = 0, head_dim = 0;
  int64_t row_stride = 0;
};

// Causal prefill attention over a paged cache, several sequences of different lengths in
// one call (chunked prefill: sequence s has prior_lens[s] tokens already in the cache and
// q_len(s) = cu_seqlens_q[s+1] - cu_seqlens_q[s] new tokens whose K/V are also already in
// the cache, at positions prior .. prior + q_len - 1). New token i of s attends to cache
// positions 0 .. prior_lens[s] + i. q row of new token j (global index) starts at
// q + j * q_row_stride; out is [total_q, heads, head_dim]. bf16; head_dim 64 or 128.
// variant (CUDA tile shapes; the result is the same): 0 chooses; 1 = 64 query rows per
// block (4 warps x 16); 2 = 128 rows (8 warps x 16); 3 = 128 rows (4 warps x 32, 64-key
// tiles); 4 = as 3 with 32-key tiles. head_dim 64 has 1 and 3 only (2, 4 run as 3).
struct PrefillArgs {
  Tensor q, k_cache, v_cache, block_table, cu_seqlens_q, prior_lens, out;
  int64_t q_row_stride = 0;
  int num_seqs = 0, total_q = 0, max_q_len = 0;  // max_q_len: host-known bound for the grid
  int max_blocks_per_seq = 0;                    // row length of block_table
  int heads = 0, kv_heads = 0, head_dim = 0;
  float scale = 0.0f;
  int variant = 0;
};

// Decode attention: one query token per sequence over the paged cache, context_lens[b]
// tokens (the current token's K/V already in the cache). q row b starts at
// q + b * q_row_stride; out is [batch, heads, head_dim]. num_splits = 0 lets the backend
// split the context (split-K with a reduction pass); > 0 forces that many splits.
// max_context: host-known bound on context_lens. REQUIRES context_lens[b] >= 1.
struct DecodeArgs {
  Tensor q, k_cache, v_cache, block_table, context_lens, out;
  int64_t q_row_stride = 0;
  int batch = 0, max_context = 0, max_blocks_per_seq = 0;
  int heads = 0, kv_heads = 0, head_dim = 0;
  float scale = 0.0f;
  int num_splits = 0;
};

// How a timed region was measured; returned with the samples and written to profiles.
struct TimingOptions {
  int warmup = 3;     // untimed repetitions (graph replays on CUDA) before sampling
  int iters = 20;     // timed samples
  int rotations = 1;  // the body is called with r = 0 .. rotations-1 per sample
};
struct TimingResult {
  std::vector<double> per_call_ms;  // one sample per iteration: sample time / rotations
  bool cuda_graphs = false;
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string_view Name() const = 0;  // "cpu" | "cuda"
  virtual DeviceInfo Device() const = 0;
  virtual bool SupportsFp8() const = 0;

  // Memory. Alloc'd tensors are uninitialised; Free releases and clears the view.
  virtual Tensor Alloc(DType dtype, int64_t elems) = 0;
  virtual void Free(Tensor& t) = 0;
  virtual void CopyFromHost(const Tensor& dst, const void* src) = 0;  // t.bytes() bytes
  virtual void CopyToHost(void* dst, const Tensor& src) = 0;
  // Backend-to-backend copy of min(dst, src) bytes (asynchronous on CUDA).
  virtual void CopyDevice(const Tensor& dst, const Tensor& src) = 0;
  // Fills with `value` rounded to the dtype (NaN poisons). Float types only.
  virtual void Fill(const Tensor& t, float value) = 0;
  // Fills element i with RoundTo(dtype, HashUniform(seed, i, lo, hi)). Float types only.
  virtual void FillRandom(const Tensor& t, uint64_t seed, float lo, float hi) = 0;
  virtual void Synchronize() = 0;

  // Operations. Each returns the name of the kernel it ran (for profiles).
  virtual std::string Gemm(const GemmArgs& a) = 0;
  virtual std::string RmsNorm(const RmsNormArgs& a) = 0;
  virtual std::string Act(const ActArgs& a) = 0;
  virtual std::string RopeCache(const RopeCacheArgs& a) = 0;
  virtual std::string AttnPrefill(const PrefillArgs& a) = 0;
  virtual std::string AttnDecode(const DecodeArgs& a) = 0;

  // Times body(r) for r = 0 .. rotations-1 per sample. CUDA: eager warm-up, then the
  // rotations are captured once into a CUDA graph and each sample is one replay between
  // two events. CPU: wall clock around each sample.
  virtual TimingResult Time(const std::function<void(int)>& body, const TimingOptions& o) = 0;
};

// "cpu" always; "cuda" when the module was compiled with CUDA and a device is present.
// Throws std::runtime_error naming the valid values otherwise.
std::unique_ptr<Backend> MakeBackend(std::string_view name, int device = 0);
bool CudaCompiled();
int CudaDeviceCount();  // 0 when not compiled, no driver or no device

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_BACKEND_H_
