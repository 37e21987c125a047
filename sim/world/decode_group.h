// sim/world/decode_group.h — a set of decoding requests on one instance that advance together:
// one decode step of the group emits one token for each member. An instance holds one or more
// groups (instance.h); a batcher puts a chosen group's next step (or every group's) in a batch.
// Pipeline micro-batch slots, subset decodes, per-client decode counts and per-step sums hang
// on this unit.
//
// Decode without per-token work. The group counts its completed steps (steps()), and a member
// is fully described by (join_step, kv_tokens_at_join, generated_at_join) in its RequestState.
// A member is touched only when something happens to it: it needs a new KV block (every
// block_size tokens), it finishes, or it leaves (preempted, detached). A calendar of
// at least block_size + 1 buckets indexed by step holds each member's next such step; its entries
// carry what the step needs, so the request itself is not read. The batch's attention cost needs
// the members' Σ context, kept as a running aggregate. Max TBT per member is a range maximum over
// the group's step gaps, answered from a monotonic stack.
//
// Memory pressure (vLLM's can_append_slots, reproduced exactly): members are checked in
// ascending *rank* (the instance's running order, set by the batcher's victim order: FCFS by
// default); each needs one free block (or, without `one_free_block_each`, only those at a block
// boundary); when none is free the instance preempts its victim — the highest-ranked running
// request of this group or still prefilling — until one is free or the checked member itself
// was the victim. Only boundary members and the first member checked with no free block are
// visited.
//
// Cost: schedule_step is O(members at a boundary or finishing this step) plus a sort of the
// boundary members; complete_step is O(joiners + finishers). Nothing is O(members).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "sim/core/time.h"
#include "sim/world/kv_cache.h"
#include "sim/world/observer.h"
#include "sim/world/request_table.h"

namespace servesim {

class DecodeGroup {
 public:
  // What a group needs from its instance while it schedules a step under memory pressure.
  class Host {
   public:
    struct Member {
      RequestSlot slot = kNoSlot;
      std::uint64_t rank = 0;
    };
    virtual ~Host() = default;
    // The first member of `group` in rank order whose rank is above `after_rank` (any rank when
    // !has_after): the next request vLLM's walk checks. slot == kNoSlot when none.
    virtual Member next_member_after(int group, bool has_after, std::uint64_t after_rank) = 0;
    // Preempts the instance's victim for `group` and returns its slot.
    virtual RequestSlot preempt_victim(int group) = 0;
  };

  DecodeGroup(int index, InstanceId owner, int block_size_tokens, RequestTable& requests);

  int index() const { return index_; }
  std::int64_t count() const { return count_; }
  std::int64_t steps() const { return step_; }  // completed decode steps
  // True from schedule_step() until the step completes or the batch is dropped.
  bool in_batch() const { return in_batch_; }
  // Σ over members of the context each attends to in the next step (its KV tokens + the new one).
  std::int64_t next_step_context_tokens() const {
    return sum_kv_minus_join_ + count_ * (step_ + 1);
  }

  // Adds a request whose KV (prompt + generated − 1 tokens, r.kv_blocks blocks) is present. If
  // this group's next step is already in the batch being formed, the joiner takes part in it:
  // its block (if at a boundary) is taken from `kv` now. REQUIRES: phase set by the caller; the
  // group's step is not in flight (the instance defers such joins to its next batch).
  void join(RequestSlot slot, RequestState& r, std::uint64_t rank, KvCache& kv);
  // Removes a member: brings r.generated_tokens, r.kv_blocks, r.last_token_ns and
  // r.max_tbt_ns up to date, and invalidates its slot's generation (its calendar entries go
  // stale). REQUIRES: the member's step is not in flight (!in_batch() or called during
  // schedule_step for a member not yet checked, or after complete_step).
  void leave(RequestSlot slot, RequestState& r);
  // A member's KV blocks after the steps allocated so far (the one in flight included).
  std::int64_t blocks_of(const RequestState& r) const;

  // Puts the next step in the batch: takes the blocks members need, preempting through `host`
  // when they run out (see the header). Returns the number of requests preempted.
  std::int64_t schedule_step(KvCache& kv, Host& host, bool one_free_block_each);
  // The batch was formed without this step after all (it stays unscheduled): no-op unless
  // in_batch() and count() == 0.
  void drop_empty_step();
  // Completes the step in flight at `now`: emits TBT samples and appends to `finished` the
  // members whose last token this was (still members: the caller makes them leave, then finish).
  // Returns the tokens the step emitted (0 when no step was in flight).
  std::int64_t complete_step(TimeNs now, SignalBus& signals, std::vector<RequestSlot>& finished);

 private:
  struct SlotRef {
    RequestSlot slot;
    std::uint32_t generation;
  };
  // A member's next event, with the facts the step needs, so the request is read only then.
  struct CalendarEntry {
    RequestSlot slot;
    std::uint32_t generation;
    std::uint64_t rank;
    std::int64_t join_step;
    std::int32_t kv_tokens_at_join;
    std::int32_t generated_at_join;
    std::int32_t output_tokens;
    std::int32_t kv_blocks;  // the member's blocks, kept here (not in the request) while it decodes
  };
  bool live(const CalendarEntry& e) const { return requests_.generation(e.slot) == e.generation; }
  std::int64_t blocks_after(const RequestState& r, std::int64_t steps) const;
  std::int64_t next_event_step(const CalendarEntry& e, std::int64_t after_step) const;
  void calendar_insert(const CalendarEntry& e, std::int64_t after_step);
  std::int64_t ceil_blocks(std::int64_t tokens) const;  // ⌈tokens / block_size⌉, tokens >= 0
  TimeNs gap_max_since(std::int64_t first_step) const;

  const int index_;
  const InstanceId owner_;
  const std::int64_t block_size_;
  const int block_shift_;  // log2(block_size_) when it is a power of two, else −1
  RequestTable& requests_;

  std::int64_t step_ = 0;               // completed decode steps
  std::int64_t count_ = 0;              // members
  std::int64_t sum_kv_minus_join_ = 0;  // Σ (kv_tokens_at_join − join_step)
  bool in_batch_ = false;
  std::int64_t batch_count_ = 0;  // members when the step was scheduled (plus joiners since)
  // Buckets indexed by step & calendar_mask_: block_size + 1 rounded up to a power of two, so
  // that a member's next event (at most block_size steps ahead) never shares the current bucket.
  std::vector<std::vector<CalendarEntry>> calendar_;
  const std::size_t calendar_mask_;
  std::vector<CalendarEntry> bucket_scratch_;
  std::vector<std::uint32_t> boundary_scratch_;  // indices into bucket_scratch_
  std::vector<SlotRef> finishing_;  // members whose last token the step in the batch emits
  std::vector<SlotRef> joiners_;    // joined since the last completed step
  TimeNs last_step_end_ns_ = -1;
  std::vector<std::pair<std::int64_t, TimeNs>> gap_stack_;  // (step, gap), gaps strictly decreasing
};

}  // namespace servesim
