// sim/metrics/metrics_recorder.h — the observer that turns signals into results: one `requests`
// row per finished or rejected request, optional `iterations` and `instance_samples` rows, and
// the `summary` metrics (latency percentiles, throughput, SLO attainment) for the whole run and,
// when there is more than one, per pool ("pool:NAME") and per client ("client:ID").
// Percentiles use numpy's default (linear) rule; TPOT percentiles cover requests with more than
// one output token; TBT percentiles weight every emitted token's gap equally (ALGORITHMS.md §0;
// per-request formulas in request_metrics.h).
//
// Attribution: a request belongs to its client and to the pool of the instance it was first
// routed to (requests rejected before routing belong to no pool); iterations, TBT samples and
// preemptions to the pool of the instance where they happen. Client scopes have no TBT or
// iteration metrics (a decode step's gap is shared by many clients).
//
// Fairness (fairness.h): per-client service over time goes to the `client_service` table; with
// more than one client the run scope gets service_diff_acc_max, service_diff_window_max and
// jain_index, and each client scope its service and service_share.
//
// Memory: one double per finished request and metric, as before; the client and pool of each
// sample are kept only once a second client or pool exists.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/metrics/backlog.h"
#include "sim/metrics/fairness.h"
#include "sim/metrics/percentile.h"
#include "sim/metrics/request_metrics.h"
#include "sim/world/observer.h"

namespace servesim {

class SqliteSink;

using SummaryRows = std::vector<std::pair<std::string, double>>;
struct ScopedRow {
  std::string scope;  // "run", "pool:NAME", "client:ID"
  std::string metric;
  double value = 0;
};

class MetricsRecorder final : public Observer {
 public:
  // `sink` may be null (no database; summary only). `pool_names[i]` names pool i; `pool_of`
  // maps an instance id to its pool.
  MetricsRecorder(SqliteSink* sink, bool record_iterations, SloSpec slo,
                  std::vector<std::string> pool_names, std::function<int(InstanceId)> pool_of,
                  FairnessOptions fairness = {});

  void on_arrival(const RequestState& r) override;
  void on_reject(const RequestState& r) override;
  void on_admit(const RequestState& r) override;
  void on_preempt(const RequestState& r) override;
  void on_finish(const RequestState& r) override;
  void on_iteration(const IterationRecord& it) override;
  void on_tbt(InstanceId instance, TimeNs gap_ns, std::int64_t count) override;
  void on_sample(TimeNs now, std::span<const InstanceLoad> loads) override;
  void on_transfer(const TransferRecord& t) override;

  // The run's summary metrics, in a fixed order. Call once, after the run.
  SummaryRows summary();
  // Per-pool and per-client rows (empty with one pool and one client). Call after summary().
  const std::vector<ScopedRow>& scoped_summary() const { return scoped_; }
  std::int64_t arrived() const { return run_.arrived; }
  std::int64_t finished() const { return run_.finished; }
  std::int64_t rejected() const { return run_.rejected; }

 private:
  struct Counters {
    std::int64_t arrived = 0, finished = 0, rejected = 0, preemptions = 0, output_tokens = 0,
                 slo_met = 0;
    std::int64_t iterations = 0, batch_seqs = 0, prefill_tokens = 0, admitted_tokens = 0,
                 cached_tokens = 0;
    TimeNs first_arrival_ns = -1, last_finish_ns = 0;
    void arrive(TimeNs t) {
      ++arrived;
      if (first_arrival_ns < 0 || t < first_arrival_ns) first_arrival_ns = t;
    }
  };
  // Samples of one scope, gathered for its percentiles.
  struct Samples {
    std::vector<double> ttft, tpot, e2e, sched_delay;
  };
  Counters& client(std::uint32_t id);
  Counters* pool_of_instance(InstanceId id);
  void note_client(std::uint32_t id);
  void rows(const Counters& c, Samples& s, WeightedSamples* tbt, bool per_iteration,
            SummaryRows& out) const;

  SqliteSink* sink_;
  bool record_iterations_;
  SloSpec slo_;
  std::vector<std::string> pool_names_;
  std::function<int(InstanceId)> pool_of_;
  Counters run_;
  std::vector<Counters> pools_;                // per pool (when there are several)
  std::map<std::uint32_t, Counters> clients_;  // per client
  std::uint32_t last_client_ = 0;
  Counters* last_client_counters_ = nullptr;
  Samples samples_;  // the run's samples
  // The client (and pool) of each sample, once a second client (pool) exists.
  bool multi_client_ = false;
  std::uint32_t first_client_ = 0;
  bool any_client_ = false;
  std::vector<std::uint32_t> client_of_, tpot_client_of_;
  std::vector<std::uint16_t> pool_sample_, tpot_pool_sample_;
  WeightedSamples tbt_ns_;
  std::vector<double> kv_transfer_s_, bridge_wait_s_;  // disaggregated runs
  std::vector<WeightedSamples> pool_tbt_ns_;
  std::vector<ScopedRow> scoped_;
  FairnessMeter fairness_;
  BacklogTrace backlog_;  // the run's, for served_to_offered
};

}  // namespace servesim
