// traces/transforms/scale_rate.cc — `scale_rate`: multiplies the arrival rate by `factor` by
// dividing every arrival time by it (a time stretch: factor 2 replays the trace twice as fast,
// 0.5 half as fast). Lengths, clients and order are unchanged.
#include <cmath>

#include "traces/transforms/transform.h"

namespace servesim {
namespace {

class ScaleRate final : public TraceTransform {
 public:
  ScaleRate(ConfigNode& cfg, const TraceContext&)
      : factor_(cfg.required<double>("factor", "rate multiplier: arrival times are divided by it",
                                     InRange(1e-6, 1e6))) {}
  bool next(Request& out) override {
    if (!inner_->next(out)) return false;
    out.arrival_ns =
        static_cast<TimeNs>(std::llround(static_cast<double>(out.arrival_ns) / factor_));
    return true;
  }

 private:
  double factor_;
};

}  // namespace

SERVESIM_REGISTER(TraceTransform, ScaleRate, "scale_rate",
                  "multiply the arrival rate by factor (arrival times / factor)")

}  // namespace servesim
