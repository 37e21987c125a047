// sim/scenario/search.h — capacity (goodput) search: the highest arrival rate at which a scenario
// meets its objectives. Reused by `servesim capacity` and `servesim place`.
//
// An objective is a summary metric bound (`tbt_p99_s<=0.05`, `throughput_tok_s>=1000`) or a
// per-request objective (`ttft_s<=1`, `tpot_s<=0.1`), which sets the scenario's slo section and
// requires slo_attainment >= the attainment target (TTFT and TPOT met jointly per request, as
// DistServe counts it). The search (as Sarathi-Serve's): probe the start rate, double while it
// passes (halve while it fails) to bracket the capacity, then bisect until the bracket is
// narrower than `tolerance` of the rate (halving stops early once a failing run had under one
// request in the system on average: nothing passes, capacity 0). Pass/fail is assumed monotone
// in the rate. With
// `jobs` > 1 each round probes several rates at once (CapacityOptions::jobs).
//
// Stability: a run whose queue keeps growing is infeasible whatever its objectives say (a finite
// trace can meet a TBT bound while its backlog grows without end). A sample is unstable when its
// `served_to_offered` (sim/metrics/backlog.h) is below 1 − stability_tolerance and the backlog's
// growth over the second half of the arrivals, (1 − served_to_offered) × arrivals / 2, is also
// beyond its noise, 3·sqrt(2·mean_in_system + 1) requests (a stable backlog fluctuates about
// like a Poisson count of its mean). Runs too short to tell (fewer than 20 arrivals: undefined)
// are judged on their objectives alone. Measured on the quickstart at 9–24 req/s (stable, 2,000
// requests) served_to_offered lies in 0.998–1.03; at 200 requests, 0.92–0.95 at 6–12 req/s —
// noise the second condition absorbs.
//
// Results: `capacity` is the highest sampled rate that passed; `goodput` is DistServe's reading
// for per-request objectives — where the attainment-vs-rate curve crosses the target, linearly
// interpolated between the highest passing and the lowest failing sample (= capacity otherwise);
// per-device figures divide by the devices of the scenario's initial instances.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/config.h"
#include "sim/scenario/runner.h"

namespace servesim {

struct Objective {
  std::string key;
  bool at_most = true;  // <= (else >=)
  double bound = 0;
  bool per_request = false;  // ttft_s / tpot_s
};
// Parses "KEY<=VALUE" / "KEY>=VALUE"; throws UsageError naming the text.
Objective parse_objective(const std::string& text);

struct CapacitySample {
  double rate = 0;
  bool pass = false;
  bool unstable = false;  // failed the stability rule (its objectives may have passed)
  std::int64_t run_id = 0;
  std::map<std::string, double> metrics;
};

struct CapacityOptions {
  double attainment = 0.9;
  double tolerance = 0.025;
  int max_runs = 24;
  double start_rate = 1;
  // Probes run at once (threads): the bracket grows k doublings per round and the bisection
  // probes k evenly spaced rates inside it per round. Each probe writes a shard database next
  // to the scenario's, merged into it (in rate order) after each round. 1: one probe at a time.
  int jobs = 1;
  // A run with served_to_offered < 1 − this is infeasible; negative: no stability rule.
  double stability_tolerance = 0.05;
};

struct CapacityResult {
  double capacity = 0;                  // req/s; 0 when no sampled rate passed
  double goodput = 0;                   // interpolated (see the header)
  int devices = 0;                      // of the initial instances
  std::vector<CapacitySample> samples;  // by rate
  double capacity_per_device() const { return devices > 0 ? capacity / devices : 0; }
  double goodput_per_device() const { return devices > 0 ? goodput / devices : 0; }
};

// The stability rule above, on a run's summary metrics.
bool keeps_growing(const std::map<std::string, double>& metrics, double tolerance);

// Builds the scenario at `rate` (objectives' slo keys already applied by the search).
using ScenarioAtRate = std::function<std::shared_ptr<ConfigTree>(double rate)>;

CapacityResult find_capacity(const ScenarioAtRate& make_tree,
                             const std::vector<Objective>& objectives,
                             const CapacityOptions& options, const RunOptions& run_options,
                             const std::function<void(const CapacitySample&)>& on_sample = {});

}  // namespace servesim
