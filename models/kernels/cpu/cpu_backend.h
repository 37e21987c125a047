// models/kernels/cpu/cpu_backend.h — the reference backend: every operation of
// backend.h computed on the host in f32 arithmetic from the stored (rounded) inputs,
// the result rounded once to the output dtype. Used as the correctness reference for the
// CUDA kernels and, in CI, to exercise the driver and profile path without a GPU.
#ifndef SERVESIM_MODELS_KERNELS_CPU_CPU_BACKEND_H_
#define SERVESIM_MODELS_KERNELS_CPU_CPU_BACKEND_H_

#include "../backend.h"

namespace servesim::kernels {

class CpuBackend final : public Backend {
 public:
  CpuBackend() = default;
  ~CpuBackend() override = default;

  std::string_view Name() const override { return "cpu"; }
  DeviceInfo Device() const override;
  bool SupportsFp8() const override { return true; }

  Tensor Alloc(DType dtype, int64_t elems) override;
  void Free(Tensor& t) override;
  void CopyFromHost(const Tensor& dst, const void* src) override;
  void CopyToHost(void* dst, const Tensor& src) override;
  void CopyDevice(const Tensor& dst, const Tensor& src) override;
  void Fill(const Tensor& t, float value) override;
  void FillRandom(const Tensor& t, uint64_t seed, float lo, float hi) override;
  void Synchronize() override {}

  std::string Gemm(const GemmArgs& a) override;
  std::string RmsNorm(const RmsNormArgs& a) override;
  std::string Act(const ActArgs& a) override;
  std::string RopeCache(const RopeCacheArgs& a) override;
  std::string AttnPrefill(const PrefillArgs& a) override;
  std::string AttnDecode(const DecodeArgs& a) override;

  TimingResult Time(const std::function<void(int)>& body, const TimingOptions& o) override;
};

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_CPU_CPU_BACKEND_H_
