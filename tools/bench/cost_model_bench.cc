// tools/bench/cost_model_bench.cc — estimates per second of the cost models (README figure).
// The simulator calls estimate() once per instance iteration; the target is >= 5 M/s for the
// roofline. Batches vary from call to call (decode context, prefill lengths) so nothing is
// cached; decodes arrive as aggregates, so cost does not grow with the number of decodes.
//   build-cost/bench/cost_model_bench [--benchmark_filter=Roofline]
// The measured model runs on a synthetic aiconfigurator-sized table set (no files needed) and,
// when ../shared/data (or $SERVESIM_DATA_DIR) is present, on the real H100 tables.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "models/catalog.h"
#include "models/cost/measured.h"
#include "models/cost/roofline.h"

namespace servesim {
namespace {

Deployment deployment(const char* model, int tp) {
  Deployment d;
  d.model = &Catalog::builtin().model(model);
  d.hardware = &Catalog::builtin().hardware("h100-sxm");
  d.tensor_parallel = tp;
  return d;
}

// One batch per call, varied deterministically: 2 prefill segments (one chunked) + decodes.
template <class Model>
void run(benchmark::State& state, const Model& m, int segments) {
  PrefillSegment segs[4] = {{512, 0}, {256, 1024}, {128, 0}, {64, 4096}};
  std::int64_t i = 0, sink = 0;
  for (auto _ : state) {
    const std::int64_t decodes = 32 + (i & 63);
    segs[0].new_tokens = static_cast<std::int32_t>(256 + (i & 255));
    const BatchShape b{std::span<const PrefillSegment>(segs, static_cast<std::size_t>(segments)),
                       decodes, decodes * (1000 + (i & 1023))};
    sink += m.estimate(b).duration_ns;
    ++i;
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}

void BM_Roofline_Decode(benchmark::State& state) {
  const RooflineCostModel m(deployment("llama-3-8b", 1), RooflineParams{});
  run(state, m, 0);
}
BENCHMARK(BM_Roofline_Decode);

void BM_Roofline_Mixed(benchmark::State& state) {
  const RooflineCostModel m(deployment("llama-3-70b", 4), RooflineParams{});
  run(state, m, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_Roofline_Mixed)->Arg(1)->Arg(2)->Arg(4);

void BM_Roofline_MoE(benchmark::State& state) {
  const RooflineCostModel m(deployment("mixtral-8x7b", 2), RooflineParams{});
  run(state, m, 2);
}
BENCHMARK(BM_Roofline_MoE);

// Synthetic tables with aiconfigurator-like grids: GEMM 22 × 22 (k, n) × 40 m values, attention
// over group size × KV heads × batch × length, vLLM all-reduce sizes.
std::shared_ptr<const ProfileTables> synthetic_tables() {
  ProfileData d;
  const double ks[] = {1024, 2048, 4096, 6144, 8192, 14336, 16384, 28672, 32768, 65536};
  for (double k : ks) {
    for (double n : ks) {
      for (double m = 1; m <= 32768; m *= 1.3) {
        LogGrid::Point p;
        p.x = {k, n, std::round(m)};
        p.value = 2000 + 2 * m * n * k / 700.0;
        d.gemm["bf16"].push_back(p);
      }
    }
  }
  for (double ratio : {1.0, 2.0, 4.0, 8.0}) {
    for (double kv : {1.0, 2.0, 4.0, 8.0}) {
      for (double b = 1; b <= 256; b *= 2) {
        for (double len = 16; len <= 16384; len *= 2) {
          LogGrid::Point p;
          p.x = {ratio, kv, b, 0, len};
          p.value = 10000 + b * len * len * ratio * kv / 500.0;
          d.prefill[AttnKey{128, 2}].push_back(p);
          LogGrid::Point q;
          q.x = {ratio, kv, b, len};
          q.value = 10000 + b * len * kv * 0.1;
          d.decode[AttnKey{128, 2}].push_back(q);
        }
      }
    }
  }
  for (double gpus : {2.0, 4.0, 8.0}) {
    for (double bytes = 256; bytes <= 1 << 28; bytes *= 2) {
      LogGrid::Point p;
      p.x = {gpus, bytes};
      p.value = 5000 + bytes / 100.0;
      d.comm[CommKey{"all_reduce", "synthetic"}].push_back(p);
    }
  }
  return ProfileTables::compile(d);
}

void BM_Measured_Synthetic(benchmark::State& state) {
  MeasuredOptions o;
  o.device_check = false;
  const MeasuredCostModel m(deployment("llama-3-70b", 4), synthetic_tables(), RooflineParams{}, o);
  run(state, m, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_Measured_Synthetic)->Arg(0)->Arg(2)->Arg(4);

void BM_Measured_AiconfiguratorH100(benchmark::State& state) {
  const char* env = std::getenv("SERVESIM_DATA_DIR");
  const std::string dir =
      std::string(env && *env ? env : "../shared/data") + "/profiles/aiconfigurator/h100_sxm";
  if (!std::filesystem::exists(dir)) {
    state.SkipWithError(
        "../shared/data/profiles/aiconfigurator/h100_sxm absent (set SERVESIM_DATA_DIR)");
    return;
  }
  const MeasuredCostModel m(deployment("llama-3-70b", 4),
                            load_profile_tables({dir}, ImportOptions{}), RooflineParams{},
                            MeasuredOptions{});
  run(state, m, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_Measured_AiconfiguratorH100)->Arg(0)->Arg(2);

}  // namespace
}  // namespace servesim
