// models/kernels/dtype.cc — host conversions between float and the module's element types.
#include "dtype.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace servesim::kernels {

size_t DTypeBytes(DType t) {
  switch (t) {
    case DType::kF32:
      return 4;
    case DType::kBF16:
      return 2;
    case DType::kF8E4M3:
      return 1;
    case DType::kI32:
      return 4;
  }
  return 0;
}

std::string_view DTypeName(DType t) {
  switch (t) {
    case DType::kF32:
      return "f32";
    case DType::kBF16:
      return "bf16";
    case DType::kF8E4M3:
      return "fp8_e4m3";
    case DType::kI32:
      return "i32";
  }
  return "?";
}

uint16_t FloatToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if (std::isnan(f)) return static_cast<uint16_t>((u >> 16) | 0x0040u);  // quiet NaN
  const uint32_t rounding_bias = 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>((u + rounding_bias) >> 16);
}

float Bf16ToFloat(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint8_t FloatToE4m3(float f) {
  const uint8_t sign = std::signbit(f) ? 0x80 : 0x00;
  if (std::isnan(f)) return 0x7F;
  const float a = std::fabs(f);
  if (a >= 448.0f) return sign | 0x7E;     // saturate (also maps +-inf to +-448)
  constexpr float kMinNormal = 0.015625f;  // 2^-6
  if (a < kMinNormal) {
    // Subnormal grid step 2^-9; q == 8 lands exactly on the smallest normal (code 0x08).
    const int q = static_cast<int>(std::nearbyint(a * 512.0f));
    return sign | static_cast<uint8_t>(q);
  }
  int e;
  const float frac = std::frexp(a, &e);  // a = frac * 2^e, frac in [0.5, 1)
  e -= 1;                                // a = (2*frac) * 2^e, 2*frac in [1, 2)
  int q = static_cast<int>(std::nearbyint((2.0f * frac - 1.0f) * 8.0f));
  if (q == 8) {
    q = 0;
    e += 1;
  }
  int code = ((e + 7) << 3) | q;
  if (code > 0x7E) code = 0x7E;
  return sign | static_cast<uint8_t>(code);
}

float E4m3ToFloat(uint8_t b) {
  const float sign = (b & 0x80) ? -1.0f : 1.0f;
  const int e = (b >> 3) & 0xF;
  const int m = b & 0x7;
  if (e == 15 && m == 7) return std::nanf("");
  if (e == 0) return sign * std::ldexp(static_cast<float>(m), -9);
  return sign * std::ldexp(1.0f + static_cast<float>(m) / 8.0f, e - 7);
}

float RoundTo(DType t, float f) {
  switch (t) {
    case DType::kF32:
      return f;
    case DType::kBF16:
      return Bf16ToFloat(FloatToBf16(f));
    case DType::kF8E4M3:
      return E4m3ToFloat(FloatToE4m3(f));
    case DType::kI32:
      break;
  }
  throw std::invalid_argument("RoundTo: not a floating-point type");
}

float LoadAsFloat(DType t, const void* base, size_t i) {
  switch (t) {
    case DType::kF32:
      return static_cast<const float*>(base)[i];
    case DType::kBF16:
      return Bf16ToFloat(static_cast<const uint16_t*>(base)[i]);
    case DType::kF8E4M3:
      return E4m3ToFloat(static_cast<const uint8_t*>(base)[i]);
    case DType::kI32:
      return static_cast<float>(static_cast<const int32_t*>(base)[i]);
  }
  return 0.0f;
}

void StoreFromFloat(DType t, void* base, size_t i, float v) {
  switch (t) {
    case DType::kF32:
      static_cast<float*>(base)[i] = v;
      return;
    case DType::kBF16:
      static_cast<uint16_t*>(base)[i] = FloatToBf16(v);
      return;
    case DType::kF8E4M3:
      static_cast<uint8_t*>(base)[i] = FloatToE4m3(v);
      return;
    case DType::kI32:
      static_cast<int32_t*>(base)[i] = static_cast<int32_t>(v);
      return;
  }
}

float HashUniform(uint64_t seed, uint64_t index, float lo, float hi) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z = z ^ (z >> 31);
  const float u = static_cast<float>(z >> 40) * (1.0f / 16777216.0f);  // [0, 1), exact
  return std::fma(hi - lo, u, lo);
}

}  // namespace servesim::kernels
