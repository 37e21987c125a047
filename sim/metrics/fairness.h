// sim/metrics/fairness.h — service per client over time, as the VTC artifact measures it
// (fair_bench/plot/visualize.py; ALGORITHMS.md §4.1 "Metrics"), without per-token events.
//
// A finished request's service, w_p·input + w_q·output (defaults 1 and 2, as the artifact's
// cost_func), is spread uniformly over [first token, finish]; its demand (the same formula with
// its true lengths) counts at its arrival, rejected or not. Both go into buckets of
// window_s / 10, kept sparse: the meter holds only buckets where something happened (a sparse run
// spanning 10^8 s costs what its requests touch, not 10^7 empty buckets), and each finished
// request costs O(buckets it spans · log buckets).
//
// Results, over the fairness horizon [0, last arrival] (the artifact evaluates up to its last
// request time; after it the backlog drains and every client ends fully served):
//  * windows(): per client and tumbling window of window_s, the input/output tokens and service
//    received and the demand that arrived (the `client_service` table);
//  * service_diff_acc_max: max over bucket boundaries t ≤ horizon of
//    max_u A_u(t) − min_u A_u(t), A the accumulated service (the artifact's accumulated
//    difference; every client seen counts);
//  * service_diff_window_max: max over windows of max_j min(max_k y_k − y_j, d_j − y_j), y the
//    service rate and d the demand rate in the window (per second; the artifact's windowed
//    difference, which does not count a client that asked for less as treated unfairly), and
//    service_diff_window_mean, its mean over the windows (the artifact's "Avg Diff");
//  * jain_index: Jain's index (Σx)²/(n·Σx²) of x_u = S_u / s_u over clients, S_u the service
//    received by the horizon and s_u the max-min fair share of ΣS given the demands (water
//    filling): 1 when every client got its fair share;
//  * per client: service by the horizon and its share of the total.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "sim/core/time.h"

namespace servesim {

struct FairnessOptions {
  double window_s = 60;
  double input_weight = 1;   // w_p
  double output_weight = 2;  // w_q
};

class FairnessMeter {
 public:
  explicit FairnessMeter(FairnessOptions o);

  void arrival(std::uint32_t client, TimeNs arrival_ns, std::int64_t prompt_tokens,
               std::int64_t output_tokens);
  void served(std::uint32_t client, TimeNs first_token_ns, TimeNs finish_ns,
              std::int64_t prompt_tokens, std::int64_t output_tokens);

  struct WindowRow {
    std::uint32_t client = 0;
    double window_start_s = 0;
    double input_tokens = 0, output_tokens = 0, service = 0, demand = 0;
  };
  // Every client × window in which some client received service or demand arrived (windows in
  // which nothing happened have no rows: their values are all 0).
  std::vector<WindowRow> windows() const;

  struct Result {
    double horizon_s = 0;
    double service_diff_acc_max = 0;
    double service_diff_window_max = 0;
    double service_diff_window_mean = 0;  // over the windows that start before the horizon
    double jain_index = 1;
    std::map<std::uint32_t, double> service;  // by the horizon
    std::map<std::uint32_t, double> share;
  };
  Result result() const;

 private:
  struct Bucket {
    double input = 0, output = 0, demand = 0;
  };
  double service(const Bucket& b) const {
    return o_.input_weight * b.input + o_.output_weight * b.output;
  }

  FairnessOptions o_;
  TimeNs bucket_ns_;
  static constexpr int kBucketsPerWindow = 10;
  using Buckets = std::map<std::size_t, Bucket>;  // bucket index → sums (sparse)
  std::map<std::uint32_t, Buckets> clients_;
  TimeNs last_arrival_ns_ = 0;
};

}  // namespace servesim
