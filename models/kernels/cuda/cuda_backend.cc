// models/kernels/cuda/cuda_backend.cc — the CUDA backend (see the header).
#include "cuda_backend.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "../validate.h"
#include "launch.h"

namespace servesim::kernels::cuda {
namespace {

constexpr size_t kGemmWorkspaceBytes = size_t{32} << 20;  // cuBLASLt's Hopper recommendation

std::string VersionString(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

int Attr(cudaDeviceAttr attr, int device) {
  int v = 0;
  return cudaDeviceGetAttribute(&v, attr, device) == cudaSuccess ? v : 0;
}

}  // namespace

CudaBackend::CudaBackend(int device) : device_(device) {
  Check(cudaSetDevice(device_), "cudaSetDevice");
  cudaDeviceProp prop{};
  Check(cudaGetDeviceProperties(&prop, device_), "cudaGetDeviceProperties");
  info_.name = prop.name;
  info_.sm_count = prop.multiProcessorCount;
  info_.sm_clock_mhz = Attr(cudaDevAttrClockRate, device_) / 1000;
  info_.mem_clock_mhz = Attr(cudaDevAttrMemoryClockRate, device_) / 1000;
  info_.l2_bytes = prop.l2CacheSize;
  info_.memory_bytes = static_cast<int64_t>(prop.totalGlobalMem);
  info_.compute_capability = prop.major * 10 + prop.minor;
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  info_.driver_version = VersionString(driver);
  info_.cuda_version = VersionString(runtime);
  Check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  Check(cudaMalloc(&gemm_workspace_, kGemmWorkspaceBytes), "cudaMalloc gemm workspace");
  gemm_ = std::make_unique<LtGemm>(gemm_workspace_, kGemmWorkspaceBytes);
  InitKernelAttributes();
}

CudaBackend::~CudaBackend() {
  cudaSetDevice(device_);
  cudaStreamSynchronize(stream_);
  gemm_.reset();
  cudaFree(gemm_workspace_);
  cudaFree(decode_workspace_);
  cudaStreamDestroy(stream_);
}

Tensor CudaBackend::Alloc(DType dtype, int64_t elems) {
  if (elems <= 0) throw std::invalid_argument("Alloc: elems must be positive");
  void* p = nullptr;
  Check(cudaMalloc(&p, static_cast<size_t>(elems) * DTypeBytes(dtype)),
        ("cudaMalloc of " + std::to_string(elems * DTypeBytes(dtype)) + " bytes").c_str());
  return Tensor{p, dtype, elems};
}

void CudaBackend::Free(Tensor& t) {
  if (t.data != nullptr) {
    Check(cudaStreamSynchronize(stream_), "sync before free");
    Check(cudaFree(t.data), "cudaFree");
  }
  t = Tensor{};
}

void CudaBackend::CopyFromHost(const Tensor& dst, const void* src) {
  Check(cudaMemcpyAsync(dst.data, src, dst.bytes(), cudaMemcpyHostToDevice, stream_), "H2D copy");
  Check(cudaStreamSynchronize(stream_), "H2D sync");
}

void CudaBackend::CopyToHost(void* dst, const Tensor& src) {
  Check(cudaMemcpyAsync(dst, src.data, src.bytes(), cudaMemcpyDeviceToHost, stream_), "D2H copy");
  Check(cudaStreamSynchronize(stream_), "D2H sync");
}

void CudaBackend::CopyDevice(const Tensor& dst, const Tensor& src) {
  Check(cudaMemcpyAsync(dst.data, src.data, std::min(dst.bytes(), src.bytes()),
                        cudaMemcpyDeviceToDevice, stream_),
        "D2D copy");
}

void CudaBackend::Fill(const Tensor& t, float value) { LaunchFill(t, value, stream_); }

void CudaBackend::FillRandom(const Tensor& t, uint64_t seed, float lo, float hi) {
  LaunchFillRandom(t, seed, lo, hi, stream_);
}

void CudaBackend::Synchronize() { Check(cudaStreamSynchronize(stream_), "stream sync"); }

std::string CudaBackend::Gemm(const GemmArgs& a) {
  ValidateGemm(a);
  if (a.a.dtype == DType::kF8E4M3 && !SupportsFp8()) {
    throw std::invalid_argument("gemm: fp8 needs compute capability 8.9 or newer");
  }
  return gemm_->Run(a, stream_);
}

std::string CudaBackend::RmsNorm(const RmsNormArgs& a) {
  ValidateRmsNorm(a);
  return LaunchRmsNorm(a, stream_);
}

std::string CudaBackend::Act(const ActArgs& a) {
  ValidateAct(a);
  return LaunchAct(a, stream_);
}

std::string CudaBackend::RopeCache(const RopeCacheArgs& a) {
  ValidateRopeCache(a);
  return LaunchRopeCache(a, stream_);
}

std::string CudaBackend::AttnPrefill(const PrefillArgs& a) {
  ValidatePrefill(a);
  return LaunchPrefill(a, info_.sm_count, stream_);
}

std::string CudaBackend::AttnDecode(const DecodeArgs& a) {
  ValidateDecode(a);
  const DecodePlan plan = PlanDecode(a, info_.sm_count);
  float* ws = plan.workspace_elems > 0 ? DecodeWorkspace(plan.workspace_elems) : nullptr;
  return LaunchDecode(a, plan, ws, stream_);
}

float* CudaBackend::DecodeWorkspace(int64_t elems) {
  if (elems <= decode_workspace_elems_) return decode_workspace_;
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  Check(cudaStreamIsCapturing(stream_, &status), "cudaStreamIsCapturing");
  if (status != cudaStreamCaptureStatusNone) {
    throw std::logic_error(
        "attn_decode: workspace must grow during graph capture; run the "
        "same call once before capturing");
  }
  Check(cudaStreamSynchronize(stream_), "sync before workspace growth");
  Check(cudaFree(decode_workspace_), "cudaFree decode workspace");
  decode_workspace_ = nullptr;
  Check(cudaMalloc(reinterpret_cast<void**>(&decode_workspace_), elems * sizeof(float)),
        "cudaMalloc decode workspace");
  decode_workspace_elems_ = elems;
  return decode_workspace_;
}

TimingResult CudaBackend::Time(const std::function<void(int)>& body, const TimingOptions& o) {
  const int rotations = std::max(1, o.rotations);
  // Eager warm-up: module load, cuBLASLt plans, workspaces.
  for (int r = 0; r < rotations; ++r) body(r);
  Check(cudaStreamSynchronize(stream_), "warm-up");

  cudaGraph_t graph = nullptr;
  Check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "begin capture");
  try {
    for (int r = 0; r < rotations; ++r) body(r);
  } catch (...) {
    cudaStreamEndCapture(stream_, &graph);
    if (graph != nullptr) cudaGraphDestroy(graph);
    throw;
  }
  Check(cudaStreamEndCapture(stream_, &graph), "end capture");
  cudaGraphExec_t exec = nullptr;
  Check(cudaGraphInstantiate(&exec, graph, 0), "graph instantiate");
  cudaGraphDestroy(graph);

  for (int w = 0; w < o.warmup; ++w) Check(cudaGraphLaunch(exec, stream_), "graph launch");
  std::vector<cudaEvent_t> events(2 * static_cast<size_t>(o.iters));
  for (cudaEvent_t& e : events) Check(cudaEventCreate(&e), "event create");
  for (int i = 0; i < o.iters; ++i) {
    Check(cudaEventRecord(events[2 * i], stream_), "event record");
    Check(cudaGraphLaunch(exec, stream_), "graph launch");
    Check(cudaEventRecord(events[2 * i + 1], stream_), "event record");
  }
  Check(cudaStreamSynchronize(stream_), "timing sync");
  TimingResult result;
  result.cuda_graphs = true;
  for (int i = 0; i < o.iters; ++i) {
    float ms = 0.0f;
    Check(cudaEventElapsedTime(&ms, events[2 * i], events[2 * i + 1]), "event elapsed");
    result.per_call_ms.push_back(static_cast<double>(ms) / rotations);
  }
  for (cudaEvent_t& e : events) cudaEventDestroy(e);
  cudaGraphExecDestroy(exec);
  return result;
}

}  // namespace servesim::kernels::cuda
