// sim/metrics/invariant_checker.h — an observer that checks, while the run goes and at its end:
//  1. no batch exceeds its batcher's token or sequence budget (every iteration);
//  2. a rejected request carries a reason; a finished one emitted exactly its output tokens,
//     in order (arrival <= first token <= last token <= finish);
//  3. KV accounting: every `consistency_every`-th batch, the requests, leases and reservations of
//     the instance that formed it hold exactly the blocks its pool has in use
//     (Instance::check_consistency);
//  4. at the end: every request that arrived finished or was rejected, and every KV block of
//     every instance (those spawned during the run included) is back in its pool.
// The checker reads the cluster's live instance set when it checks, never a copy.
// A violation throws InvariantViolation (an internal failure: exit 1, the run is rolled back).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "sim/world/observer.h"

namespace servesim {

class Cluster;

class InvariantViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

class InvariantChecker final : public Observer {
 public:
  InvariantChecker(const Cluster& cluster, std::int64_t consistency_every);

  void on_arrival(const RequestState& r) override;
  void on_reject(const RequestState& r) override;
  void on_finish(const RequestState& r) override;
  void on_iteration(const IterationRecord& it) override;

  // End-of-run checks; `requests_in_flight` is the request table's live count.
  void check_end(std::size_t requests_in_flight) const;
  std::int64_t iterations_checked() const { return iterations_; }

 private:
  const Cluster& cluster_;
  std::int64_t consistency_every_;
  std::int64_t arrived_ = 0, finished_ = 0, rejected_ = 0, iterations_ = 0;
};

}  // namespace servesim
