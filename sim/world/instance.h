// sim/world/instance.h — one model replica (tp × pp devices): its waiting queue, its running
// requests, its paged KV pool, and the mechanics of an iteration. The *policy* of which
// requests form the next batch belongs to a Batcher (policies/batching/); this class offers the
// batcher a small scheduling API and carries out what it decides.
//
// Iteration cycle: an idle instance that gets work schedules a kSchedule event; there the
// batcher forms a batch; the cost model prices it; a kCompletion event at start + duration
// applies it (tokens emitted, prefills advanced, requests finished, KV freed) and, if work
// remains, schedules the next kSchedule at the same time (after same-time arrivals).
//
// Decode without per-token work. In every iteration either all running decodes advance one
// token or none do (true of every batcher here). So the instance counts completed decode steps
// (decode_step_), and a decoding request is fully described by (join_step, kv_tokens_at_join,
// generated_at_join). A request is touched only when something happens to it: it needs a new KV
// block (every block_size tokens), it finishes, or it is preempted. A calendar of block_size+1
// buckets indexed by decode step holds each decoding request's next such step. The batch's
// attention cost needs Σ context, kept as a running aggregate. Max TBT per request is a range
// maximum over the instance's decode-step gaps, answered from a monotonic stack.
//
// vLLM's decode admission (can_append_slots) is reproduced exactly: running requests are checked
// in FCFS order, each needs one free block (whether or not it needs a new one); when none is
// free the newest running request is preempted (or the checked request itself if it is the
// newest). Only the requests at a block boundary change the free count, so only they and the
// first request checked with zero free blocks are visited.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "models/cost/cost_model.h"
#include "sim/core/simulation.h"
#include "sim/world/kv_block_pool.h"
#include "sim/world/observer.h"
#include "sim/world/request_state.h"

namespace servesim {

class Batcher;
class RequestTable;

class Instance {
 public:
  Instance(int id, Simulation& sim, RequestTable& requests, SignalBus& signals, KvBlockPool kv,
           std::unique_ptr<CostModel> cost_model, std::unique_ptr<Batcher> batcher);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  // ---- cluster-facing
  int id() const { return id_; }
  // A routed request joins the waiting queue; an idle instance wakes up.
  void enqueue(RequestSlot slot);
  // Load figures for routers and controllers.
  std::size_t num_waiting() const { return waiting_.size(); }
  std::size_t num_running() const { return running_.size(); }
  std::size_t num_decoding() const { return static_cast<std::size_t>(decode_count_); }
  std::size_t num_assigned() const { return waiting_.size() + running_.size(); }
  const KvBlockPool& kv() const { return kv_; }
  bool busy() const { return busy_; }
  const Batcher& batcher() const { return *batcher_; }
  std::int64_t iterations() const { return iteration_; }
  // Recounts KV blocks held by running requests; throws std::logic_error on a mismatch.
  // O(running requests): for invariant checks, not for the hot path.
  void check_consistency() const;

  // ---- scheduling API: valid only inside Batcher::schedule()
  TimeNs now() const { return sim_.now(); }
  std::deque<RequestSlot>& waiting() { return waiting_; }
  RequestState& request(RequestSlot slot);
  // Ongoing (admitted, incomplete) prefills in admission order.
  const std::vector<RequestSlot>& ongoing_prefills() const { return ongoing_prefills_; }
  // Tokens the front waiting request must prefill (prompt + tokens generated before a preemption).
  std::int32_t prefill_tokens_needed(RequestSlot slot);
  // Removes the front waiting request and reports it rejected with `reason` (a static string).
  void reject_front(const char* reason);
  // Admits the front waiting request: allocates `reserve_blocks` KV blocks (REQUIRES: free), and
  // puts its first chunk of `chunk_tokens` (> 0) in the batch.
  void admit_front(std::int32_t chunk_tokens, std::int64_t reserve_blocks);
  // Adds the next `chunk_tokens` of an ongoing prefill to the batch.
  void continue_prefill(RequestSlot slot, std::int32_t chunk_tokens);
  // Puts every running decode in the batch, allocating the KV blocks they need and preempting
  // (newest first, vLLM rule) when blocks run out. Returns the number of requests preempted.
  std::int64_t schedule_decodes();
  // Recompute-preempts a running request: frees its KV and puts it at the front of waiting.
  void preempt(RequestSlot slot);
  std::int64_t batch_tokens() const { return batch_prefill_tokens_ + (batch_has_decodes_ ? decode_count_ : 0); }
  std::int64_t batch_seqs() const {
    return static_cast<std::int64_t>(segments_.size()) + (batch_has_decodes_ ? decode_count_ : 0);
  }

 private:
  struct CalendarEntry {
    RequestSlot slot;
    std::uint32_t generation;
  };
  void wake();
  void on_schedule();
  void on_complete();
  void emit_prefill_token(RequestSlot slot);
  void join_decode(RequestSlot slot);
  void leave_decode(RequestState& r);
  void finish(RequestSlot slot);
  void calendar_insert(RequestSlot slot, const RequestState& r, std::int64_t after_step);
  std::int64_t next_event_step(const RequestState& r, std::int64_t after_step) const;
  TimeNs decode_gap_max_since(std::int64_t first_step) const;

  const int id_;
  Simulation& sim_;
  RequestTable& requests_;
  SignalBus& signals_;
  KvBlockPool kv_;
  std::unique_ptr<CostModel> cost_model_;
  std::unique_ptr<Batcher> batcher_;

  std::deque<RequestSlot> waiting_;
  // Requests holding KV, sorted by request_id (= FCFS order). A sorted vector: admissions
  // almost always append, and it stays short (at most max_num_seqs), so middle erases are cheap.
  using RunningEntry = std::pair<std::uint64_t, RequestSlot>;
  std::vector<RunningEntry> running_;
  void running_insert(std::uint64_t id, RequestSlot slot);
  void running_erase(std::uint64_t id);
  std::vector<RequestSlot> ongoing_prefills_;

  bool busy_ = false;
  bool schedule_pending_ = false;
  std::int64_t iteration_ = 0;
  TimeNs batch_start_ns_ = 0;

  // Batch under construction / in flight.
  std::vector<PrefillSegment> segments_;
  std::vector<RequestSlot> segment_slots_;
  std::int64_t batch_prefill_tokens_ = 0;
  bool batch_has_decodes_ = false;
  std::int64_t batch_decodes_ = 0;
  std::vector<CalendarEntry> finishing_;  // decodes whose last token this iteration emits
  std::vector<CalendarEntry> joiners_;    // joined the decode set since the last decode step

  // Decode set.
  std::int64_t decode_step_ = 0;        // completed decode steps
  std::int64_t decode_count_ = 0;       // requests in the decode set
  std::int64_t sum_kv_minus_join_ = 0;  // Σ (kv_tokens_at_join − join_step): Σctx(S) = this + count·S
  std::vector<std::vector<CalendarEntry>> calendar_;
  std::vector<CalendarEntry> bucket_scratch_;
  std::vector<RequestSlot> boundary_scratch_;
  TimeNs last_decode_end_ns_ = -1;
  std::vector<std::pair<std::int64_t, TimeNs>> gap_stack_;  // (step, gap), gaps strictly decreasing
};

}  // namespace servesim
