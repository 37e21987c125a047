// models/kernels/cuda/gemm_cublaslt.cc — cuBLASLt plans and launches (see the header).
#include "gemm_cublaslt.h"

#include <stdexcept>

namespace servesim::kernels::cuda {
namespace {

void LtCheck(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error(std::string("cuBLASLt ") + what + " failed with status " +
                             std::to_string(static_cast<int>(s)));
  }
}

cudaDataType_t CudaType(DType t) {
  switch (t) {
    case DType::kF32:
      return CUDA_R_32F;
    case DType::kBF16:
      return CUDA_R_16BF;
    case DType::kF8E4M3:
      return CUDA_R_8F_E4M3;
    case DType::kI32:
      break;
  }
  throw std::invalid_argument("gemm: unsupported dtype");
}

int AlgoAttr(const cublasLtMatmulAlgo_t& algo, cublasLtMatmulAlgoConfigAttributes_t attr) {
  int value = 0;
  size_t written = 0;
  if (cublasLtMatmulAlgoConfigGetAttribute(&algo, attr, &value, sizeof(value), &written) !=
      CUBLAS_STATUS_SUCCESS) {
    return -1;
  }
  return value;
}

}  // namespace

LtGemm::LtGemm(void* workspace, size_t workspace_bytes)
    : workspace_(workspace), workspace_bytes_(workspace_bytes) {
  LtCheck(cublasLtCreate(&handle_), "create");
}

LtGemm::~LtGemm() {
  for (auto& [key, plan] : plans_) {
    cublasLtMatrixLayoutDestroy(plan.a);
    cublasLtMatrixLayoutDestroy(plan.b);
    cublasLtMatrixLayoutDestroy(plan.c);
    cublasLtMatmulDescDestroy(plan.op);
  }
  cublasLtDestroy(handle_);
}

LtGemm::Plan& LtGemm::GetPlan(const GemmArgs& g) {
  const auto key = std::make_tuple(static_cast<int>(g.a.dtype), g.m, g.n, g.k);
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second;

  Plan plan;
  const cudaDataType_t in = CudaType(g.a.dtype);
  const cudaDataType_t out = CudaType(g.c.dtype);
  LtCheck(cublasLtMatmulDescCreate(&plan.op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "desc create");
  const cublasOperation_t transa = CUBLAS_OP_T, transb = CUBLAS_OP_N;
  LtCheck(
      cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof(transa)),
      "set transa");
  LtCheck(
      cublasLtMatmulDescSetAttribute(plan.op, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof(transb)),
      "set transb");
  LtCheck(cublasLtMatrixLayoutCreate(&plan.a, in, g.k, g.n, g.k), "layout a");
  LtCheck(cublasLtMatrixLayoutCreate(&plan.b, in, g.k, g.m, g.k), "layout b");
  LtCheck(cublasLtMatrixLayoutCreate(&plan.c, out, g.n, g.m, g.n), "layout c");

  cublasLtMatmulPreference_t pref = nullptr;
  LtCheck(cublasLtMatmulPreferenceCreate(&pref), "preference create");
  LtCheck(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                               &workspace_bytes_, sizeof(workspace_bytes_)),
          "preference workspace");
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(handle_, plan.op, plan.a, plan.b, plan.c,
                                                           plan.c, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (st != CUBLAS_STATUS_SUCCESS || found == 0) {
    cublasLtMatrixLayoutDestroy(plan.a);
    cublasLtMatrixLayoutDestroy(plan.b);
    cublasLtMatrixLayoutDestroy(plan.c);
    cublasLtMatmulDescDestroy(plan.op);
    throw std::runtime_error("cuBLASLt: no algorithm for " + std::string(DTypeName(g.a.dtype)) +
                             " gemm m=" + std::to_string(g.m) + " n=" + std::to_string(g.n) +
                             " k=" + std::to_string(g.k));
  }
  plan.algo = result.algo;
  plan.name = "cublasLt_" + std::string(DTypeName(g.a.dtype)) + "_algo" +
              std::to_string(AlgoAttr(plan.algo, CUBLASLT_ALGO_CONFIG_ID)) + "_tile" +
              std::to_string(AlgoAttr(plan.algo, CUBLASLT_ALGO_CONFIG_TILE_ID)) + "_stages" +
              std::to_string(AlgoAttr(plan.algo, CUBLASLT_ALGO_CONFIG_STAGES_ID)) + "_splitk" +
              std::to_string(AlgoAttr(plan.algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM));
  return plans_.emplace(key, std::move(plan)).first->second;
}

std::string LtGemm::Run(const GemmArgs& g, cudaStream_t stream) {
  Plan& plan = GetPlan(g);
  const float beta = 0.0f;
  LtCheck(cublasLtMatmul(handle_, plan.op, &g.alpha, g.b.data, plan.a, g.a.data, plan.b, &beta,
                         g.c.data, plan.c, g.c.data, plan.c, &plan.algo, workspace_,
                         workspace_bytes_, stream),
          "matmul");
  return plan.name;
}

}  // namespace servesim::kernels::cuda
