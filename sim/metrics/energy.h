// sim/metrics/energy.h — energy, device-hours and cost of a run, per pool and in total.
//
// Power model (documented estimate, not a measurement): a device draws its catalog idle power
// (`idle_w`, with a CUDA context loaded) whenever it is up, plus (tdp_w − idle_w) × u while it
// runs an iteration, where u is the share of the iteration's modelled time spent in kernels
// (GEMM, attention, elementwise; communication and framework overhead count as idle). An
// iteration of duration L on an instance with tp × pp devices keeps device-seconds L × tp busy
// (each of the pp stages works L / pp on it). A device is up from its instance's activation to
// its stop (or the end of the run). Cost: device-hours × the pool's `usd_per_hour` (catalog
// price unless the pool overrides it).
//
// Summary rows (scope run and pool:NAME): device_hours, energy_j, cost_usd; per run also
// energy_per_request_j, tokens_per_joule and cost_per_1k_requests (over completed requests).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/metrics/metrics_recorder.h"

namespace servesim {

class EnergyMeter final : public Observer {
 public:
  struct PoolPower {
    std::string name;
    double tdp_w = 0, idle_w = 0, usd_per_hour = 0;
    int tp = 1, pp = 1;
  };
  EnergyMeter(std::vector<PoolPower> pools, std::function<int(InstanceId)> pool_of);
  void on_iteration(const IterationRecord& it) override;

  // `up_s[i]`: seconds instance i was up; returns the rows (scope, metric, value).
  std::vector<ScopedRow> rows(const std::vector<double>& up_s, double completed,
                              double output_tokens) const;

 private:
  std::vector<PoolPower> pools_;
  std::function<int(InstanceId)> pool_of_;
  std::vector<double> busy_device_s_;   // per pool
  std::vector<double> active_extra_j_;  // per pool: (tdp − idle) × u × busy device-seconds
};

}  // namespace servesim
