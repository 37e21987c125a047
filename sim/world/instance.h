// sim/world/instance.h — one model replica (tp × pp devices): its waiting queue, its running
// requests, its paged KV cache, its swap space, and the mechanics of an iteration. The *policy*
// of which requests form the next batch belongs to a Batcher (policies/batching/); this class
// offers the batcher a small scheduling API and carries out what it decides.
//
// Iteration cycle: an idle instance that gets work schedules a kSchedule event; there the
// batcher forms a batch; the cost model prices it (plus the host-link time of any swap-out or
// swap-in it caused); a kCompletion event at start + duration applies it (tokens emitted,
// prefills advanced, requests finished, KV freed) and forms the next batch at once when nothing
// else happens at that instant (else via a kSchedule event after the same-time arrivals).
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

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "models/cost/cost_model.h"
#include "sim/core/simulation.h"
#include "sim/world/kv_cache.h"
#include "sim/world/observer.h"
#include "sim/world/request_state.h"

namespace servesim {

class Batcher;
class RequestTable;

enum class PreemptionMode : std::uint8_t { kRecompute, kSwap };

struct InstanceOptions {
  std::int64_t kv_blocks = 0;
  int block_size_tokens = 16;
  bool prefix_caching = false;
  // vLLM v1 quirk (ALGORITHMS.md §1.3): admission demands free blocks for the whole prompt even
  // when part of it is cached. true: only the blocks the admission really consumes.
  bool apc_discount_cached_in_admission = false;
  PreemptionMode preemption_mode = PreemptionMode::kRecompute;
  std::int64_t swap_blocks = 0;         // host swap space, in blocks
  double kv_bytes_per_block = 0;        // per device, for swap transfer times
  double host_link_bytes_per_ns = 0;    // per device (GB/s == bytes/ns)
};

class Instance {
 public:
  Instance(int id, Simulation& sim, RequestTable& requests, SignalBus& signals, const InstanceOptions& options,
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
  std::size_t num_swapped() const { return swapped_.size(); }
  std::size_t num_decoding() const { return static_cast<std::size_t>(decode_count_); }
  std::size_t num_assigned() const { return waiting_.size() + running_.size() + swapped_.size(); }
  const KvCache& kv() const { return kv_; }
  const Batcher& batcher() const { return *batcher_; }
  std::int64_t iterations() const { return iteration_; }
  // Recounts KV blocks held by running requests against the cache's books; throws
  // std::logic_error on a mismatch. O(running requests): for invariant checks only.
  void check_consistency() const;

  // ---- scheduling API: valid only inside Batcher::schedule()
  TimeNs now() const { return sim_.now(); }
  std::deque<RequestSlot>& waiting() { return waiting_; }
  RequestState& request(RequestSlot slot);
  // Ongoing (admitted, incomplete) prefills in admission order.
  const std::vector<RequestSlot>& ongoing_prefills() const { return ongoing_prefills_; }
  std::int32_t prefill_remaining(RequestSlot slot) const;
  // Tokens a waiting request must prefill when admitted (prompt + tokens generated before a
  // recompute preemption), before any prefix-cache hit.
  std::int32_t prefill_tokens_needed(RequestSlot slot);
  // Free blocks admitting this waiting request takes, as the admission check counts them:
  // ceil(tokens / block_size), or — with prefix caching and apc_discount_cached_in_admission —
  // only the blocks it really consumes.
  std::int64_t admission_blocks(RequestSlot slot);
  // Removes the front waiting request and reports it rejected with `reason` (a static string).
  void reject_front(const char* reason);
  // Admits the front waiting request: allocates its prompt's KV blocks (at least
  // `reserve_tokens` worth when that is larger, as Orca reserves), counts prefix-cache hits,
  // and puts its first chunk — at most `max_chunk_tokens` of the tokens not cached — in the
  // batch. Returns the tokens put in the batch (> 0). REQUIRES: admission_blocks() free.
  std::int32_t admit_front(std::int32_t max_chunk_tokens, std::int64_t reserve_tokens = 0);
  // Adds the next `chunk_tokens` of an ongoing prefill to the batch.
  void continue_prefill(RequestSlot slot, std::int32_t chunk_tokens);
  // Puts every running decode in the batch, allocating the KV blocks they need and preempting
  // (newest first) when blocks run out. With `one_free_block_each` (vLLM's can_append_slots),
  // every running request checked needs a free block even if it will not take one; without it,
  // only requests that need a new block check. Returns the number of requests preempted.
  std::int64_t schedule_decodes(bool one_free_block_each = true);
  // Preempts a running request (recompute: free its KV, front of waiting; swap: copy its KV to
  // host memory, back of the swapped queue — recompute when the swap space is full or it has
  // not finished its prefill).
  void preempt(RequestSlot slot);
  // Swapped requests, oldest first, return before new admissions (batcher's choice when).
  bool can_swap_in_front(std::int64_t watermark_blocks) const;
  // Brings the front swapped request back into the decode set of the batch being formed.
  // REQUIRES: can_swap_in_front(), and schedule_decodes() already called for this batch.
  void swap_in_front();
  std::int64_t batch_tokens() const { return batch_prefill_tokens_ + (batch_has_decodes_ ? decode_count_ : 0); }
  std::int64_t preempted_this_batch() const { return preempted_this_batch_; }

 private:
  // A reference to a request that is stale once the request's generation moves on.
  struct SlotRef {
    RequestSlot slot;
    std::uint32_t generation;
  };
  // A decoding request's next event, with the facts the decode step needs, so that a request is
  // read only when something happens to it.
  struct CalendarEntry {
    RequestSlot slot;
    std::uint32_t generation;
    std::uint64_t request_id;
    std::int64_t join_step;
    std::int32_t kv_tokens_at_join;
    std::int32_t generated_at_join;
    std::int32_t output_tokens;
    std::int32_t kv_blocks;  // the request's blocks, kept here (not in the request) while it decodes
  };
  using RunningEntry = std::pair<std::uint64_t, RequestSlot>;
  void wake();
  void on_schedule();
  void on_complete();
  void emit_prefill_token(RequestSlot slot);
  void join_decode(RequestSlot slot);
  void leave_decode(RequestSlot slot, RequestState& r);
  // Blocks a decoding request holds after `steps` decode steps had their slots allocated: what
  // it joined with, or what its tokens need, whichever is more (blocks are taken only when needed).
  std::int64_t decode_blocks(const RequestState& r, std::int64_t steps) const {
    return std::max<std::int64_t>(r.kv_blocks, kv_.blocks_for_tokens(r.kv_tokens_at_join + steps - r.join_step));
  }
  void release_kv(RequestState& r);
  void finish(RequestSlot slot);
  void calendar_insert(const CalendarEntry& e, std::int64_t after_step);
  CalendarEntry calendar_entry(RequestSlot slot, const RequestState& r) const;
  std::int64_t next_event_step(const CalendarEntry& e, std::int64_t after_step) const;
  TimeNs decode_gap_max_since(std::int64_t first_step) const;
  void running_insert(std::uint64_t id, RequestSlot slot);
  void running_erase(std::uint64_t id);
  const std::vector<std::uint64_t>& prompt_block_hashes(RequestState& r);

  const int id_;
  Simulation& sim_;
  RequestTable& requests_;
  SignalBus& signals_;
  InstanceOptions options_;
  KvCache kv_;
  std::unique_ptr<CostModel> cost_model_;
  std::unique_ptr<Batcher> batcher_;

  std::deque<RequestSlot> waiting_;
  std::deque<RequestSlot> swapped_;
  std::int64_t swap_used_ = 0;
  // Requests holding KV, sorted by request_id (= FCFS order). A sorted vector: admissions
  // almost always append, and it stays short (at most max_num_seqs), so middle erases are cheap.
  std::vector<RunningEntry> running_;
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
  std::int64_t preempted_this_batch_ = 0;
  std::int64_t swap_transfer_blocks_ = 0;  // blocks copied over the host link for this batch
  std::vector<SlotRef> finishing_;  // decodes whose last token this iteration emits
  std::vector<SlotRef> joiners_;    // joined the decode set since the last decode step

  // Decode set.
  std::int64_t decode_step_ = 0;        // completed decode steps
  std::int64_t decode_count_ = 0;       // requests in the decode set
  std::int64_t sum_kv_minus_join_ = 0;  // Σ (kv_tokens_at_join − join_step): Σctx(S) = this + count·S
  std::vector<std::vector<CalendarEntry>> calendar_;
  std::vector<CalendarEntry> bucket_scratch_;
  std::vector<std::uint32_t> boundary_scratch_;  // indices into bucket_scratch_
  TimeNs last_decode_end_ns_ = -1;
  std::vector<std::pair<std::int64_t, TimeNs>> gap_stack_;  // (step, gap), gaps strictly decreasing
};

}  // namespace servesim
