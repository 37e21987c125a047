// models/kernels/bench/allreduce.h — tensor-parallel all-reduce timing through NCCL
// (in-place bf16 sum over `gpus` devices driven by this one process). Compiled in only
// when NCCL is found (SERVESIM_KERNELS_WITH_NCCL); otherwise NcclCompiled() is false and
// BenchAllReduce throws.
//
// Method: one communicator per device (ncclCommInitAll), each launch a grouped
// ncclAllReduce on every device's stream, timed per sample as the longest of the
// per-device event intervals; no CUDA graphs (records say "cuda_graphs": false).
// NCCL_NVLS_ENABLE is forced to 0 before initialisation (NVLink multicast stays off).
#ifndef SERVESIM_MODELS_KERNELS_BENCH_ALLREDUCE_H_
#define SERVESIM_MODELS_KERNELS_BENCH_ALLREDUCE_H_

#include <cstdint>
#include <ostream>
#include <vector>

#include "op_bench.h"

namespace servesim::kernels {

bool NcclCompiled();

// One record per message size (bytes of the bf16 buffer on each GPU).
Json BenchAllReduce(int gpus, const std::vector<int64_t>& message_bytes,
                    const TimingOptions& timing, std::ostream* log);

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_BENCH_ALLREDUCE_H_
