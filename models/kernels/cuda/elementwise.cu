// models/kernels/cuda/elementwise.cu — the memory-bound kernels: fills (constant and
// deterministic random), fused residual-add + RMSNorm, SiLU(-mul) activation, and RoPE
// with the paged KV-cache write. All use 16-byte vector accesses along rows.
#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <stdexcept>
#include <string>

#include "device_utils.cuh"
#include "launch.h"

namespace servesim::kernels::cuda {
namespace {

__device__ __forceinline__ float ToF(float v) { return v; }
__device__ __forceinline__ float ToF(bf16 v) { return __bfloat162float(v); }
template <typename T>
__device__ __forceinline__ T FromF(float v);
template <>
__device__ __forceinline__ float FromF<float>(float v) {
  return v;
}
template <>
__device__ __forceinline__ bf16 FromF<bf16>(float v) {
  return __float2bfloat16_rn(v);
}

template <typename T>
__global__ void FillKernel(T* p, int64_t n, float value) {
  const T v = FromF<T>(value);
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    p[i] = v;
  }
}
__global__ void FillFp8Kernel(__nv_fp8_storage_t* p, int64_t n, float value) {
  const __nv_fp8_storage_t v = __nv_cvt_float_to_fp8(value, __NV_SATFINITE, __NV_E4M3);
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    p[i] = v;
  }
}
__global__ void FillI32Kernel(int32_t* p, int64_t n, int32_t value) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    p[i] = value;
  }
}

template <typename T>
__global__ void FillRandomKernel(T* p, int64_t n, uint64_t seed, float lo, float hi) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    p[i] = FromF<T>(DeviceHashUniform(seed, i, lo, hi));
  }
}
__global__ void FillRandomFp8Kernel(__nv_fp8_storage_t* p, int64_t n, uint64_t seed, float lo,
                                    float hi) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    p[i] = __nv_cvt_float_to_fp8(DeviceHashUniform(seed, i, lo, hi), __NV_SATFINITE, __NV_E4M3);
  }
}

int GridFor(int64_t n, int threads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<int>(blocks < 65536 ? (blocks > 0 ? blocks : 1) : 65536);
}

// ---- RMSNorm ---------------------------------------------------------------------------

constexpr int kNormThreads = 256;

template <typename T>
__global__ void __launch_bounds__(kNormThreads)
    RmsNormKernel(const T* x, T* residual, const T* weight, T* out, int hidden, float eps) {
  constexpr int kN = 16 / sizeof(T);
  const int64_t row = blockIdx.x;
  const int nvec = hidden / kN;
  const uint4* xr = reinterpret_cast<const uint4*>(x + row * hidden);
  uint4* rr = residual ? reinterpret_cast<uint4*>(residual + row * hidden) : nullptr;
  float sumsq = 0.0f;
  for (int v = threadIdx.x; v < nvec; v += kNormThreads) {
    uint4 raw = xr[v];
    T* e = reinterpret_cast<T*>(&raw);
    if (rr != nullptr) {
      uint4 rraw = rr[v];
      const T* re = reinterpret_cast<const T*>(&rraw);
#pragma unroll
      for (int i = 0; i < kN; ++i) e[i] = FromF<T>(ToF(e[i]) + ToF(re[i]));
      rr[v] = raw;
    }
#pragma unroll
    for (int i = 0; i < kN; ++i) {
      const float f = ToF(e[i]);
      sumsq += f * f;
    }
  }
  __shared__ float partial[kNormThreads / 32];
  sumsq = WarpSum(sumsq);
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = sumsq;
  __syncthreads();
  float total = 0.0f;
#pragma unroll
  for (int w = 0; w < kNormThreads / 32; ++w) total += partial[w];
  const float rstd = rsqrtf(total / hidden + eps);
  const uint4* src = rr != nullptr ? rr : xr;  // each thread re-reads only what it wrote
  const uint4* wr = reinterpret_cast<const uint4*>(weight);
  uint4* orow = reinterpret_cast<uint4*>(out + row * hidden);
  for (int v = threadIdx.x; v < nvec; v += kNormThreads) {
    uint4 raw = src[v];
    const uint4 wraw = wr[v];
    T* e = reinterpret_cast<T*>(&raw);
    const T* we = reinterpret_cast<const T*>(&wraw);
#pragma unroll
    for (int i = 0; i < kN; ++i) e[i] = FromF<T>(ToF(e[i]) * rstd * ToF(we[i]));
    orow[v] = raw;
  }
}

