// sim/world/instance.h — one model replica (tp × pp devices): its queue order (the waiting
// requests), its running requests, its decode groups, its paged KV cache, its swap space, and
// the mechanics of an iteration. The *policy* of which requests form the next batch belongs to
// a Batcher (policies/batching/), the order of admission to a QueueOrder (policies/queueing/);
// this class offers the batcher a small scheduling API and carries out what it decides.
//
// Iteration cycle: an idle instance that gets work schedules a kSchedule event; there the
// batcher forms a batch; the cost model prices it (plus the host-link time of any swap-out or
// swap-in it caused); a kCompletion event at start + duration applies it (tokens emitted,
// prefills advanced, requests finished, KV freed) and forms the next batch at once when nothing
// else happens at that instant (else via a kSchedule event after the same-time arrivals).
// Pricing is O(prefill segments + decode groups): decode groups (decode_group.h) keep their
// members' aggregates.
//
// Running order: running requests are kept in the batcher's victim order (batcher.h); decode
// admission under memory pressure walks it upward and preemption takes victims from its top.
//
// Movement (for hand-offs, swap and migration): detach() takes a waiting, decoding or handed-off
// request off the instance, returning a KvLease that keeps its blocks until release();
// reserve_incoming() sets blocks aside for a request on its way in, owned by the reservation
// until attach_decoding() makes it a decoding member (or cancel_incoming() frees them). Leases
// and reservations are counted in the instance's KV books (check_consistency), so a request can
// hold KV here and elsewhere at once.
//
// Lifecycle (InstanceState): the cluster sets the state; the instance serves whatever it holds
// in any state (a draining instance finishes its requests; routers stop sending to it).
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "models/cost/cost_model.h"
#include "sim/core/simulation.h"
#include "sim/world/decode_group.h"
#include "sim/world/instance_load.h"
#include "sim/world/kv_cache.h"
#include "sim/world/observer.h"
#include "sim/world/request_state.h"

