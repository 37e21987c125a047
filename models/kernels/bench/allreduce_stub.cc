// models/kernels/bench/allreduce_stub.cc — the all-reduce entry points of a build
// without NCCL.
#include <stdexcept>

#include "allreduce.h"

namespace servesim::kernels {

bool NcclCompiled() { return false; }

Json BenchAllReduce(int, const std::vector<int64_t>&, const TimingOptions&, std::ostream*) {
  throw std::runtime_error("all-reduce: this build has no NCCL");
}

}  // namespace servesim::kernels