// ---- SiLU / SiLU * mul ------------------------------------------------------------------

template <typename T, bool kGated>
__global__ void ActKernel(const T* in, T* out, int tokens, int width) {
  constexpr int kN = 16 / sizeof(T);
  const int vec_per_row = width / kN;
  const int64_t total = int64_t{tokens} * vec_per_row;
  const int64_t in_row = int64_t{width} * (kGated ? 2 : 1);
  for (int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; idx < total;
       idx += int64_t{gridDim.x} * blockDim.x) {
    const int64_t t = idx / vec_per_row;
    const int v = static_cast<int>(idx % vec_per_row);
    uint4 g = reinterpret_cast<const uint4*>(in + t * in_row)[v];
    T* ge = reinterpret_cast<T*>(&g);
    if constexpr (kGated) {
      const uint4 u = reinterpret_cast<const uint4*>(in + t * in_row + width)[v];
      const T* ue = reinterpret_cast<const T*>(&u);
#pragma unroll
      for (int i = 0; i < kN; ++i) {
        const float x = ToF(ge[i]);
        ge[i] = FromF<T>(x / (1.0f + expf(-x)) * ToF(ue[i]));
      }
    } else {
#pragma unroll
      for (int i = 0; i < kN; ++i) {
        const float x = ToF(ge[i]);
        ge[i] = FromF<T>(x / (1.0f + expf(-x)));
      }
    }
    reinterpret_cast<uint4*>(out + t * int64_t{width})[v] = g;
  }
}

// ---- RoPE + KV-cache write -------------------------------------------------------------

// One block per token. blockDim is a multiple of head_dim/2, so each thread keeps one
// frequency index i for all heads it rotates (one sincosf per thread).
__global__ void RopeCacheKernel(bf16* qkv, int64_t row_stride, const int32_t* positions,
                                const int32_t* slots, const float* inv_freq, bf16* k_cache,
                                bf16* v_cache, int heads, int kv_heads, int head_dim) {
  const int t = blockIdx.x;
  bf16* row = qkv + t * row_stride;
  const int half = head_dim / 2;
  const int i = threadIdx.x % half;
  float s, c;
  sincosf(static_cast<float>(positions[t]) * inv_freq[i], &s, &c);
  for (int h = threadIdx.x / half; h < heads + kv_heads; h += blockDim.x / half) {
    bf16* x = row + h * head_dim;
    const float x1 = __bfloat162float(x[i]), x2 = __bfloat162float(x[i + half]);
    x[i] = __float2bfloat16_rn(x1 * c - x2 * s);
    x[i + half] = __float2bfloat16_rn(x2 * c + x1 * s);
  }
  const int slot = slots[t];
  if (slot < 0) return;  // uniform across the block
  __syncthreads();       // rotated k written by other threads
  const int nvec = kv_heads * head_dim / 8;
  const uint4* k = reinterpret_cast<const uint4*>(row + heads * head_dim);
  const uint4* v = k + nvec;
  uint4* kd = reinterpret_cast<uint4*>(k_cache + int64_t{slot} * kv_heads * head_dim);
  uint4* vd = reinterpret_cast<uint4*>(v_cache + int64_t{slot} * kv_heads * head_dim);
  for (int j = threadIdx.x; j < nvec; j += blockDim.x) {
    kd[j] = k[j];
    vd[j] = v[j];
  }
}

}  // namespace

void Check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
  }
}

void LaunchFill(const Tensor& t, float value, cudaStream_t stream) {
  const int grid = GridFor(t.elems, 256);
  switch (t.dtype) {
    case DType::kF32:
      FillKernel<float><<<grid, 256, 0, stream>>>(static_cast<float*>(t.data), t.elems, value);
      break;
    case DType::kBF16:
      FillKernel<bf16><<<grid, 256, 0, stream>>>(static_cast<bf16*>(t.data), t.elems, value);
      break;
    case DType::kF8E4M3:
      FillFp8Kernel<<<grid, 256, 0, stream>>>(static_cast<__nv_fp8_storage_t*>(t.data), t.elems,
                                              value);
      break;
    case DType::kI32:
      FillI32Kernel<<<grid, 256, 0, stream>>>(static_cast<int32_t*>(t.data), t.elems,
                                              static_cast<int32_t>(value));
      break;
  }
  Check(cudaGetLastError(), "fill launch");
}