namespace servesim {

class Batcher;
class Instance;
class QueueOrder;
struct QueueOrderContext;
// Builds an instance's queue order once the instance (and its KV cache) exists.
using QueueOrderFactory = std::function<std::unique_ptr<QueueOrder>(const QueueOrderContext&)>;
class RequestTable;
enum class VictimOrder : std::uint8_t;

enum class PreemptionMode : std::uint8_t { kRecompute, kSwap };
struct InstanceOptions {
  InstanceRole role = InstanceRole::kColocated;
  const ModelSpec* model = nullptr;  // what it serves (KV layout for moves)
  std::int64_t kv_blocks = 0;
  int block_size_tokens = 16;
  bool prefix_caching = false;
  // vLLM v1 quirk (ALGORITHMS.md §1.3): admission demands free blocks for the whole prompt even
  // when part of it is cached. true: only the blocks the admission really consumes.
  bool apc_discount_cached_in_admission = false;
  PreemptionMode preemption_mode = PreemptionMode::kRecompute;
  std::int64_t swap_blocks = 0;       // host swap space, in blocks
  double kv_bytes_per_block = 0;      // per device, for swap transfer times
  double host_link_bytes_per_ns = 0;  // per device (GB/s == bytes/ns)
};

// KV a request keeps on an instance it has left (instance.h "Movement"). Move-only.
struct KvLease {
  InstanceId instance = -1;
  RequestSlot slot = kNoSlot;
  std::int64_t blocks = 0;                   // hashed + private
  std::vector<KvCache::BlockHandle> hashed;  // prefix blocks whose references the lease holds
};

// Why a request left an instance.
enum class LeaveReason : std::uint8_t { kFinished, kRejected, kDetached };

// What an instance reports to the cluster around it (which may change the world in response;
// observers, which may not, get signals instead).
class InstanceHost {
 public:
  virtual ~InstanceHost() = default;
  // A prefill-role instance finished a request's prefill; the request is kHandoff, KV held.
  virtual void on_prefill_done(Instance& instance, RequestSlot slot) = 0;
  // A request left the instance (its RequestState is still valid during the call).
  virtual void on_request_left(Instance& instance, const RequestState& r, LeaveReason why) = 0;
  // The instance has nothing left to run (it may still hold leases or reservations; empty()
  // tells whether it holds anything at all).
  virtual void on_idle(Instance& instance) = 0;
};

// The world an instance lives in.
struct InstanceWorld {
  Simulation& sim;
  RequestTable& requests;
  SignalBus& signals;
  InstanceHost& host;
};

class Instance final : private DecodeGroup::Host {
 public:
  Instance(InstanceId id, int pool, const InstanceWorld& world, const InstanceOptions& options,
           std::shared_ptr<const CostModel> cost_model, std::unique_ptr<Batcher> batcher,
           const QueueOrderFactory& make_queue_order);
  ~Instance() override;
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  // ---- cluster-facing
  InstanceId id() const { return id_; }
  int pool() const { return pool_; }
  InstanceRole role() const { return options_.role; }
  const ModelSpec& model() const { return *options_.model; }
  InstanceState state() const { return state_; }
  void set_state(InstanceState s) { state_ = s; }
  // A request starts waiting here (routed, or moved in while waiting); an idle instance wakes.
  void enqueue(RequestSlot slot, WaitReason why = WaitReason::kArrival);
  InstanceLoad load() const;
  // Single fields of load(), for policies that ask them per request and candidate.
  std::int64_t watermark_blocks() const { return watermark_blocks_; }
  std::int64_t waiting_demand_blocks() const { return waiting_demand_blocks_; }
  std::int64_t high_priority_requests() const { return high_priority_; }
  // load() plus head_demand_blocks (asks the queue order for its head: not const).
  InstanceLoad load_with_head();
  std::size_t num_waiting() const { return waiting_; }
  std::size_t num_running() const { return running_.size(); }
  // Seats of the batch taken: running requests plus those on their way in with KV reserved
  // here (hand-offs, migrations), which join the decode groups when they land. Batchers count
  // these against max_num_seqs, so an arrival can never push a step over its budget.
  std::size_t num_seated() const { return running_.size() + incoming_.size(); }
  std::size_t num_swapped() const { return swapped_.size(); }
  std::size_t num_assigned() const { return num_waiting() + running_.size() + swapped_.size(); }
  // Holds nothing and has nothing in flight: no requests, leases or reservations.
  bool empty() const;
  const KvCache& kv() const { return kv_; }
  std::int64_t iterations() const { return iteration_; }
  // When the iteration in flight completes (−1 when idle). A controller that must act between
  // iterations (detach a decoding request) runs at that instant in the control phase, which
  // comes after the completion and before the next batch forms.
  TimeNs iteration_end_ns() const;
  // Pipeline slots: how many batches may be in flight at once (the batcher's choice; a new one
  // enters every duration / slots, so a pp-stage pipeline stays full).
  int pipeline_slots() const { return slots_; }
  std::int64_t seq_budget() const;
  // Recounts KV blocks held by requests, leases and reservations against the cache's books;
  // throws std::logic_error on a mismatch. O(running requests): for invariant checks only.
  void check_consistency() const;

  // ---- movement (see the header). None of these may be called while a batch is being formed.
  // Takes a waiting, decoding or handed-off request off this instance; it becomes kInTransit.
  // REQUIRES: a decoding request's group has no step in flight (in_flight(slot) is false).
  KvLease detach(RequestSlot slot);
  bool in_flight(RequestSlot slot) const;
  // Frees a lease of this instance.
  void release(KvLease&& lease);
  // Allocates `blocks` for `slot`, owned by the reservation (added to the slot's reservation
  // when it has one: a staged migration reserves stage by stage). False (nothing allocated)
  // when fewer blocks are free.
  bool reserve_incoming(RequestSlot slot, std::int64_t blocks);
  void cancel_incoming(RequestSlot slot);
  std::int64_t reserved_blocks() const { return reserved_blocks_; }
  std::int64_t incoming_requests() const { return static_cast<std::int64_t>(incoming_.size()); }
  // Makes a request whose KV (prompt + generated − 1 tokens) sits in its reservation here a
  // decoding member: at once when the instance is idle, else when its iteration in flight
  // completes (a running step is never changed). REQUIRES: reserve_incoming(slot, ≥ the blocks
  // those tokens need).
  void attach_decoding(RequestSlot slot);
  // A running or handed-off request's live KV blocks here.
  std::int64_t kv_blocks_of(RequestSlot slot) const;
  // Tokens a request has emitted so far (RequestState::generated_tokens lags while it decodes).
  std::int32_t generated_tokens_of(RequestSlot slot) const;

