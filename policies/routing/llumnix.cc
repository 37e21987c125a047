// policies/routing/llumnix.cc — `llumnix`: Llumnix's dispatch (ALGORITHMS.md §5.3), in one of
// three modes:
//   load     (default) the instance with the largest dispatch freeness (policies/control/
//            freeness.h): free KV blocks net of the watermark, of every waiting request's demand
//            and of the headroom of high-priority requests, per request; ties: lowest id;
//   balanced the instance this router has sent the fewest requests; ties: lowest id;
//   queue    the fewest waiting requests; ties at random (the router's own seeded stream).
// Staleness: Llumnix's global scheduler dispatches on instance loads refreshed every polling
// interval (0.05 s) and does not update them between refreshes, so a burst inside one interval
// goes to one instance (herding). `refresh_s` (default 0.05) reproduces that: freeness is read
// from every candidate at most once per refresh_s of simulated time (an instance new since the
// last refresh is read live); refresh_s: 0 reads it live at every request (an idealised
// dispatcher). Cost: O(candidates) per request.
#include <vector>

#include "policies/control/freeness.h"
#include "policies/routing/router.h"
#include "sim/core/rng.h"

namespace servesim {
namespace {

class LlumnixRouter final : public Router {
 public:
  enum class Mode : std::uint8_t { kLoad, kBalanced, kQueue };
  LlumnixRouter(ConfigNode& cfg, const RouterContext&)
      : rng_(static_cast<std::uint64_t>(cfg.get<std::int64_t>(
                 "seed", 0, "seed of the random tie-break of the queue mode", NonNegative())),
             "llumnix_router") {
    const std::string mode =
        cfg.choice("mode", "load", {"load", "balanced", "queue"},
                   "load (max freeness) | balanced (fewest dispatched) | queue (fewest waiting)");
    mode_ = mode == "load" ? Mode::kLoad : mode == "balanced" ? Mode::kBalanced : Mode::kQueue;
    refresh_ns_ = s_to_ns(cfg.get<double>(
        "refresh_s", 0.05,
        "load mode: instance freeness is refreshed this often, s (Llumnix: 0.05; 0 = live)",
        InRange(0, 3600)));
    headroom_blocks_ = cfg.get<double>(
        "priority_headroom_blocks", 0.0,
        "KV blocks of virtual usage added per high-priority (priority > 0) request", NonNegative());
  }

  InstanceId route(const RequestState& r, std::span<const Instance* const> candidates) override {
    const Instance* best = candidates[0];
    switch (mode_) {
      case Mode::kLoad: {
        if (refresh_ns_ > 0 && r.req.arrival_ns >= next_refresh_ns_) {
          next_refresh_ns_ = r.req.arrival_ns + refresh_ns_;
          ++epoch_;
        }
        double best_f = seen(*best);
        for (const Instance* a : candidates.subspan(1)) {
          const double f = seen(*a);
          if (f > best_f) best = a, best_f = f;
        }
        break;
      }
      case Mode::kBalanced:
        for (const Instance* a : candidates.subspan(1)) {
          if (dispatched(a->id()) < dispatched(best->id())) best = a;
        }
        break;
      case Mode::kQueue: {
        std::size_t ties = 1;
        for (const Instance* a : candidates.subspan(1)) {
          if (a->num_waiting() < best->num_waiting()) {
            best = a;
            ties = 1;
          } else if (a->num_waiting() == best->num_waiting() &&
                     rng_.next_u64() % ++ties == 0) {  // reservoir: uniform among the ties
            best = a;
          }
        }
        break;
      }
    }
    const auto id = static_cast<std::size_t>(best->id());
    if (id >= dispatched_.size()) dispatched_.resize(id + 1, 0);
    ++dispatched_[id];
    return best->id();
  }

 private:
  // The freeness the dispatcher believes: live, or as of the last refresh.
  double seen(const Instance& a) {
    if (refresh_ns_ == 0) return freeness(a);
    const auto i = static_cast<std::size_t>(a.id());
    if (i >= cached_.size()) cached_.resize(i + 1, Cached{0, 0});
    if (cached_[i].epoch != epoch_) cached_[i] = Cached{freeness(a), epoch_};
    return cached_[i].freeness;
  }
  double freeness(const Instance& a) const {
    return llumnix::dispatch_freeness(
        a.state(), a.kv().free_blocks(), a.watermark_blocks(), a.waiting_demand_blocks(),
        static_cast<std::int64_t>(a.num_running()), static_cast<std::int64_t>(a.num_waiting()),
        a.high_priority_requests(), headroom_blocks_);
  }
  std::int64_t dispatched(InstanceId id) const {
    const auto i = static_cast<std::size_t>(id);
    return i < dispatched_.size() ? dispatched_[i] : 0;
  }

  struct Cached {
    double freeness;
    std::uint64_t epoch;  // the refresh it was read at
  };
  Mode mode_ = Mode::kLoad;
  TimeNs refresh_ns_ = 0;
  TimeNs next_refresh_ns_ = 0;
  std::uint64_t epoch_ = 0;
  std::vector<Cached> cached_;  // by instance id
  double headroom_blocks_ = 0;
  Rng rng_;
  std::vector<std::int64_t> dispatched_;  // by instance id
};

}  // namespace

SERVESIM_REGISTER(Router, LlumnixRouter, "llumnix",
                  "Llumnix dispatch: max freeness (load), fewest dispatched (balanced) or fewest "
                  "waiting (queue)")

}  // namespace servesim
