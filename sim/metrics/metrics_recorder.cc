// sim/metrics/metrics_recorder.cc — see metrics_recorder.h.
#include "sim/metrics/metrics_recorder.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "sim/metrics/sqlite_sink.h"

namespace servesim {

MetricsRecorder::MetricsRecorder(SqliteSink* sink, bool record_iterations, SloSpec slo,
                                 std::vector<std::string> pool_names,
                                 std::function<int(InstanceId)> pool_of, FairnessOptions fairness)
    : sink_(sink),
      record_iterations_(record_iterations),
      slo_(slo),
      pool_names_(std::move(pool_names)),
      pool_of_(std::move(pool_of)),
      fairness_(fairness) {
  if (pool_names_.size() > 1) {
    pools_.resize(pool_names_.size());
    pool_tbt_ns_.resize(pool_names_.size());
  }
}

MetricsRecorder::Counters& MetricsRecorder::client(std::uint32_t id) {
  if (last_client_counters_ == nullptr || id != last_client_) {
    last_client_ = id;
    last_client_counters_ = &clients_[id];
  }
  return *last_client_counters_;
}

MetricsRecorder::Counters* MetricsRecorder::pool_of_instance(InstanceId id) {
  if (pools_.empty() || id < 0) return nullptr;
  return &pools_[static_cast<std::size_t>(pool_of_(id))];
}

void MetricsRecorder::note_client(std::uint32_t id) {
  if (!any_client_) {
    any_client_ = true;
    first_client_ = id;
    return;
  }
  if (multi_client_ || id == first_client_) return;
  // A second client: every sample so far was the first client's.
  multi_client_ = true;
  client_of_.assign(samples_.ttft.size(), first_client_);
  tpot_client_of_.assign(samples_.tpot.size(), first_client_);
}

void MetricsRecorder::on_arrival(const RequestState& r) {
  backlog_.arrival(run_.arrived, run_.arrived - run_.finished - run_.rejected);
  run_.arrive(r.req.arrival_ns);
  client(r.req.client_id).arrive(r.req.arrival_ns);
  note_client(r.req.client_id);
  fairness_.arrival(r.req.client_id, r.req.arrival_ns, r.req.prompt_tokens, r.req.output_tokens);
}

void MetricsRecorder::on_reject(const RequestState& r) {
  ++run_.rejected;
  ++client(r.req.client_id).rejected;
  if (Counters* p = pool_of_instance(r.first_instance_id)) {
    p->arrive(r.req.arrival_ns);
    ++p->rejected;
  }
  if (sink_) sink_->add_request(r, nullptr);
}

void MetricsRecorder::on_admit(const RequestState& r) {
  for (Counters* c : {&run_, &client(r.req.client_id), pool_of_instance(r.instance_id)}) {
    if (!c) continue;
    c->admitted_tokens += r.prefill_target_tokens;
    c->cached_tokens += r.cached_tokens;
  }
}

void MetricsRecorder::on_preempt(const RequestState& r) {
  ++run_.preemptions;
  ++client(r.req.client_id).preemptions;
  if (Counters* p = pool_of_instance(r.instance_id)) ++p->preemptions;
}

void MetricsRecorder::on_finish(const RequestState& r) {
  const RequestMetrics m = request_metrics(r);
  const bool met = slo_.any() && m.meets(slo_);
  Counters* pool = pool_of_instance(r.first_instance_id);
  if (pool) pool->arrive(r.req.arrival_ns);
  for (Counters* c : {&run_, &client(r.req.client_id), pool}) {
    if (!c) continue;
    ++c->finished;
    c->output_tokens += r.req.output_tokens;
    c->last_finish_ns = std::max(c->last_finish_ns, r.finish_ns);
    c->slo_met += met ? 1 : 0;
  }
  fairness_.served(r.req.client_id, r.first_token_ns, r.finish_ns, r.req.prompt_tokens,
                   r.req.output_tokens);
  samples_.ttft.push_back(m.ttft_s);
  samples_.e2e.push_back(m.e2e_s);
  samples_.sched_delay.push_back(m.sched_delay_s);
  if (m.has_tpot) samples_.tpot.push_back(m.tpot_s);
  if (r.handoff_start_ns >= 0) {
    kv_transfer_s_.push_back(ns_to_s(r.handoff_end_ns - r.handoff_start_ns));
    bridge_wait_s_.push_back(ns_to_s(r.handoff_start_ns - r.prefill_done_ns));
  }
  if (multi_client_) {
    client_of_.push_back(r.req.client_id);
    if (m.has_tpot) tpot_client_of_.push_back(r.req.client_id);
  }
  if (pool) {
    const auto p = static_cast<std::uint16_t>(pool - pools_.data());
    pool_sample_.push_back(p);
    if (m.has_tpot) tpot_pool_sample_.push_back(p);
  }
  if (sink_) sink_->add_request(r, &m);
}

void MetricsRecorder::on_iteration(const IterationRecord& it) {
  auto count = [&it](Counters& c) {
    ++c.iterations;
    c.batch_seqs += it.batch_size;
    c.prefill_tokens += it.prefill_tokens;
  };
  count(run_);
  if (!pools_.empty()) count(*pool_of_instance(it.instance_id));
  if (record_iterations_ && sink_) sink_->add_iteration(it);
}

void MetricsRecorder::on_tbt(InstanceId instance, TimeNs gap_ns, std::int64_t count) {
  tbt_ns_.add(gap_ns, count);
  if (!pool_tbt_ns_.empty())
    pool_tbt_ns_[static_cast<std::size_t>(pool_of_(instance))].add(gap_ns, count);
}

void MetricsRecorder::on_transfer(const TransferRecord& t) {
  if (sink_) sink_->add_transfer(t);
}

void MetricsRecorder::on_sample(TimeNs now, std::span<const InstanceLoad> loads) {
  if (sink_) sink_->add_samples(now, loads);
}

void MetricsRecorder::rows(const Counters& c, Samples& s, WeightedSamples* tbt, bool per_iteration,
                           SummaryRows& out) const {
  // A metric with no sample to define it (no finished request, no multi-token output, no
  // makespan) is NaN, which the database stores as NULL and no objective counts as met.
  const double undefined = std::numeric_limits<double>::quiet_NaN();
  auto add = [&](const std::string& name, double v) { out.emplace_back(name, v); };
  auto add_percentiles = [&](const std::string& stem, std::vector<double>& v,
                             std::initializer_list<int> ps) {
    const std::vector<double> values = percentiles(v, std::vector<double>(ps.begin(), ps.end()));
    std::size_t i = 0;
    for (int p : ps)
      add(stem + "_p" + std::to_string(p) + "_s", v.empty() ? undefined : values[i++]);
    add(stem + "_mean_s",
        v.empty() ? undefined
                  : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()));
  };
  add("requests_arrived", static_cast<double>(c.arrived));
  add("requests_completed", static_cast<double>(c.finished));
  add("requests_rejected", static_cast<double>(c.rejected));
  add_percentiles("ttft", s.ttft, {50, 90, 99});
  add_percentiles("tpot", s.tpot, {50, 90, 99});
  if (tbt) {
    for (int p : {50, 90, 99})
      add("tbt_p" + std::to_string(p) + "_s", tbt->count() ? tbt->percentile(p) * 1e-9 : undefined);
    add("tbt_max_s", tbt->count() ? ns_to_s(tbt->max()) : undefined);
  }
  add_percentiles("e2e", s.e2e, {50, 90, 99});
  add_percentiles("sched_delay", s.sched_delay, {50, 99});
  const double span_s = c.first_arrival_ns >= 0 && c.last_finish_ns > c.first_arrival_ns
                            ? ns_to_s(c.last_finish_ns - c.first_arrival_ns)
                            : 0.0;
  add("makespan_s", span_s);
  add("throughput_tok_s", span_s > 0 ? static_cast<double>(c.output_tokens) / span_s : undefined);
  add("throughput_req_s", span_s > 0 ? static_cast<double>(c.finished) / span_s : undefined);
  if (per_iteration) add("prefill_tokens", static_cast<double>(c.prefill_tokens));
  add("output_tokens", static_cast<double>(c.output_tokens));
  add("preemptions", static_cast<double>(c.preemptions));
  add("prefix_hit_rate", c.admitted_tokens ? static_cast<double>(c.cached_tokens) /
                                                 static_cast<double>(c.admitted_tokens)
                                           : undefined);
  if (per_iteration) {
    add("iterations", static_cast<double>(c.iterations));
    add("mean_batch_size",
        c.iterations ? static_cast<double>(c.batch_seqs) / static_cast<double>(c.iterations)
                     : undefined);
  }
  if (slo_.any()) {
    add("slo_attainment",
        c.arrived ? static_cast<double>(c.slo_met) / static_cast<double>(c.arrived) : undefined);
    add("slo_met_req_s", span_s > 0 ? static_cast<double>(c.slo_met) / span_s : undefined);
  }
}

