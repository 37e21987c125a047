// models/kernels/cuda/cuda_backend.h — the CUDA backend: device memory, cuBLASLt GEMMs,
// the module's own kernels, and graph-based timing, all on one non-blocking stream of one
// device. Host code only (kernels live in the .cu files behind launch.h).
#ifndef SERVESIM_MODELS_KERNELS_CUDA_CUDA_BACKEND_H_
#define SERVESIM_MODELS_KERNELS_CUDA_CUDA_BACKEND_H_

#include <cuda_runtime.h>

#include <memory>

#include "../backend.h"
#include "gemm_cublaslt.h"

namespace servesim::kernels::cuda {

class CudaBackend final : public Backend {
 public:
  // Selects `device`; throws std::runtime_error when it cannot be used.
  explicit CudaBackend(int device);
  ~CudaBackend() override;

  std::string_view Name() const override { return "cuda"; }
  DeviceInfo Device() const override { return info_; }
  bool SupportsFp8() const override { return info_.compute_capability >= 89; }

  Tensor Alloc(DType dtype, int64_t elems) override;
  void Free(Tensor& t) override;
  void CopyFromHost(const Tensor& dst, const void* src) override;
  void CopyToHost(void* dst, const Tensor& src) override;
  void CopyDevice(const Tensor& dst, const Tensor& src) override;
  void Fill(const Tensor& t, float value) override;
  void FillRandom(const Tensor& t, uint64_t seed, float lo, float hi) override;
  void Synchronize() override;

  std::string Gemm(const GemmArgs& a) override;
  std::string RmsNorm(const RmsNormArgs& a) override;
  std::string Act(const ActArgs& a) override;
  std::string RopeCache(const RopeCacheArgs& a) override;
  std::string AttnPrefill(const PrefillArgs& a) override;
  std::string AttnDecode(const DecodeArgs& a) override;

  TimingResult Time(const std::function<void(int)>& body, const TimingOptions& o) override;

 private:
  // Grows the decode split-K workspace; throws if that would happen during capture.
  float* DecodeWorkspace(int64_t elems);

  int device_;
  DeviceInfo info_;
  cudaStream_t stream_ = nullptr;
  void* gemm_workspace_ = nullptr;
  std::unique_ptr<LtGemm> gemm_;
  float* decode_workspace_ = nullptr;
  int64_t decode_workspace_elems_ = 0;
};

}  // namespace servesim::kernels::cuda

#endif  // SERVESIM_MODELS_KERNELS_CUDA_CUDA_BACKEND_H_
