// sim/metrics/metrics_recorder.h — the observer that turns signals into results: one `requests`
// row per finished or rejected request, optional `iterations` rows, and the run's `summary`
// metrics (latency percentiles, throughput, SLO attainment). Percentiles use numpy's default
// (linear) rule; TPOT percentiles cover requests with more than one output token; TBT
// percentiles weight every emitted token's gap equally (ALGORITHMS.md §0 definitions).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/metrics/percentile.h"
#include "sim/world/observer.h"

namespace servesim {

class SqliteSink;

struct SloSpec {
  double ttft_s = 0;  // 0 = no TTFT objective
  double tpot_s = 0;  // 0 = no TPOT objective
  bool any() const { return ttft_s > 0 || tpot_s > 0; }
};

using SummaryRows = std::vector<std::pair<std::string, double>>;

class MetricsRecorder final : public Observer {
 public:
  // `sink` may be null (no database; summary only).
  MetricsRecorder(SqliteSink* sink, bool record_iterations, SloSpec slo);

  void on_arrival(const RequestState& r) override;
  void on_reject(const RequestState& r) override;
  void on_admit(const RequestState& r) override;
  void on_preempt(const RequestState& r) override;
  void on_finish(const RequestState& r) override;
  void on_iteration(const IterationRecord& it) override;
  void on_tbt(InstanceId instance, TimeNs gap_ns, std::int64_t count) override;

  // The summary metrics, in a fixed order. Call once, after the run.
  SummaryRows summary();
  std::int64_t arrived() const { return arrived_; }
  std::int64_t finished() const { return finished_; }
  std::int64_t rejected() const { return rejected_; }

 private:
  SqliteSink* sink_;
  bool record_iterations_;
  SloSpec slo_;
  std::int64_t arrived_ = 0, finished_ = 0, rejected_ = 0, preemptions_ = 0;
  std::int64_t iterations_ = 0, batch_seqs_total_ = 0, prefill_tokens_ = 0, output_tokens_ = 0;
  std::int64_t slo_met_ = 0;
  std::int64_t admitted_tokens_ = 0, cached_tokens_ = 0;
  TimeNs first_arrival_ns_ = -1, last_finish_ns_ = 0;
  std::vector<double> ttft_s_, tpot_s_, e2e_s_, sched_delay_s_;
  WeightedSamples tbt_ns_;
};

}  // namespace servesim
