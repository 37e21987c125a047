// models/kernels/bench/op_bench.h — times one operation at one shape on a backend and
// returns its profile record (the "ops" entries of the profile format, README.md).
//
// Every bench allocates `rotations` independent input/output sets (KV-cache pools:
// disjoint block sets), so that the total footprint exceeds 2 x L2 where memory allows;
// inputs are filled with fresh random values (never zeros). A point whose footprint for
// one set exceeds max_point_bytes is skipped: the function returns a null json.
#ifndef SERVESIM_MODELS_KERNELS_BENCH_OP_BENCH_H_
#define SERVESIM_MODELS_KERNELS_BENCH_OP_BENCH_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "../backend.h"
#include "../model_shapes.h"

namespace servesim::kernels {

using Json = nlohmann::ordered_json;

struct BenchContext {
  Backend* backend = nullptr;
  TimingOptions timing;  // warmup / iters (rotations are chosen per point)
  int max_rotations = 64;
  int64_t l2_bytes = 0;  // rotation target: footprint > 2 x l2_bytes
  int64_t max_point_bytes = int64_t{24} << 30;
  uint64_t seed = 1;            // advanced for every random tensor
  std::ostream* log = nullptr;  // one line per point when set

  uint64_t NextSeed() { return seed = seed * 6364136223846793005ull + 1442695040888963407ull; }
  // floor(2 * l2 / set_bytes) + 1, clamped to [1, max_rotations] (1 when l2 unknown).
  int RotationsFor(int64_t set_bytes) const;
};

// Owns backend tensors for the duration of one bench point.
class Scratch {
 public:
  explicit Scratch(Backend& be) : be_(be) {}
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  Tensor Alloc(DType dtype, int64_t elems);
  Tensor Random(DType dtype, int64_t elems, uint64_t seed, float lo, float hi);
  Tensor Ints(const std::vector<int32_t>& values);
  Tensor Floats(const std::vector<float>& values);

 private:
  Backend& be_;
  std::vector<Tensor> owned_;
};

// Builds a record from timing samples (median/p10/p90 etc.).
Json MakeRecord(const std::string& op, const std::string& kernel, DType dtype, Json shape,
                double flops, double bytes, int rotations, const TimingResult& t);

Json BenchGemm(BenchContext& ctx, const std::string& op, DType dtype, int m, int n, int k);
Json BenchRmsNorm(BenchContext& ctx, bool add_residual, int tokens, int hidden);
Json BenchAct(BenchContext& ctx, bool gated, int tokens, int width);
Json BenchRopeCache(BenchContext& ctx, const ModelShape& shard, int tokens);
// `batch` sequences of `tokens_per_seq` new tokens each after `prior` cached tokens.
Json BenchPrefill(BenchContext& ctx, const ModelShape& shard, int batch, int tokens_per_seq,
                  int prior, int variant = 0);
// `batch` sequences of `context` tokens each (the current token included).
Json BenchDecode(BenchContext& ctx, const ModelShape& shard, int batch, int context,
                 int num_splits = 0);
// Device-to-device copy of `bytes` (the bandwidth ceiling).
Json BenchCopy(BenchContext& ctx, int64_t bytes);

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_BENCH_OP_BENCH_H_
