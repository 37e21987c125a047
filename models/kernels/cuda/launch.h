// models/kernels/cuda/launch.h — host entry points of the module's own CUDA kernels
// (defined in the .cu files of this folder). Each enqueues on `stream` and returns the
// name of the kernel it launched; arguments are already validated by the caller
// (validate.h). Launch errors are reported by throwing std::runtime_error.
#ifndef SERVESIM_MODELS_KERNELS_CUDA_LAUNCH_H_
#define SERVESIM_MODELS_KERNELS_CUDA_LAUNCH_H_

#include <cuda_runtime.h>

#include <string>

#include "../backend.h"

namespace servesim::kernels::cuda {

// Throws std::runtime_error("<what>: <cuda error string>") when e != cudaSuccess.
void Check(cudaError_t e, const char* what);

// Raises the dynamic shared-memory limits of the attention kernels; call once per device
// before any launch (not during graph capture).
void InitKernelAttributes();

void LaunchFill(const Tensor& t, float value, cudaStream_t stream);
void LaunchFillRandom(const Tensor& t, uint64_t seed, float lo, float hi, cudaStream_t stream);

std::string LaunchRmsNorm(const RmsNormArgs& a, cudaStream_t stream);
std::string LaunchAct(const ActArgs& a, cudaStream_t stream);
std::string LaunchRopeCache(const RopeCacheArgs& a, cudaStream_t stream);

std::string LaunchPrefill(const PrefillArgs& a, int sm_count, cudaStream_t stream);

// Split-K plan of a decode call: `splits` pieces of `split_tokens` (a multiple of the
// kernel's 64-token tile) along the context; splits == 1 writes the output directly.
struct DecodePlan {
  int splits = 1;
  int split_tokens = 0;
  // f32 workspace elements the plan needs (partial outputs + log-sum-exp), 0 when splits == 1.
  int64_t workspace_elems = 0;
};
DecodePlan PlanDecode(const DecodeArgs& a, int sm_count);
// REQUIRES: workspace holds plan.workspace_elems floats.
std::string LaunchDecode(const DecodeArgs& a, const DecodePlan& plan, float* workspace,
                         cudaStream_t stream);

}  // namespace servesim::kernels::cuda

#endif  // SERVESIM_MODELS_KERNELS_CUDA_LAUNCH_H_
