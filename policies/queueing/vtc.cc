// policies/queueing/vtc.cc — registers `vtc` and `lcf` (the order itself: vtc.h).
#include "policies/queueing/vtc.h"

namespace servesim {

namespace {
[[maybe_unused]] const bool kVtcRegistered = Registry<QueueOrder>::instance().add(
    "vtc",
    "Virtual Token Counter: the backlogged client with the least weighted service first, counters "
    "lifted",
    [](ConfigNode& cfg, const QueueOrderContext& ctx) -> std::unique_ptr<QueueOrder> {
      return std::make_unique<VtcOrder>(cfg, ctx, true);
    });
[[maybe_unused]] const bool kLcfRegistered = Registry<QueueOrder>::instance().add(
    "lcf", "least counter first: VTC without the lift (a returning client's banked credit counts)",
    [](ConfigNode& cfg, const QueueOrderContext& ctx) -> std::unique_ptr<QueueOrder> {
      return std::make_unique<VtcOrder>(cfg, ctx, false);
    });
}  // namespace

}  // namespace servesim
