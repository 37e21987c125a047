// policies/queueing/rpm.cc — `rpm`: FCFS with a per-client rate limit, the request-per-minute
// baseline of the VTC paper (the artifact's `lshare_fair`): a client's arrival beyond
// `requests_per_minute` within the last 60 s (a sliding window of its accepted arrivals) is
// rejected with reason `rate_limited`; everything accepted is served first come, first served.
#include <deque>
#include <map>

#include "policies/queueing/queue_order.h"

namespace servesim {
namespace {

class RpmOrder final : public FifoQueueOrder {
 public:
  RpmOrder(ConfigNode& cfg, const QueueOrderContext&) {
    limit_ = cfg.get<std::int64_t>("requests_per_minute", 10,
                                   "accepted arrivals per client per 60 s", AtLeast(1));
  }
  const char* refuse(const QueuedRequest& r, TimeNs now) override {
    std::deque<TimeNs>& w = window_[r.client_id];
    while (!w.empty() && w.front() <= now - 60 * kNsPerSecond) w.pop_front();
    if (static_cast<std::int64_t>(w.size()) >= limit_) return "rate_limited";
    w.push_back(now);
    return nullptr;
  }

 private:
  std::int64_t limit_ = 10;
  std::map<std::uint32_t, std::deque<TimeNs>> window_;
};

}  // namespace

SERVESIM_REGISTER(
    QueueOrder, RpmOrder, "rpm",
    "FCFS with a per-client limit of requests per minute (beyond it: rejected, rate_limited)")

}  // namespace servesim
