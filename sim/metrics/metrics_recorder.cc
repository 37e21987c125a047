// sim/metrics/metrics_recorder.cc — see metrics_recorder.h.
#include "sim/metrics/metrics_recorder.h"

#include <algorithm>
#include <numeric>

#include "sim/metrics/sqlite_sink.h"

namespace servesim {

MetricsRecorder::MetricsRecorder(SqliteSink* sink, bool record_iterations, SloSpec slo)
    : sink_(sink), record_iterations_(record_iterations), slo_(slo) {}

void MetricsRecorder::on_arrival(const RequestState& r) {
  ++arrived_;
  if (first_arrival_ns_ < 0) first_arrival_ns_ = r.req.arrival_ns;
}

void MetricsRecorder::on_reject(const RequestState& r) {
  ++rejected_;
  if (sink_) sink_->add_request(r);
}

void MetricsRecorder::on_admit(const RequestState& r) {
  admitted_tokens_ += r.prefill_target_tokens;
  cached_tokens_ += r.cached_tokens;
}

void MetricsRecorder::on_preempt(const RequestState&) { ++preemptions_; }

void MetricsRecorder::on_finish(const RequestState& r) {
  ++finished_;
  const Request& q = r.req;
  const double ttft = ns_to_s(r.first_token_ns - q.arrival_ns);
  ttft_s_.push_back(ttft);
  e2e_s_.push_back(ns_to_s(r.last_token_ns - q.arrival_ns));
  sched_delay_s_.push_back(ns_to_s(r.admitted_ns - q.arrival_ns));
  double tpot = 0;
  if (q.output_tokens > 1) {
    tpot = ns_to_s(r.last_token_ns - r.first_token_ns) / (q.output_tokens - 1);
    tpot_s_.push_back(tpot);
  }
  output_tokens_ += q.output_tokens;
  last_finish_ns_ = std::max(last_finish_ns_, r.finish_ns);
  if (slo_.any() && (slo_.ttft_s <= 0 || ttft <= slo_.ttft_s) && (slo_.tpot_s <= 0 || tpot <= slo_.tpot_s)) ++slo_met_;
  if (sink_) sink_->add_request(r);
}

void MetricsRecorder::on_iteration(const IterationRecord& it) {
  ++iterations_;
  batch_seqs_total_ += it.batch_size;
  prefill_tokens_ += it.prefill_tokens;
  if (record_iterations_ && sink_) sink_->add_iteration(it);
}

void MetricsRecorder::on_tbt(InstanceId, TimeNs gap_ns, std::int64_t count) { tbt_ns_.add(gap_ns, count); }

SummaryRows MetricsRecorder::summary() {
  SummaryRows rows;
  auto add = [&](const char* name, double v) { rows.emplace_back(name, v); };
  auto add_percentiles = [&](const char* stem, std::vector<double>& v, std::initializer_list<int> ps) {
    const std::vector<double> values = percentiles(v, std::vector<double>(ps.begin(), ps.end()));
    std::size_t i = 0;
    for (int p : ps) add((std::string(stem) + "_p" + std::to_string(p) + "_s").c_str(), values[i++]);
    add((std::string(stem) + "_mean_s").c_str(),
        v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()));
  };
  add("requests_arrived", static_cast<double>(arrived_));
  add("requests_completed", static_cast<double>(finished_));
  add("requests_rejected", static_cast<double>(rejected_));
  add_percentiles("ttft", ttft_s_, {50, 90, 99});
  add_percentiles("tpot", tpot_s_, {50, 90, 99});
  for (int p : {50, 90, 99}) {
    add(("tbt_p" + std::to_string(p) + "_s").c_str(), tbt_ns_.count() ? tbt_ns_.percentile(p) * 1e-9 : 0.0);
  }
  add("tbt_max_s", tbt_ns_.count() ? ns_to_s(tbt_ns_.max()) : 0.0);
  add_percentiles("e2e", e2e_s_, {50, 90, 99});
  add_percentiles("sched_delay", sched_delay_s_, {50, 99});
  const double span_s = first_arrival_ns_ >= 0 && last_finish_ns_ > first_arrival_ns_
                            ? ns_to_s(last_finish_ns_ - first_arrival_ns_)
                            : 0.0;
  add("makespan_s", span_s);
  add("throughput_tok_s", span_s > 0 ? static_cast<double>(output_tokens_) / span_s : 0.0);
  add("throughput_req_s", span_s > 0 ? static_cast<double>(finished_) / span_s : 0.0);
  add("prefill_tokens", static_cast<double>(prefill_tokens_));
  add("output_tokens", static_cast<double>(output_tokens_));
  add("preemptions", static_cast<double>(preemptions_));
  add("prefix_hit_rate", admitted_tokens_ ? static_cast<double>(cached_tokens_) / static_cast<double>(admitted_tokens_) : 0.0);
  add("iterations", static_cast<double>(iterations_));
  add("mean_batch_size", iterations_ ? static_cast<double>(batch_seqs_total_) / static_cast<double>(iterations_) : 0.0);
  if (slo_.any()) {
    const double attainment = arrived_ ? static_cast<double>(slo_met_) / static_cast<double>(arrived_) : 0.0;
    add("slo_attainment", attainment);
    add("goodput_req_s", span_s > 0 ? static_cast<double>(slo_met_) / span_s : 0.0);
  }
  return rows;
}

}  // namespace servesim
