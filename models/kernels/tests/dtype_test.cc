// models/kernels/tests/dtype_test.cc — host conversions between float and bf16 / e4m3,
// and the deterministic fill hash.
#include "models/kernels/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace servesim::kernels {
namespace {

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3F80);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(1.0f + std::ldexp(1.0f, -8))), 1.0f);
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(1.0f + 3 * std::ldexp(1.0f, -8))), 1.0f + std::ldexp(1.0f, -6));
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(-2.5f)), -2.5f);
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(std::nanf("")))));
  EXPECT_TRUE(std::isinf(Bf16ToFloat(FloatToBf16(INFINITY))));
}

TEST(E4m3, KnownCodes) {
  EXPECT_EQ(FloatToE4m3(1.0f), 0x38);
  EXPECT_EQ(FloatToE4m3(-1.5f), 0xBC);
  EXPECT_EQ(FloatToE4m3(448.0f), 0x7E);
  EXPECT_EQ(FloatToE4m3(1000.0f), 0x7E);  // saturates
  EXPECT_EQ(FloatToE4m3(-1000.0f), 0xFE);
  EXPECT_EQ(FloatToE4m3(std::ldexp(1.0f, -6)), 0x08);  // smallest normal
  EXPECT_EQ(FloatToE4m3(std::ldexp(1.0f, -9)), 0x01);  // smallest subnormal
  EXPECT_EQ(FloatToE4m3(0.0f), 0x00);
  EXPECT_EQ(FloatToE4m3(std::nanf("")), 0x7F);
  EXPECT_TRUE(std::isnan(E4m3ToFloat(0x7F)));
  EXPECT_EQ(E4m3ToFloat(0x7E), 448.0f);
  // 1.0625 is halfway between 1.0 (even) and 1.125.
  EXPECT_EQ(E4m3ToFloat(FloatToE4m3(1.0625f)), 1.0f);
  EXPECT_EQ(E4m3ToFloat(FloatToE4m3(1.1875f)), 1.25f);
}

TEST(E4m3, EveryFiniteCodeRoundTrips) {
  for (int code = 0; code < 256; ++code) {
    const float v = E4m3ToFloat(static_cast<uint8_t>(code));
    if (std::isnan(v)) continue;
    if (v == 0.0f) continue;  // +0 and -0 both map back to their own sign
    EXPECT_EQ(FloatToE4m3(v), code) << "code " << code << " value " << v;
  }
}

TEST(Dtype, LoadStoreRoundTrip) {
  uint16_t bf[4];
  StoreFromFloat(DType::kBF16, bf, 2, 3.14159f);
  EXPECT_EQ(LoadAsFloat(DType::kBF16, bf, 2), RoundTo(DType::kBF16, 3.14159f));
  EXPECT_NE(RoundTo(DType::kBF16, 3.14159f), 3.14159f);
  EXPECT_EQ(RoundTo(DType::kF32, 3.14159f), 3.14159f);
  EXPECT_EQ(DTypeBytes(DType::kF8E4M3), 1u);
  EXPECT_EQ(DTypeName(DType::kF8E4M3), "fp8_e4m3");
}

TEST(HashUniform, InRangeDeterministicAndSpread) {
  std::set<float> seen;
  for (uint64_t i = 0; i < 1000; ++i) {
    const float v = HashUniform(42, i, -1.0f, 1.0f);
    EXPECT_GE(v, -1.0f);
    EXPECT_LT(v, 1.0f);
    EXPECT_EQ(v, HashUniform(42, i, -1.0f, 1.0f));
    seen.insert(v);
  }
  EXPECT_GT(seen.size(), 990u);
  EXPECT_NE(HashUniform(1, 0, 0, 1), HashUniform(2, 0, 0, 1));
}

}  // namespace
}  // namespace servesim::kernels
