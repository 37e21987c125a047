// policies/queueing/lpm.cc — registers `lpm` and `dlpm` (the order itself: lpm.h).
#include "policies/queueing/lpm.h"

namespace servesim {

namespace {
[[maybe_unused]] const bool kLpmRegistered = Registry<QueueOrder>::instance().add(
    "lpm", "longest prefix match: the waiting request with the longest cached prefix first",
    [](ConfigNode& cfg, const QueueOrderContext& ctx) -> std::unique_ptr<QueueOrder> {
      return std::make_unique<PrefixMatchOrder>(cfg, ctx, false);
    });
[[maybe_unused]] const bool kDlpmRegistered = Registry<QueueOrder>::instance().add(
    "dlpm",
    "deficit LPM: deficit round robin over clients (quantum × fair weight), longest prefix match "
    "inside a round",
    [](ConfigNode& cfg, const QueueOrderContext& ctx) -> std::unique_ptr<QueueOrder> {
      return std::make_unique<PrefixMatchOrder>(cfg, ctx, true);
    });
}  // namespace

}  // namespace servesim
