// models/kernels/cuda/gemm_cublaslt.h — the module's GEMMs through cuBLASLt: bf16 x bf16
// -> bf16, fp8 e4m3 x e4m3 -> bf16 (sm_89+), f32 x f32 -> f32 (no TF32), all with f32
// accumulation, for the row-major contract of GemmArgs (Y = alpha * X W^T).
//
// Row-major X[m,k], W[n,k], Y[m,n] are, read column-major, X^T (k x m), W^T (k x n) and
// Y^T (n x m). Y^T = W X^T, so cuBLASLt computes D(n x m) = A^T B with A = the weight
// buffer (k x n, lda = k, transa = T) and B = the activations (k x m, ldb = k, transb = N):
// the "TN" form that fp8 requires.
// One plan (descriptors + heuristic algorithm) is cached per (dtype, m, n, k).
#ifndef SERVESIM_MODELS_KERNELS_CUDA_GEMM_CUBLASLT_H_
#define SERVESIM_MODELS_KERNELS_CUDA_GEMM_CUBLASLT_H_

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <map>
#include <string>
#include <tuple>

#include "../backend.h"

namespace servesim::kernels::cuda {

class LtGemm {
 public:
  // REQUIRES: workspace stays valid for the object's lifetime.
  LtGemm(void* workspace, size_t workspace_bytes);
  ~LtGemm();
  LtGemm(const LtGemm&) = delete;
  LtGemm& operator=(const LtGemm&) = delete;

  // Enqueues the product on `stream`; returns "cublasLt_<dtype>_algo<id>_tile<t>_...".
  std::string Run(const GemmArgs& a, cudaStream_t stream);

 private:
  struct Plan {
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
    cublasLtMatmulAlgo_t algo{};
    std::string name;
  };
  Plan& GetPlan(const GemmArgs& a);

  cublasLtHandle_t handle_ = nullptr;
  void* workspace_;
  size_t workspace_bytes_;
  std::map<std::tuple<int, int, int, int>, Plan> plans_;
};

}  // namespace servesim::kernels::cuda

#endif  // SERVESIM_MODELS_KERNELS_CUDA_GEMM_CUBLASLT_H_
