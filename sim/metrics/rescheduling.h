// sim/metrics/rescheduling.h — what rescheduling did and what it was up against (Llumnix,
// ALGORITHMS.md §5.6): the `migrations` table and its summary (migrations done, aborts by
// reason, downtime percentiles, blocks copied), the preemption loss (prompt + generated tokens
// prefilled again after recompute preemptions, net of prefix-cache hits), and memory
// fragmentation from the instance samples (output.sample_every_s > 0).
//
// Fragmentation (our definition, §5.6): a sample is fragmented when some instance's head-of-line
// request is blocked for memory there (its demand exceeds free − watermark) while the free
// blocks of all active instances together (net of watermarks) would hold it. Reported: the
// share of samples that are fragmented, and the mean over all samples of the free blocks
// stranded then (0 in samples that are not), also as a fraction of all KV blocks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/world/observer.h"

namespace servesim {

class SqliteSink;

class ReschedulingMeter final : public Observer {
 public:
  explicit ReschedulingMeter(SqliteSink* sink) : sink_(sink) {}
  void on_admit(const RequestState& r) override;
  void on_migration(const MigrationRecord& m) override;
  void on_sample(TimeNs now, std::span<const InstanceLoad> loads) override;

  // Run-scope rows: preemption_loss_tokens always; migration rows when any migration began;
  // fragmentation rows when instances were sampled.
  std::vector<std::pair<std::string, double>> summary() const;

 private:
  SqliteSink* sink_;
  std::int64_t preemption_loss_tokens_ = 0;
  std::int64_t migrations_ = 0, migrated_blocks_ = 0;
  std::map<std::string, std::int64_t> aborts_;  // by reason
  std::vector<double> downtime_s_;
  std::int64_t samples_ = 0, fragmented_ = 0;
  double stranded_blocks_ = 0, stranded_fraction_ = 0;  // sums over samples
};

}  // namespace servesim
