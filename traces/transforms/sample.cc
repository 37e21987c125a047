// traces/transforms/sample.cc — `sample`: keeps each request independently with probability
// `fraction` (seeded: random stream "workload.sample"), thinning the rate without changing the
// arrival times of the requests kept.
#include "sim/core/rng.h"
#include "traces/transforms/transform.h"

namespace servesim {
namespace {

class Sample final : public TraceTransform {
 public:
  Sample(ConfigNode& cfg, const TraceContext& ctx)
      : fraction_(cfg.required<double>("fraction", "probability of keeping each request",
                                       OpenFraction())),
        rng_(ctx.seed, "workload.sample") {}
  bool next(Request& out) override {
    while (inner_->next(out)) {
      if (rng_.uniform01() < fraction_) return true;
    }
    return false;
  }

 private:
  double fraction_;
  Rng rng_;
};

}  // namespace

SERVESIM_REGISTER(TraceTransform, Sample, "sample",
                  "keep each request with probability fraction (seeded)")

}  // namespace servesim
