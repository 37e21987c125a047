// sim/metrics/request_metrics.h — the per-request latency metrics, defined once (ALGORITHMS.md
// §0, DistServe's definitions): TTFT = first token − arrival; TPOT = (last token − first
// token) / (output − 1), undefined for one-token outputs (has_tpot false; stored as 0 and
// counted as meeting a TPOT objective, as DistServe counts them); E2E = last token − arrival;
// scheduling delay = first admission − arrival; max TBT = the longest gap between consecutive
// tokens. The recorder and the database writer both take them from here.
#pragma once

#include "sim/world/request_state.h"

namespace servesim {

struct SloSpec {
  double ttft_s = 0;  // 0 = no TTFT objective
  double tpot_s = 0;  // 0 = no TPOT objective
  bool any() const { return ttft_s > 0 || tpot_s > 0; }
};

struct RequestMetrics {
  double ttft_s = 0;
  double tpot_s = 0;  // 0 when !has_tpot
  bool has_tpot = false;
  double e2e_s = 0;
  double sched_delay_s = 0;
  double max_tbt_s = 0;

  // TTFT and TPOT objectives met jointly (DistServe's attainment).
  bool meets(const SloSpec& slo) const {
    return (slo.ttft_s <= 0 || ttft_s <= slo.ttft_s) && (slo.tpot_s <= 0 || tpot_s <= slo.tpot_s);
  }
};

// REQUIRES: r finished.
inline RequestMetrics request_metrics(const RequestState& r) {
  RequestMetrics m;
  const Request& q = r.req;
  m.ttft_s = ns_to_s(r.first_token_ns - q.arrival_ns);
  m.has_tpot = q.output_tokens > 1;
  if (m.has_tpot) m.tpot_s = ns_to_s(r.last_token_ns - r.first_token_ns) / (q.output_tokens - 1);
  m.e2e_s = ns_to_s(r.last_token_ns - q.arrival_ns);
  m.sched_delay_s = ns_to_s(r.admitted_ns - q.arrival_ns);
  m.max_tbt_s = ns_to_s(r.max_tbt_ns);
  return m;
}

}  // namespace servesim
