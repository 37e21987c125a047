// sim/world/observer.h — the typed signals the world emits, and the observer interface that
// metrics, the SQLite sink, the progress line and the invariant checker implement. The world
// knows nothing of its observers; observers never change the world.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sim/core/time.h"
#include "sim/world/instance_load.h"
#include "sim/world/request_state.h"

namespace servesim {

struct IterationRecord {
  std::int32_t instance_id = 0;
  std::int64_t iteration = 0;  // per instance, from 0
  TimeNs start_ns = 0;
  TimeNs duration_ns = 0;
  std::int64_t prefill_tokens = 0;  // new tokens computed for prefill segments
  std::int64_t decode_tokens = 0;   // one per decoding request
  std::int64_t num_prefills = 0;    // prefill segments
  std::int64_t batch_size = 0;      // sequences in the batch (segments + decodes)
  std::int64_t kv_blocks_used = 0;  // after the batch was formed
  std::int64_t kv_blocks_total = 0;
  std::int64_t running = 0;       // requests holding KV on the instance
  double kernel_fraction = 1;     // share of the modelled time in kernels (not comm/overhead)
  std::int64_t token_budget = 0;  // the batcher's limits, for the invariant checker
  std::int64_t seq_budget = 0;
};

// A KV cache copied between instances (a prefill → decode hand-off; later migrations).
struct TransferRecord {
  std::uint64_t request_id = 0;
  const char* kind = "kv_handoff";  // static string
  InstanceId src = -1, dst = -1;
  double bytes = 0;
  TimeNs start_ns = 0, end_ns = 0;
};

// A live migration of a running request (Llumnix, ALGORITHMS.md §5.4), done or aborted.
struct MigrationRecord {
  std::uint64_t request_id = 0;
  InstanceId src = -1, dst = -1;
  TimeNs start_ns = 0, end_ns = 0;
  std::int32_t stages = 0;       // stages started (the final one included)
  std::int64_t blocks = 0;       // KV blocks copied (all stages)
  std::int64_t tokens = 0;       // the request's context when it started (prompt + generated)
  TimeNs downtime_ns = -1;       // the final stage: request stopped → running on dst (−1: none)
  const char* mode = "live";     // live | blocking | recompute (static strings)
  const char* outcome = "done";  // done | aborted
  const char* reason = nullptr;  // why it aborted (static string), else null
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_arrival(const RequestState&) {}
  virtual void on_reject(const RequestState&) {}
  // Admitted to a prefill on an instance (again after a preemption), KV allocated.
  virtual void on_admit(const RequestState&) {}
  virtual void on_first_token(const RequestState&) {}
  virtual void on_preempt(const RequestState&) {}
  virtual void on_finish(const RequestState&) {}
  virtual void on_iteration(const IterationRecord&) {}
  // `count` tokens were each emitted on `instance`, `gap_ns` after their request's previous
  // token (TBT samples).
  virtual void on_tbt(InstanceId /*instance*/, TimeNs /*gap_ns*/, std::int64_t /*count*/) {}
  virtual void on_transfer(const TransferRecord& /*t*/) {}
  virtual void on_migration(const MigrationRecord& /*m*/) {}
  // Every instance's load at `now` (output.sample_every_s), live instances in id order.
  virtual void on_sample(TimeNs /*now*/, std::span<const InstanceLoad> /*loads*/) {}
  // An instance changed state at `now` (also once at the start of the run, from kStarting).
  virtual void on_instance_state(InstanceId /*instance*/, InstanceState /*from*/,
                                 InstanceState /*to*/, TimeNs /*now*/) {}
};

class SignalBus {
 public:
  void subscribe(Observer* o) { observers_.push_back(o); }
  void arrival(const RequestState& r) {
    for (auto* o : observers_) o->on_arrival(r);
  }
  void reject(const RequestState& r) {
    for (auto* o : observers_) o->on_reject(r);
  }
  void admit(const RequestState& r) {
    for (auto* o : observers_) o->on_admit(r);
  }
  void first_token(const RequestState& r) {
    for (auto* o : observers_) o->on_first_token(r);
  }
  void preempt(const RequestState& r) {
    for (auto* o : observers_) o->on_preempt(r);
  }
  void finish(const RequestState& r) {
    for (auto* o : observers_) o->on_finish(r);
  }
  void iteration(const IterationRecord& it) {
    for (auto* o : observers_) o->on_iteration(it);
  }
  void tbt(InstanceId instance, TimeNs gap_ns, std::int64_t count) {
    for (auto* o : observers_) o->on_tbt(instance, gap_ns, count);
  }
  void transfer(const TransferRecord& t) {
    for (auto* o : observers_) o->on_transfer(t);
  }
  void migration(const MigrationRecord& m) {
    for (auto* o : observers_) o->on_migration(m);
  }
  void sample(TimeNs now, std::span<const InstanceLoad> loads) {
    for (auto* o : observers_) o->on_sample(now, loads);
  }
  void instance_state(InstanceId instance, InstanceState from, InstanceState to, TimeNs now) {
    for (auto* o : observers_) o->on_instance_state(instance, from, to, now);
  }

 private:
  std::vector<Observer*> observers_;
};

}  // namespace servesim
