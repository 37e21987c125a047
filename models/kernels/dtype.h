// models/kernels/dtype.h — element types of the kernel module and their host-side
// conversions (float <-> bf16 / fp8 e4m3), shared by the CPU backend, the checks and tests.
//
// Contract: every conversion from float rounds to nearest, ties to even. bf16 keeps NaN
// as NaN; e4m3 saturates finite values to +-448 and maps NaN to 0x7F (its only NaN code).
#ifndef SERVESIM_MODELS_KERNELS_DTYPE_H_
#define SERVESIM_MODELS_KERNELS_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace servesim::kernels {

enum class DType : uint8_t {
  kF32,     // IEEE binary32
  kBF16,    // bfloat16 (8-bit exponent, 7-bit mantissa)
  kF8E4M3,  // OCP fp8 e4m3fn (no infinities, max 448)
  kI32,     // int32 indices (block tables, lengths, positions)
};

// Bytes per element.
size_t DTypeBytes(DType t);
// Stable names used in profiles and logs: "f32", "bf16", "fp8_e4m3", "i32".
std::string_view DTypeName(DType t);

uint16_t FloatToBf16(float f);
float Bf16ToFloat(uint16_t b);
uint8_t FloatToE4m3(float f);
float E4m3ToFloat(uint8_t b);

// Rounds f to the nearest value representable in t (identity for kF32; kI32 not allowed).
float RoundTo(DType t, float f);

// Reads element i of a host array of type t as float / writes float v into it (rounded).
float LoadAsFloat(DType t, const void* base, size_t i);
void StoreFromFloat(DType t, void* base, size_t i, float v);

// Deterministic pseudo-random value in [lo, hi) for element `index` under `seed`
// (splitmix64). The CUDA fill kernel computes the same function, so both backends fill
// a tensor with bit-identical contents for the same (seed, lo, hi).
float HashUniform(uint64_t seed, uint64_t index, float lo, float hi);

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_DTYPE_H_
