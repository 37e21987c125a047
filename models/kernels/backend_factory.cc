// models/kernels/backend_factory.cc — picks a backend by name; the only place that knows
// whether the module was compiled with CUDA (SERVESIM_KERNELS_WITH_CUDA).
#include <stdexcept>
#include <string>

#include "backend.h"
#include "cpu/cpu_backend.h"

#ifdef SERVESIM_KERNELS_WITH_CUDA
#include <cuda_runtime.h>

#include "cuda/cuda_backend.h"
#endif

namespace servesim::kernels {

bool CudaCompiled() {
#ifdef SERVESIM_KERNELS_WITH_CUDA
  return true;
#else
  return false;
#endif
}

int CudaDeviceCount() {
#ifdef SERVESIM_KERNELS_WITH_CUDA
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver / no device" error
    return 0;
  }
  return n;
#else
  return 0;
#endif
}

std::unique_ptr<Backend> MakeBackend(std::string_view name, int device) {
  if (name == "cpu") return std::make_unique<CpuBackend>();
  if (name == "cuda") {
#ifdef SERVESIM_KERNELS_WITH_CUDA
    if (CudaDeviceCount() <= device) {
      throw std::runtime_error("backend 'cuda': no CUDA device " + std::to_string(device) +
                               " present");
    }
    return std::make_unique<cuda::CudaBackend>(device);
#else
    throw std::runtime_error("backend 'cuda': this build has no CUDA (SERVESIM_CUDA=OFF)");
#endif
  }
  throw std::invalid_argument("unknown backend '" + std::string(name) +
                              "'; valid values are: cpu, cuda");
}

}  // namespace servesim::kernels