  // ---- scheduling API: valid only inside Batcher::schedule()
  TimeNs now() const { return sim_.now(); }
  bool has_waiting() const { return waiting_ > 0; }
  RequestSlot waiting_head() const;  // REQUIRES: has_waiting()
  const RequestState& request(RequestSlot slot) const { return requests_[slot]; }
  // Calls f(slot, state) for every running request (admitted, not finished, not swapped out).
  template <class F>
  void for_each_running(F&& f) const {
    for (const auto& [rank, slot] : running_) f(slot, requests_[slot]);
  }
  // Ongoing (admitted, incomplete) prefills in admission order.
  const std::vector<RequestSlot>& ongoing_prefills() const { return ongoing_prefills_; }
  std::int32_t prefill_remaining(RequestSlot slot) const {
    return requests_[slot].prefill_target_tokens - requests_[slot].prefilled_tokens;
  }
  // Tokens a waiting request must prefill when admitted (prompt + tokens generated before a
  // recompute preemption), before any prefix-cache hit.
  std::int32_t prefill_tokens_needed(RequestSlot slot) const {
    return requests_[slot].req.prompt_tokens + requests_[slot].generated_tokens;
  }
  // Free blocks admitting this waiting request takes, as the admission check counts them:
  // ceil(tokens / block_size), or — with prefix caching and apc_discount_cached_in_admission —
  // only the blocks it really consumes.
  std::int64_t admission_blocks(RequestSlot slot);
  // Removes the head of the queue and reports it rejected with `reason` (a static string).
  void reject_head(const char* reason);
  // Admits the head of the queue: allocates its prompt's KV blocks (at least `reserve_tokens`
  // worth when that is larger, as Orca reserves), counts prefix-cache hits, and puts its first
  // chunk — at most `max_chunk_tokens` of the tokens not cached — in the batch. Returns the
  // tokens put in the batch (> 0). REQUIRES: admission_blocks() free.
  std::int32_t admit_head(std::int32_t max_chunk_tokens, std::int64_t reserve_tokens = 0);
  // Adds the next `chunk_tokens` of an ongoing prefill to the batch.
  void continue_prefill(RequestSlot slot, std::int32_t chunk_tokens);
  // Puts the next step of decode group `group` (kAllGroups: every group, in index order) in
  // the batch, allocating the KV blocks members need and preempting in the victim order when
  // blocks run out. With `one_free_block_each` (vLLM's can_append_slots), every member checked
  // needs a free block even if it will not take one; without it, only members that need a new
  // block check. Returns the number of requests preempted.
  static constexpr int kAllGroups = -1;
  std::int64_t schedule_decodes(bool one_free_block_each = true, int group = kAllGroups);
  // True when group g's step is in a batch already in flight (a batcher with several pipeline
  // slots steps only groups that are not).
  bool group_in_flight(int g) const;
  int num_decode_groups() const { return static_cast<int>(groups_.size()); }
  const DecodeGroup& decode_group(int g) const { return groups_[static_cast<std::size_t>(g)]; }
  // Swapped requests, oldest first, return before new admissions (batcher's choice when).
  bool can_swap_in_head(std::int64_t watermark_blocks) const;
  // Brings the oldest swapped request back into the decode groups (into the step being formed
  // when its group's step is already in the batch). REQUIRES: can_swap_in_head().
  void swap_in_head();
  std::int64_t batch_tokens() const {
    const Batch& b = batches_[static_cast<std::size_t>(forming_)];
    std::int64_t decodes = 0;
    for (const int g : b.groups) decodes += groups_[static_cast<std::size_t>(g)].count();
    return b.prefill_tokens + decodes;
  }
  std::int64_t preempted_this_batch() const { return preempted_this_batch_; }

 private:
  using RunningEntry = std::pair<std::uint64_t, RequestSlot>;  // (rank, slot)
  // DecodeGroup::Host
  Member next_member_after(int group, bool has_after, std::uint64_t after_rank) override;
  RequestSlot preempt_victim(int group) override;