namespace {

// The samples of `v` whose tag is `want` (tags[i] tags v[i]).
template <class Tag>
std::vector<double> select(const std::vector<double>& v, const std::vector<Tag>& tags, Tag want) {
  std::vector<double> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (tags[i] == want) out.push_back(v[i]);
  }
  return out;
}

}  // namespace

SummaryRows MetricsRecorder::summary() {
  // Scoped rows first: the run's percentiles reorder the samples.
  scoped_.clear();
  auto emit = [&](const std::string& scope, const Counters& c, Samples s, WeightedSamples* tbt,
                  bool per_iteration) {
    SummaryRows r;
    rows(c, s, tbt, per_iteration, r);
    for (auto& [metric, value] : r) scoped_.push_back(ScopedRow{scope, metric, value});
  };
  for (std::size_t p = 0; p < pools_.size(); ++p) {
    const auto tag = static_cast<std::uint16_t>(p);
    Samples s{
        select(samples_.ttft, pool_sample_, tag), select(samples_.tpot, tpot_pool_sample_, tag),
        select(samples_.e2e, pool_sample_, tag), select(samples_.sched_delay, pool_sample_, tag)};
    emit("pool:" + pool_names_[p], pools_[p], std::move(s), &pool_tbt_ns_[p], true);
  }
  const FairnessMeter::Result fair = fairness_.result();
  if (multi_client_) {
    for (const auto& [id, counters] : clients_) {
      Samples s{select(samples_.ttft, client_of_, id), select(samples_.tpot, tpot_client_of_, id),
                select(samples_.e2e, client_of_, id), select(samples_.sched_delay, client_of_, id)};
      const std::string scope = "client:" + std::to_string(id);
      emit(scope, counters, std::move(s), nullptr, false);
      const auto service = fair.service.find(id);
      scoped_.push_back(
          ScopedRow{scope, "service", service == fair.service.end() ? 0.0 : service->second});
      const auto share = fair.share.find(id);
      scoped_.push_back(
          ScopedRow{scope, "service_share", share == fair.share.end() ? 0.0 : share->second});
    }
  }
  if (sink_) sink_->add_client_service(fairness_.windows());
  SummaryRows out;
  rows(run_, samples_, &tbt_ns_, true, out);
  out.emplace_back("served_to_offered", backlog_.served_to_offered());
  out.emplace_back("mean_in_system", backlog_.mean_in_system());
  if (multi_client_) {
    out.emplace_back("service_diff_acc_max", fair.service_diff_acc_max);
    out.emplace_back("service_diff_window_max", fair.service_diff_window_max);
    out.emplace_back("service_diff_window_mean", fair.service_diff_window_mean);
    out.emplace_back("jain_index", fair.jain_index);
  }
  // Disaggregated runs: the KV hand-off's bridge wait and copy time per request.
  if (!kv_transfer_s_.empty()) {
    const std::vector<double> ps = {50, 99};
    const std::vector<double> x = percentiles(kv_transfer_s_, ps),
                              w = percentiles(bridge_wait_s_, ps);
    out.emplace_back("kv_transfer_p50_s", x[0]);
    out.emplace_back("kv_transfer_p99_s", x[1]);
    out.emplace_back("bridge_wait_p50_s", w[0]);
    out.emplace_back("bridge_wait_p99_s", w[1]);
  }
  return out;
}

}  // namespace servesim