void LaunchFillRandom(const Tensor& t, uint64_t seed, float lo, float hi, cudaStream_t stream) {
  const int grid = GridFor(t.elems, 256);
  switch (t.dtype) {
    case DType::kF32:
      FillRandomKernel<float>
          <<<grid, 256, 0, stream>>>(static_cast<float*>(t.data), t.elems, seed, lo, hi);
      break;
    case DType::kBF16:
      FillRandomKernel<bf16>
          <<<grid, 256, 0, stream>>>(static_cast<bf16*>(t.data), t.elems, seed, lo, hi);
      break;
    case DType::kF8E4M3:
      FillRandomFp8Kernel<<<grid, 256, 0, stream>>>(static_cast<__nv_fp8_storage_t*>(t.data),
                                                    t.elems, seed, lo, hi);
      break;
    case DType::kI32:
      throw std::invalid_argument("FillRandom: float types only");
  }
  Check(cudaGetLastError(), "fill_random launch");
}

std::string LaunchRmsNorm(const RmsNormArgs& a, cudaStream_t stream) {
  if (a.x.dtype == DType::kBF16) {
    RmsNormKernel<bf16><<<a.tokens, kNormThreads, 0, stream>>>(
        static_cast<const bf16*>(a.x.data), static_cast<bf16*>(a.residual.data),
        static_cast<const bf16*>(a.weight.data), static_cast<bf16*>(a.out.data), a.hidden, a.eps);
  } else {
    RmsNormKernel<float><<<a.tokens, kNormThreads, 0, stream>>>(
        static_cast<const float*>(a.x.data), static_cast<float*>(a.residual.data),
        static_cast<const float*>(a.weight.data), static_cast<float*>(a.out.data), a.hidden, a.eps);
  }
  Check(cudaGetLastError(), "rms_norm launch");
  return std::string(a.residual.empty() ? "rms_norm_" : "add_rms_norm_") +
         std::string(DTypeName(a.x.dtype));
}

std::string LaunchAct(const ActArgs& a, cudaStream_t stream) {
  const int per_vec = a.in.dtype == DType::kBF16 ? 8 : 4;
  const int grid = GridFor(int64_t{a.tokens} * a.width / per_vec, 256);
  if (a.in.dtype == DType::kBF16) {
    auto* in = static_cast<const bf16*>(a.in.data);
    auto* out = static_cast<bf16*>(a.out.data);
    if (a.gated) {
      ActKernel<bf16, true><<<grid, 256, 0, stream>>>(in, out, a.tokens, a.width);
    } else {
      ActKernel<bf16, false><<<grid, 256, 0, stream>>>(in, out, a.tokens, a.width);
    }
  } else {
    auto* in = static_cast<const float*>(a.in.data);
    auto* out = static_cast<float*>(a.out.data);
    if (a.gated) {
      ActKernel<float, true><<<grid, 256, 0, stream>>>(in, out, a.tokens, a.width);
    } else {
      ActKernel<float, false><<<grid, 256, 0, stream>>>(in, out, a.tokens, a.width);
    }
  }
  Check(cudaGetLastError(), "act launch");
  return std::string(a.gated ? "silu_mul_" : "silu_") + std::string(DTypeName(a.in.dtype));
}

std::string LaunchRopeCache(const RopeCacheArgs& a, cudaStream_t stream) {
  const int half = a.head_dim / 2;
  const int threads = half * (128 / half > 0 ? 128 / half : 1);
  RopeCacheKernel<<<a.tokens, threads, 0, stream>>>(
      static_cast<bf16*>(a.qkv.data), a.row_stride, static_cast<const int32_t*>(a.positions.data),
      static_cast<const int32_t*>(a.slot_mapping.data), static_cast<const float*>(a.inv_freq.data),
      static_cast<bf16*>(a.k_cache.data), static_cast<bf16*>(a.v_cache.data), a.heads, a.kv_heads,
      a.head_dim);
  Check(cudaGetLastError(), "rope_cache launch");
  return "rope_cache_write_bf16";
}

}  // namespace servesim::kernels::cuda