  void check_not_forming(const char* what) const;
  // A request enters or leaves the queue order (waiting count, demand, preempted count);
  // `admitted`: it leaves to be prefilled (its tokens stay in queued_prefill_tokens_).
  void queue_in(RequestSlot slot, const RequestState& r);
  void queue_out(RequestSlot slot, const RequestState& r, bool admitted);
  // A request leaves the instance: books, then the host.
  void left(const RequestState& r, LeaveReason why);
  bool reserve_blocks(RequestSlot slot, std::int64_t blocks);
  void join_reserved(RequestSlot slot);
  void wake();
  void on_schedule();
  void on_complete(std::size_t batch);
  bool chunk_in_flight(RequestSlot slot) const;
  void emit_prefill_token(RequestSlot slot);
  void join_decode(RequestSlot slot, RequestState& r);
  void leave_decode(RequestSlot slot, RequestState& r, bool finished);
  void reject(RequestSlot slot, const char* reason);
  void preempt(RequestSlot slot);
  void release_kv(RequestState& r);
  void finish(RequestSlot slot);
  std::uint64_t rank_of(const RequestState& r) const;
  void running_insert(const RequestState& r, RequestSlot slot);
  void running_erase(const RequestState& r);
  const std::vector<std::uint64_t>& prompt_block_hashes(RequestState& r);

  const InstanceId id_;
  const int pool_;
  Simulation& sim_;
  RequestTable& requests_;
  SignalBus& signals_;
  InstanceHost& host_;
  InstanceOptions options_;
  InstanceState state_ = InstanceState::kActive;
  KvCache kv_;
  std::shared_ptr<const CostModel> cost_model_;  // shared by the instances of a pool
  std::unique_ptr<Batcher> batcher_;
  std::unique_ptr<QueueOrder> queue_;
  bool queue_wants_events_;  // queue_->wants_decode_events(), asked once
  VictimOrder victim_order_;
  // The first group lives inside the instance (its fields are touched every iteration).
  boost::container::small_vector<DecodeGroup, 1> groups_;
  std::size_t waiting_ = 0;  // requests in queue_ (kept here: asked every iteration)

  std::deque<RequestSlot> swapped_;  // oldest first
  std::int64_t swap_used_ = 0;
  // Requests holding KV (prefilling or decoding), sorted by rank. A sorted vector: admissions
  // almost always append, and it stays short (at most max_num_seqs), so middle erases are cheap.
  std::vector<RunningEntry> running_;
  std::vector<RequestSlot> ongoing_prefills_;
  std::vector<RequestSlot> handoff_;  // prefill done on a prefill-role instance, KV held
  std::vector<std::pair<RequestSlot, std::int64_t>> incoming_;  // reservations
  std::vector<RequestSlot> arrived_;  // attached during an iteration; join before the next one
  std::int64_t reserved_blocks_ = 0;
  std::int64_t leased_private_blocks_ = 0, leased_hashed_refs_ = 0, leases_ = 0;
  std::int64_t queued_prefill_tokens_ = 0;
  std::int64_t waiting_demand_blocks_ = 0;  // Σ blocks the waiting requests' prompts need
  std::int64_t waiting_preempted_ = 0;      // waiting requests that were preempted
  std::int64_t high_priority_ = 0;          // requests here with priority > 0 (any phase)
  std::int64_t watermark_blocks_ = 0;       // the batcher's (constant)

  bool schedule_pending_ = false;
  bool forming_batch_ = false;
  int empty_rewakes_ = 0;            // consecutive empty batches that preempted (liveness guard)
  std::int64_t iteration_ = 0;       // batches completed
  std::int64_t batches_formed_ = 0;  // batches formed (the iterations table's index)

  // Batches being formed or in flight (one per pipeline slot).
  struct Batch {
    std::vector<PrefillSegment> segments;
    std::vector<RequestSlot> segment_slots;
    std::int64_t prefill_tokens = 0;
    std::vector<int> groups;  // decode groups stepping in it
    TimeNs start_ns = 0, end_ns = 0;
    bool live = false;  // in flight
  };
  boost::container::small_vector<Batch, 1> batches_;
  int slots_ = 1;
  int forming_ = -1;  // the batch being formed (valid inside Batcher::schedule)
  int in_flight_ = 0;
  TimeNs stage_free_ns_ = 0;  // the first stage takes the next batch from then on
  std::int64_t preempted_this_batch_ = 0;
  std::int64_t swap_transfer_blocks_ = 0;  // blocks copied over the host link for this batch
  std::vector<RequestSlot> finished_scratch_;
};

}  // namespace servesim
