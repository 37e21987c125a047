// models/kernels/cuda/nccl_allreduce.cc — NCCL all-reduce timing (bench/allreduce.h).
#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "../bench/allreduce.h"
#include "launch.h"

namespace servesim::kernels {
namespace {

void NcclCheck(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) {
    throw std::runtime_error(std::string("NCCL ") + what + ": " + ncclGetErrorString(r));
  }
}

}  // namespace

bool NcclCompiled() { return true; }

Json BenchAllReduce(int gpus, const std::vector<int64_t>& message_bytes,
                    const TimingOptions& timing, std::ostream* log) {
  int available = 0;
  cuda::Check(cudaGetDeviceCount(&available), "cudaGetDeviceCount");
  if (gpus < 2 || gpus > available) {
    throw std::invalid_argument("all-reduce needs 2.." + std::to_string(available) + " GPUs, got " +
                                std::to_string(gpus));
  }
  setenv("NCCL_NVLS_ENABLE", "0", 1);  // never NVLink multicast on shared hosts
  std::vector<int> devs(gpus);
  for (int i = 0; i < gpus; ++i) devs[i] = i;
  std::vector<ncclComm_t> comms(gpus);
  NcclCheck(ncclCommInitAll(comms.data(), gpus, devs.data()), "init");
  const int64_t max_bytes = *std::max_element(message_bytes.begin(), message_bytes.end());
  std::vector<cudaStream_t> streams(gpus);
  std::vector<void*> bufs(gpus);
  for (int i = 0; i < gpus; ++i) {
    cuda::Check(cudaSetDevice(i), "cudaSetDevice");
    cuda::Check(cudaStreamCreateWithFlags(&streams[i], cudaStreamNonBlocking), "stream");
    cuda::Check(cudaMalloc(&bufs[i], static_cast<size_t>(max_bytes)), "cudaMalloc");
  }
  auto launch = [&](size_t count) {
    NcclCheck(ncclGroupStart(), "group start");
    for (int i = 0; i < gpus; ++i) {
      NcclCheck(ncclAllReduce(bufs[i], bufs[i], count, ncclBfloat16, ncclSum, comms[i], streams[i]),
                "all-reduce");
    }
    NcclCheck(ncclGroupEnd(), "group end");
  };
  Json records = Json::array();
  for (int64_t bytes : message_bytes) {
    const size_t count = static_cast<size_t>(bytes / 2);
    // Non-zero data (bf16 0x3c3c ~ 0.0115), reset per size: each call multiplies the values
    // by `gpus`, so they stay finite for the few dozen calls a size gets.
    for (int i = 0; i < gpus; ++i) {
      cuda::Check(cudaSetDevice(i), "cudaSetDevice");
      cuda::Check(cudaMemsetAsync(bufs[i], 0x3c, static_cast<size_t>(bytes), streams[i]), "memset");
    }
    for (int w = 0; w < std::max(1, timing.warmup); ++w) launch(count);
    std::vector<cudaEvent_t> ev(static_cast<size_t>(2 * gpus * timing.iters));
    for (int i = 0; i < gpus; ++i) {
      cuda::Check(cudaSetDevice(i), "cudaSetDevice");
      for (int it = 0; it < timing.iters; ++it) {
        cuda::Check(cudaEventCreate(&ev[(i * timing.iters + it) * 2]), "event");
        cuda::Check(cudaEventCreate(&ev[(i * timing.iters + it) * 2 + 1]), "event");
      }
    }
    for (int it = 0; it < timing.iters; ++it) {
      for (int i = 0; i < gpus; ++i) {
        cuda::Check(cudaSetDevice(i), "cudaSetDevice");
        cuda::Check(cudaEventRecord(ev[(i * timing.iters + it) * 2], streams[i]), "record");
      }
      launch(count);
      for (int i = 0; i < gpus; ++i) {
        cuda::Check(cudaSetDevice(i), "cudaSetDevice");
        cuda::Check(cudaEventRecord(ev[(i * timing.iters + it) * 2 + 1], streams[i]), "record");
      }
    }
    TimingResult t;
    t.per_call_ms.assign(timing.iters, 0.0);
    for (int i = 0; i < gpus; ++i) {
      cuda::Check(cudaSetDevice(i), "cudaSetDevice");
      cuda::Check(cudaStreamSynchronize(streams[i]), "sync");
      for (int it = 0; it < timing.iters; ++it) {
        float ms = 0.0f;
        cuda::Check(cudaEventElapsedTime(&ms, ev[(i * timing.iters + it) * 2],
                                         ev[(i * timing.iters + it) * 2 + 1]),
                    "elapsed");
        t.per_call_ms[it] = std::max(t.per_call_ms[it], static_cast<double>(ms));
      }
    }
    for (cudaEvent_t e : ev) cudaEventDestroy(e);
    // Bus bytes per GPU of a ring all-reduce: 2 (n-1)/n x message.
    const double bus_bytes = 2.0 * (gpus - 1) / gpus * static_cast<double>(bytes);
    Json rec = MakeRecord("allreduce", "nccl_allreduce_bf16_sum", DType::kBF16,
                          {{"bytes", bytes}, {"gpus", gpus}}, 0.0, bus_bytes, 1, t);
    rec["cuda_graphs"] = false;
    if (log != nullptr) {
      *log << "  allreduce bytes=" << bytes << " gpus=" << gpus << " median "
           << rec["median_ms"].get<double>() << " ms\n";
    }
    records.push_back(std::move(rec));
  }
  for (int i = 0; i < gpus; ++i) {
    cudaSetDevice(i);
    cudaFree(bufs[i]);
    cudaStreamDestroy(streams[i]);
    ncclCommDestroy(comms[i]);
  }
  cudaSetDevice(0);
  return records;
}

}  // namespace servesim::kernels
