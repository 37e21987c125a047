// traces/transforms/first_n.cc — `first_n`: the first n requests of the stream.
#include "traces/transforms/transform.h"

namespace servesim {
namespace {

class FirstN final : public TraceTransform {
 public:
  FirstN(ConfigNode& cfg, const TraceContext&)
      : n_(cfg.required<std::int64_t>("n", "number of requests kept", AtLeast(1))) {}
  bool next(Request& out) override {
    if (taken_ >= n_ || !inner_->next(out)) return false;
    ++taken_;
    return true;
  }

 private:
  std::int64_t n_, taken_ = 0;
};

}  // namespace

SERVESIM_REGISTER(TraceTransform, FirstN, "first_n", "keep the first n requests")

}  // namespace servesim
