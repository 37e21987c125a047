// traces/stats.h — summary statistics of a request stream, for `servesim trace stats` and tests:
// count, duration, mean rate, the coefficient of variation of inter-arrival gaps, length
// percentiles, number of clients, and the prefix-block reuse ratio with an infinite cache.
//
// Prefix reuse (the definition of ../shared/data/SOURCES.md): requests are visited in arrival
// order; a request's hit blocks are the longest run of its prefix_hashes, from the first, that
// already occurred in an earlier request (same block size); reuse = Σ hits / Σ blocks. Memory
// grows with the number of distinct blocks and with the request count (lengths are kept for the
// percentiles): this is an analysis tool, not a simulation path.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "traces/request.h"

namespace servesim {

struct LengthSummary {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0;
  std::int64_t max = 0;
};

struct TraceStats {
  std::int64_t requests = 0;
  double first_arrival_s = 0;
  double duration_s = 0;       // last arrival − first arrival
  double mean_rate_per_s = 0;  // (requests − 1) / duration_s (0 when undefined)
  double interarrival_cv = 0;  // stddev / mean of the gaps (population; 0 when undefined)
  LengthSummary prompt_tokens, output_tokens;
  std::int64_t clients = 0;
  std::int64_t prefix_blocks = 0;    // Σ len(prefix_hashes)
  std::int64_t prefix_distinct = 0;  // distinct (block size, hash) pairs
  std::int64_t prefix_hits = 0;
  double prefix_reuse = 0;                // prefix_hits / prefix_blocks (0 without hashes)
  std::vector<std::int32_t> block_sizes;  // distinct prefix_block_tokens seen (sorted)

  // A human-readable table.
  std::string to_text() const;
  // One JSON object (keys as the fields above).
  std::string to_json() const;
};

class TraceStatsBuilder {
 public:
  void add(const Request& r);
  TraceStats finish();

 private:
  TraceStats s_;
  bool first_ = true;
  std::int64_t prev_ns_ = 0, first_ns_ = 0;
  double gap_mean_ = 0, gap_m2_ = 0;
  std::int64_t gaps_ = 0;
  std::vector<std::int32_t> prompt_, output_;
  std::unordered_set<std::uint32_t> clients_;
  std::unordered_set<std::uint64_t> seen_blocks_;
  std::vector<std::int32_t> block_sizes_;
};

}  // namespace servesim
