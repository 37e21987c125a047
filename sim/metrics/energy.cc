// sim/metrics/energy.cc — see energy.h.
#include "sim/metrics/energy.h"

namespace servesim {

EnergyMeter::EnergyMeter(std::vector<PoolPower> pools, std::function<int(InstanceId)> pool_of)
    : pools_(std::move(pools)),
      pool_of_(std::move(pool_of)),
      busy_device_s_(pools_.size(), 0.0),
      active_extra_j_(pools_.size(), 0.0) {}

void EnergyMeter::on_iteration(const IterationRecord& it) {
  const auto p = static_cast<std::size_t>(pool_of_(it.instance_id));
  const PoolPower& pool = pools_[p];
  const double device_s = ns_to_s(it.duration_ns) * pool.tp;
  busy_device_s_[p] += device_s;
  active_extra_j_[p] += device_s * (pool.tdp_w - pool.idle_w) * it.kernel_fraction;
}

std::vector<ScopedRow> EnergyMeter::rows(const std::vector<double>& up_s, double completed,
                                         double output_tokens) const {
  std::vector<double> up_device_s(pools_.size(), 0.0);
  for (std::size_t i = 0; i < up_s.size(); ++i) {
    const auto p = static_cast<std::size_t>(pool_of_(static_cast<InstanceId>(i)));
    up_device_s[p] += up_s[i] * pools_[p].tp * pools_[p].pp;
  }
  std::vector<ScopedRow> out;
  double hours = 0, energy = 0, cost = 0;
  for (std::size_t p = 0; p < pools_.size(); ++p) {
    const double h = up_device_s[p] / 3600.0;
    const double e = up_device_s[p] * pools_[p].idle_w + active_extra_j_[p];
    const double c = h * pools_[p].usd_per_hour;
    hours += h;
    energy += e;
    cost += c;
    if (pools_.size() > 1) {
      const std::string scope = "pool:" + pools_[p].name;
      out.push_back({scope, "device_hours", h});
      out.push_back({scope, "energy_j", e});
      out.push_back({scope, "cost_usd", c});
    }
  }
  out.push_back({"run", "device_hours", hours});
  out.push_back({"run", "energy_j", energy});
  out.push_back({"run", "cost_usd", cost});
  out.push_back({"run", "energy_per_request_j", completed > 0 ? energy / completed : 0.0});
  out.push_back({"run", "tokens_per_joule", energy > 0 ? output_tokens / energy : 0.0});
  out.push_back({"run", "cost_per_1k_requests", completed > 0 ? 1000.0 * cost / completed : 0.0});
  return out;
}

}  // namespace servesim
