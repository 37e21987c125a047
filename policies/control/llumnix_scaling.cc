// policies/control/llumnix_scaling.cc — `llumnix_scaling`: Llumnix's auto-scaling of one pool
// (ALGORITHMS.md §5.5, `avg_load` policy). Every scaling_interval_s it pools the freeness of the
// pool's active instances (policies/control/freeness.h: Σ free − watermark − waiting demand over
// Σ running + waiting, in blocks per request):
//   scale up   when the pooled F < scale_up_threshold (10): spawn instances — each counted as
//              empty (its KV blocks free) — until the pooled F would reach the threshold, at
//              most max_instances starting or active; a spawned instance serves after the
//              pool's startup_s (default: its weight shard over the host link);
//   scale down when the pooled F computed without the active instance holding the fewest
//              requests (ties: the newest) exceeds scale_down_threshold (60) and more than
//              min_instances are starting or active: that instance drains. Its requests leave by
//              migration when the `llumnix_migration` controller runs on the same pool (a
//              draining instance has F = −∞: it is the first source), else it serves them out;
//              it stops once empty. One instance per interval, as Llumnix does.
// Starting instances count toward max_instances but not toward the pooled freeness of scale
// down. Instance counts over time are in instance_samples; average instances and device-hours
// in the summary. Cost per tick: O(pool instances).
#include <algorithm>
#include <vector>

#include "policies/control/controller.h"
#include "policies/control/freeness.h"

namespace servesim {
namespace {

class LlumnixScaling final : public Controller {
 public:
  LlumnixScaling(ConfigNode& cfg, const ControllerContext& ctx) : cluster_(*ctx.cluster) {
    const std::vector<Pool>& pools = cluster_.pools();
    std::string names;
    const std::string name = cfg.get<std::string>("pool", pools.empty() ? "" : pools[0].spec.name,
                                                  "pool to scale (default: the first)");
    for (std::size_t i = 0; i < pools.size(); ++i) {
      if (pools[i].spec.name == name) pool_ = static_cast<int>(i);
      names += (names.empty() ? "" : ", ") + pools[i].spec.name;
    }
    if (pool_ < 0) cfg.fail("pool", "no pool named '" + name + "'; pools are: " + names);
    if (pools[static_cast<std::size_t>(pool_)].spec.role != InstanceRole::kColocated)
      cfg.fail("pool", "pool '" + name + "' is not colocated");
    period_ns_ = s_to_ns(cfg.get<double>("scaling_interval_s", 10.0, "period of the decision, s",
                                         InRange(1e-3, 1e6)));
    up_ = cfg.get<double>("scale_up_threshold", 10.0,
                          "scale up while the pooled freeness is below this (blocks per request)",
                          InRange(-1e9, 1e9));
    down_ = cfg.get<double>("scale_down_threshold", 60.0,
                            "scale down when the pooled freeness without one instance exceeds "
                            "this (blocks per request)",
                            InRange(-1e9, 1e9));
    if (down_ <= up_)
      cfg.fail("scale_down_threshold", "must exceed scale_up_threshold (or the pool oscillates)");
    min_ = cfg.get<std::int64_t>("min_instances", 1, "fewest instances kept", AtLeast(1));
    max_ = cfg.required<std::int64_t>("max_instances", "most instances starting or active",
                                      AtLeast(1));
    if (max_ < min_) cfg.fail("max_instances", "is below min_instances");
  }

  TimeNs period_ns() const override { return period_ns_; }

  void tick() override {
    loads_.clear();
    std::int64_t live = 0;  // starting or active
    const Instance* empty_kind = nullptr;
    for (InstanceId id : cluster_.pools()[static_cast<std::size_t>(pool_)].members) {
      const Instance& inst = cluster_.instance(id);
      if (inst.state() == InstanceState::kStarting) ++live;
      if (inst.state() != InstanceState::kActive) continue;
      ++live;
      loads_.push_back(inst.load());
      empty_kind = &inst;
    }
    if (empty_kind == nullptr) return;
    double f = llumnix::pooled_freeness(loads_);
    if (f < up_) {
      // Starting instances are counted as empty ones already (they will be).
      InstanceLoad fresh;
      fresh.kv_total_blocks = fresh.kv_free_blocks = empty_kind->kv().total_blocks();
      fresh.watermark_blocks = empty_kind->load().watermark_blocks;
      for (std::int64_t n = live - static_cast<std::int64_t>(loads_.size()); n > 0; --n)
        loads_.push_back(fresh);
      f = llumnix::pooled_freeness(loads_);
      while (f < up_ && live < max_) {
        cluster_.spawn(pool_);
        ++live;
        loads_.push_back(fresh);
        f = llumnix::pooled_freeness(loads_);
      }
      return;
    }
    if (live <= min_) return;
    // The active instance with the fewest requests (ties: the newest) is the one to let go.
    std::ptrdiff_t victim = -1;
    for (std::size_t i = 0; i < loads_.size(); ++i) {
      const std::int64_t n = loads_[i].running + loads_[i].waiting + loads_[i].swapped;
      const InstanceLoad& v = loads_[static_cast<std::size_t>(std::max<std::ptrdiff_t>(victim, 0))];
      if (victim < 0 || n <= v.running + v.waiting + v.swapped)
        victim = static_cast<std::ptrdiff_t>(i);
    }
    if (llumnix::pooled_freeness(loads_, victim) > down_)
      cluster_.drain(loads_[static_cast<std::size_t>(victim)].instance);
  }

 private:
  Cluster& cluster_;
  int pool_ = -1;
  TimeNs period_ns_ = 0;
  double up_ = 10, down_ = 60;
  std::int64_t min_ = 1, max_ = 1;
  std::vector<InstanceLoad> loads_;
};

}  // namespace

SERVESIM_REGISTER(Controller, LlumnixScaling, "llumnix_scaling",
                  "Llumnix avg_load auto-scaling: spawn below freeness 10, drain one above 60 "
                  "(drained by migration when llumnix_migration runs)")

}  // namespace servesim
