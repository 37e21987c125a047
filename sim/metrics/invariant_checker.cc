// sim/metrics/invariant_checker.cc — see invariant_checker.h.
#include "sim/metrics/invariant_checker.h"

#include <string>

#include "sim/world/cluster.h"

namespace servesim {

InvariantChecker::InvariantChecker(const Cluster& cluster, std::int64_t consistency_every)
    : cluster_(cluster), consistency_every_(consistency_every) {}

void InvariantChecker::on_arrival(const RequestState&) { ++arrived_; }

void InvariantChecker::on_reject(const RequestState& r) {
  ++rejected_;
  if (r.reject_reason == nullptr || r.reject_reason[0] == '\0') {
    throw InvariantViolation("request " + std::to_string(r.request_id) +
                             " rejected without a reason");
  }
}

void InvariantChecker::on_finish(const RequestState& r) {
  ++finished_;
  if (!(r.req.arrival_ns <= r.first_token_ns && r.first_token_ns <= r.last_token_ns &&
        r.last_token_ns <= r.finish_ns)) {
    throw InvariantViolation("request " + std::to_string(r.request_id) +
                             " has out-of-order timestamps");
  }
  if (r.generated_tokens != r.req.output_tokens) {
    throw InvariantViolation("request " + std::to_string(r.request_id) + " finished after " +
                             std::to_string(r.generated_tokens) + " of its " +
                             std::to_string(r.req.output_tokens) + " output tokens");
  }
}

void InvariantChecker::on_iteration(const IterationRecord& it) {
  ++iterations_;
  const std::int64_t tokens = it.prefill_tokens + it.decode_tokens;
  if (tokens > it.token_budget || it.batch_size > it.seq_budget || it.batch_size <= 0) {
    throw InvariantViolation("instance " + std::to_string(it.instance_id) + " iteration " +
                             std::to_string(it.iteration) + ": batch of " + std::to_string(tokens) +
                             " tokens / " + std::to_string(it.batch_size) +
                             " sequences exceeds its budget of " + std::to_string(it.token_budget) +
                             " / " + std::to_string(it.seq_budget));
  }
  if (it.kv_blocks_used > it.kv_blocks_total) {
    throw InvariantViolation("instance " + std::to_string(it.instance_id) +
                             ": KV pool over-committed");
  }
  // Full KV accounting of the instance that just formed a batch, every consistency_every-th
  // iteration (with 1, every batch of every instance).
  if (consistency_every_ > 0 && iterations_ % consistency_every_ == 0) {
    try {
      cluster_.instances().at(static_cast<std::size_t>(it.instance_id))->check_consistency();
    } catch (const std::logic_error& e) {
      throw InvariantViolation(e.what());
    }
  }
}

void InvariantChecker::check_end(std::size_t requests_in_flight) const {
  if (arrived_ != finished_ + rejected_ || requests_in_flight != 0) {
    throw InvariantViolation(std::to_string(arrived_) + " requests arrived but " +
                             std::to_string(finished_) + " finished and " +
                             std::to_string(rejected_) + " were rejected (" +
                             std::to_string(requests_in_flight) + " still in the system)");
  }
  for (const auto& inst : cluster_.instances()) {
    if (inst->kv().used_blocks() != 0) {
      throw InvariantViolation("instance " + std::to_string(inst->id()) + " ends with " +
                               std::to_string(inst->kv().used_blocks()) +
                               " KV blocks not returned");
    }
  }
}

}  // namespace servesim
