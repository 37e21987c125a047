// policies/control/scale_schedule.cc — `scale_schedule`: sets a pool's instance count at given
// times, for capacity-planning what-ifs ("add two replicas at t = 600 s"). At each `at_s[i]`
// the pool's target becomes `instances[i]`: instances that count toward it are those starting
// or active; missing ones are spawned (active after the pool's startup_s), extra ones are
// drained newest first (highest id: the last added goes first) and stop once they have finished
// what they hold. Draining never moves requests; migration is a different controller's job.
#include <algorithm>
#include <vector>

#include "policies/control/controller.h"

namespace servesim {
namespace {

class ScaleSchedule final : public Controller {
 public:
  ScaleSchedule(ConfigNode& cfg, const ControllerContext& ctx) : cluster_(*ctx.cluster) {
    const std::string pool = cfg.required<std::string>("pool", "name of the pool to resize");
    pool_ = -1;
    for (std::size_t i = 0; i < cluster_.pools().size(); ++i) {
      if (cluster_.pools()[i].spec.name == pool) pool_ = static_cast<int>(i);
    }
    if (pool_ < 0) {
      std::string names;
      for (const Pool& p : cluster_.pools()) names += (names.empty() ? "" : ", ") + p.spec.name;
      cfg.fail("pool", "no pool named '" + pool + "'; pools are: " + names);
    }
    const std::vector<double> at =
        cfg.required<std::vector<double>>("at_s", "times of the changes, s (increasing)");
    const std::vector<std::int64_t> n =
        cfg.required<std::vector<std::int64_t>>("instances", "instance count from each time on");
    if (at.size() != n.size() || at.empty())
      cfg.fail("instances", "needs one count per entry of at_s");
    for (std::size_t i = 0; i < at.size(); ++i) {
      if (!(at[i] >= 0 && at[i] < 1e9) || (i > 0 && at[i] <= at[i - 1])) {
        cfg.fail("at_s", "times must be increasing, in [0, 1e9) s");
      }
      if (n[i] < 0 || n[i] > 100000) cfg.fail("instances", "counts must be in [0, 100000]");
      const std::int64_t target = n[i];
      cluster_.sim().schedule_at(s_to_ns(at[i]), Phase::kControl,
                                 [this, target] { resize(target); });
    }
  }
  TimeNs period_ns() const override { return 0; }

 private:
  void resize(std::int64_t target) {
    std::vector<InstanceId> live;  // starting or active, in id order
    for (InstanceId id : cluster_.pools()[static_cast<std::size_t>(pool_)].members) {
      const InstanceState s = cluster_.instance(id).state();
      if (s == InstanceState::kStarting || s == InstanceState::kActive) live.push_back(id);
    }
    for (auto n = static_cast<std::int64_t>(live.size()); n < target; ++n) cluster_.spawn(pool_);
    for (auto n = static_cast<std::int64_t>(live.size()); n > target; --n)
      cluster_.drain(live[static_cast<std::size_t>(n - 1)]);
  }

  Cluster& cluster_;
  int pool_ = -1;
};

}  // namespace

SERVESIM_REGISTER(Controller, ScaleSchedule, "scale_schedule",
                  "sets a pool's instance count at given times (spawn, or drain newest first)")

}  // namespace servesim
