// sim/metrics/rescheduling.cc — see rescheduling.h.
#include "sim/metrics/rescheduling.h"

#include <numeric>

#include "sim/metrics/percentile.h"
#include "sim/metrics/sqlite_sink.h"

namespace servesim {

void ReschedulingMeter::on_admit(const RequestState& r) {
  // Every admission after a preemption re-prefills what the preemption threw away.
  if (r.preemptions > 0) preemption_loss_tokens_ += r.prefill_target_tokens - r.cached_tokens;
}

void ReschedulingMeter::on_migration(const MigrationRecord& m) {
  if (sink_) sink_->add_migration(m);
  if (m.reason) {
    ++aborts_[m.reason];
    return;
  }
  ++migrations_;
  migrated_blocks_ += m.blocks;
  if (m.downtime_ns >= 0) downtime_s_.push_back(ns_to_s(m.downtime_ns));
}

void ReschedulingMeter::on_sample(TimeNs, std::span<const InstanceLoad> loads) {
  ++samples_;
  std::int64_t free = 0, avail = 0, total = 0, blocked_demand = -1;
  for (const InstanceLoad& l : loads) {
    if (l.state == InstanceState::kActive) {  // memory a request could be placed in
      free += l.kv_free_blocks;
      avail += std::max<std::int64_t>(0, l.kv_free_blocks - l.watermark_blocks);
      total += l.kv_total_blocks;
    }
    if (l.waiting > 0 && l.head_demand_blocks > l.kv_free_blocks - l.watermark_blocks) {
      if (blocked_demand < 0 || l.head_demand_blocks < blocked_demand)
        blocked_demand = l.head_demand_blocks;  // the easiest blocked request to place
    }
  }
  if (blocked_demand >= 0 && avail >= blocked_demand) {
    ++fragmented_;
    stranded_blocks_ += static_cast<double>(free);
    if (total > 0) stranded_fraction_ += static_cast<double>(free) / static_cast<double>(total);
  }
}

std::vector<std::pair<std::string, double>> ReschedulingMeter::summary() const {
  std::vector<std::pair<std::string, double>> out;
  out.emplace_back("preemption_loss_tokens", static_cast<double>(preemption_loss_tokens_));
  std::int64_t aborts = 0;
  for (const auto& [reason, n] : aborts_) aborts += n;
  if (migrations_ + aborts > 0) {
    out.emplace_back("migrations", static_cast<double>(migrations_));
    out.emplace_back("migration_aborts", static_cast<double>(aborts));
    for (const auto& [reason, n] : aborts_)
      out.emplace_back("migration_aborts_" + reason, static_cast<double>(n));
    out.emplace_back("migrated_blocks", static_cast<double>(migrated_blocks_));
    std::vector<double> d = downtime_s_;
    const std::vector<double> p = percentiles(d, {50, 99});
    out.emplace_back("migration_downtime_p50_s", p[0]);
    out.emplace_back("migration_downtime_p99_s", p[1]);
    out.emplace_back(
        "migration_downtime_mean_s",
        d.empty() ? 0.0 : std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(d.size()));
  }
  if (samples_ > 0) {
    const auto n = static_cast<double>(samples_);
    out.emplace_back("fragmentation_share", static_cast<double>(fragmented_) / n);
    out.emplace_back("fragmentation_free_blocks_mean", stranded_blocks_ / n);
    out.emplace_back("fragmentation_free_fraction_mean", stranded_fraction_ / n);
  }
  return out;
}

}  // namespace servesim
