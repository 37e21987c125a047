// models/kernels/cuda/device_utils.cuh — device-side building blocks shared by the
// module's kernels: PTX wrappers (cp.async, ldmatrix, mma.sync bf16), the swizzled
// shared-memory tile layout, bf16 packing and the deterministic hash fill.
//
// Swizzled tile contract: a tile of rows of `kRowChunks` 16-byte chunks (head_dim / 8
// bf16) stores logical chunk c of row r at physical chunk c ^ (r & 7). Eight rows read at
// one logical chunk by ldmatrix then hit eight different bank groups (no conflicts).
// Any sub-tile that starts at a row multiple of 8 keeps the same rule.
#ifndef SERVESIM_MODELS_KERNELS_CUDA_DEVICE_UTILS_CUH_
#define SERVESIM_MODELS_KERNELS_CUDA_DEVICE_UTILS_CUH_

#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>

namespace servesim::kernels::cuda {

using bf16 = __nv_bfloat16;

__device__ __forceinline__ uint32_t SmemAddr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// Byte offset of logical 16-byte chunk `c` of row `r` in a swizzled tile whose rows hold
// kRowChunks chunks.
template <int kRowChunks>
__device__ __forceinline__ uint32_t SwizzledOffset(int r, int c) {
  return static_cast<uint32_t>(r * kRowChunks * 16 + ((c ^ (r & 7)) << 4));
}

// 16-byte global -> shared copy; when !valid the destination is zero-filled and nothing
// is read (src must still be a mapped address).
__device__ __forceinline__ void CpAsync16(uint32_t dst, const void* src, bool valid) {
  const int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
               "r"(src_bytes));
}
__device__ __forceinline__ void CpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void CpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

__device__ __forceinline__ void Ldmatrix4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
__device__ __forceinline__ void Ldmatrix4Trans(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// d += a (16x16 bf16, row) * b (16x8 bf16, col), f32 accumulate.
__device__ __forceinline__ void MmaBf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                        uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
      "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Packs two floats into a bf16x2 register; `lo` lands in the low half (lower column).
__device__ __forceinline__ uint32_t PackBf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

// 2^x on the special-function unit (ex2.approx, flush-to-zero; 2^-inf = 0). Relative
// error ~2^-22, far below the bf16 rounding of the probabilities it feeds.
__device__ __forceinline__ float FastExp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

__device__ __forceinline__ float WarpMax(float v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}
__device__ __forceinline__ float WarpSum(float v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

// Same function as the host HashUniform in dtype.cc (splitmix64 + one f32 fma).
__device__ __forceinline__ float DeviceHashUniform(uint64_t seed, uint64_t index, float lo,
                                                   float hi) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z = z ^ (z >> 31);
  const float u = static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
  return __fmaf_rn(hi - lo, u, lo);
}

}  // namespace servesim::kernels::cuda

#endif  // SERVESIM_MODELS_KERNELS_CUDA_DEVICE_UTILS_CUH_
