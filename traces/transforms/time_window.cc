// traces/transforms/time_window.cc — `time_window`: keeps the requests arriving in
// [start_s, end_s) and (by default) shifts them so start_s becomes t = 0. Stops reading the inner
// stream at end_s (arrivals never decrease).
#include <limits>

#include "traces/transforms/transform.h"

namespace servesim {
namespace {

class TimeWindow final : public TraceTransform {
 public:
  TimeWindow(ConfigNode& cfg, const TraceContext&) {
    const double start_s =
        cfg.get<double>("start_s", 0.0, "first arrival time kept, s", NonNegative());
    const double end_s = cfg.get<double>(
        "end_s", 0.0, "arrivals at or after this time are dropped, s (0 = no end)", NonNegative());
    rebase_ = cfg.get<bool>("rebase", true, "shift kept arrivals so start_s becomes t = 0");
    if (end_s > 0 && end_s <= start_s) cfg.fail("end_s", "must be > start_s");
    start_ns_ = s_to_ns(start_s);
    end_ns_ = end_s > 0 ? s_to_ns(end_s) : std::numeric_limits<TimeNs>::max();
  }
  bool next(Request& out) override {
    while (!done_) {
      if (!inner_->next(out) || out.arrival_ns >= end_ns_) {
        done_ = true;
        return false;
      }
      if (out.arrival_ns < start_ns_) continue;
      if (rebase_) out.arrival_ns -= start_ns_;
      return true;
    }
    return false;
  }

 private:
  TimeNs start_ns_ = 0, end_ns_ = 0;
  bool rebase_ = true, done_ = false;
};

}  // namespace

SERVESIM_REGISTER(TraceTransform, TimeWindow, "time_window",
                  "keep arrivals in [start_s, end_s), shifted to start at 0")

}  // namespace servesim
