// sim/world/decode_group.cc — see decode_group.h.
#include "sim/world/decode_group.h"

#include <algorithm>
#include <bit>

namespace servesim {

DecodeGroup::DecodeGroup(int index, InstanceId owner, int block_size_tokens, RequestTable& requests)
    : index_(index),
      owner_(owner),
      block_size_(block_size_tokens),
      block_shift_(std::has_single_bit(static_cast<unsigned>(block_size_tokens))
                       ? std::countr_zero(static_cast<unsigned>(block_size_tokens))
                       : -1),
      requests_(requests),
      calendar_(std::bit_ceil(static_cast<std::size_t>(block_size_tokens) + 1)),
      calendar_mask_(calendar_.size() - 1) {}

std::int64_t DecodeGroup::ceil_blocks(std::int64_t tokens) const {
  // tokens >= 0 here, so the shift (when the block size is a power of two) equals the division.
  return block_shift_ >= 0 ? (tokens + block_size_ - 1) >> block_shift_
                           : (tokens + block_size_ - 1) / block_size_;
}

std::int64_t DecodeGroup::blocks_after(const RequestState& r, std::int64_t steps) const {
  // Blocks are taken only when needed: what it joined with, or what its tokens need.
  const std::int64_t tokens = r.kv_tokens_at_join + steps - r.join_step;
  return std::max<std::int64_t>(r.kv_blocks, ceil_blocks(tokens));
}

std::int64_t DecodeGroup::blocks_of(const RequestState& r) const {
  return blocks_after(r, step_ + (in_batch_ ? 1 : 0));
}

std::int64_t DecodeGroup::next_event_step(const CalendarEntry& e, std::int64_t after_step) const {
  // At step S the member is on its k = S − join_step-th decode, writes the KV of token position
  // n + k − 1 (n = kv_tokens_at_join) and emits output token generated_at_join + k.
  const std::int64_t bs = block_size_;
  const std::int64_t n = e.kv_tokens_at_join;
  const std::int64_t pos = n + (after_step - e.join_step);        // written at after_step + 1
  const std::int64_t k_boundary = ceil_blocks(pos) * bs - n + 1;  // first k: (n+k−1) % bs == 0
  const std::int64_t k_finish = e.output_tokens - e.generated_at_join;
  return e.join_step + std::min(k_boundary, k_finish);
}

void DecodeGroup::calendar_insert(const CalendarEntry& e, std::int64_t after_step) {
  const std::int64_t step = next_event_step(e, after_step);
  calendar_[static_cast<std::size_t>(step) & calendar_mask_].push_back(e);
}

void DecodeGroup::join(RequestSlot slot, RequestState& r, std::uint64_t rank, KvCache& kv) {
  r.decode_group = index_;
  r.join_step = step_;
  r.kv_tokens_at_join = r.req.prompt_tokens + r.generated_tokens - 1;
  r.generated_at_join = r.generated_tokens;
  ++count_;
  sum_kv_minus_join_ += r.kv_tokens_at_join - r.join_step;
  const std::uint32_t generation = requests_.generation(slot);
  joiners_.push_back(SlotRef{slot, generation});
  if (!in_batch_) {
    calendar_insert(
        CalendarEntry{slot, generation, rank, r.join_step, r.kv_tokens_at_join, r.generated_at_join,
                      r.req.output_tokens, static_cast<std::int32_t>(r.kv_blocks)},
        step_);
    return;
  }
  // The step being formed already ran its block and finish bookkeeping: do the joiner's now.
  ++batch_count_;
  if (r.kv_tokens_at_join == r.kv_blocks * block_size_) {
    kv.allocate(1);
    ++r.kv_blocks;
  }
  if (r.generated_at_join + 1 == r.req.output_tokens) {
    finishing_.push_back(SlotRef{slot, generation});
  } else {
    calendar_insert(
        CalendarEntry{slot, generation, rank, r.join_step, r.kv_tokens_at_join, r.generated_at_join,
                      r.req.output_tokens, static_cast<std::int32_t>(r.kv_blocks)},
        step_ + 1);
  }
}

void DecodeGroup::leave(RequestSlot slot, RequestState& r) {
  --count_;
  sum_kv_minus_join_ -= r.kv_tokens_at_join - r.join_step;
  const std::int64_t done = step_ - r.join_step;  // steps this member completed
  r.kv_blocks = blocks_after(r, step_);
  r.generated_tokens = r.generated_at_join + static_cast<std::int32_t>(done);
  if (done > 0) r.last_token_ns = last_step_end_ns_;
  r.max_tbt_ns = std::max(r.max_tbt_ns, gap_max_since(r.join_step + 2));
  requests_.invalidate(slot);  // its calendar, joiner and finishing entries are stale now
}

TimeNs DecodeGroup::gap_max_since(std::int64_t first_step) const {
  // gap_stack_ keeps, for every suffix of steps, its maximum gap: the first entry at or after
  // first_step holds the maximum over [first_step, step_].
  auto it = std::lower_bound(gap_stack_.begin(), gap_stack_.end(), first_step,
                             [](const auto& e, std::int64_t s) { return e.first < s; });
  return it == gap_stack_.end() ? 0 : it->second;
}

std::int64_t DecodeGroup::schedule_step(KvCache& kv, Host& host, bool one_free_block_each) {
  in_batch_ = true;
  const std::int64_t step = step_ + 1;
  auto& bucket = calendar_[static_cast<std::size_t>(step) & calendar_mask_];
  bucket_scratch_.clear();
  bucket_scratch_.swap(bucket);
  boundary_scratch_.clear();
  finishing_.clear();
  for (std::uint32_t i = 0; i < bucket_scratch_.size(); ++i) {
    const CalendarEntry& e = bucket_scratch_[i];
    if (!live(e)) continue;  // left the group since
    const std::int64_t k = step - e.join_step;
    // Needs a block when the position it writes is the first past its blocks (never when its
    // blocks were reserved up front, as Orca does).
    if (e.kv_tokens_at_join + k - 1 == static_cast<std::int64_t>(e.kv_blocks) * block_size_) {
      boundary_scratch_.push_back(i);
    }
    if (e.generated_at_join + k == e.output_tokens)
      finishing_.push_back(SlotRef{e.slot, e.generation});
  }
  // Boundary members in rank order (ranks are carried by the entries).
  std::sort(boundary_scratch_.begin(), boundary_scratch_.end(),
            [this](std::uint32_t a, std::uint32_t b) {
              return bucket_scratch_[a].rank < bucket_scratch_[b].rank;
            });

  // vLLM's can_append_slots walk (see the header).
  std::int64_t preempted = 0;
  std::uint64_t cursor = 0;  // rank of the last member that passed its check
  bool cursor_set = false;
  std::size_t bi = 0;
  auto next_live_boundary = [&]() {
    while (bi < boundary_scratch_.size() && !live(bucket_scratch_[boundary_scratch_[bi]])) ++bi;
  };
  auto take_block = [&]() {
    CalendarEntry& e = bucket_scratch_[boundary_scratch_[bi]];
    kv.allocate(1);
    ++e.kv_blocks;  // the request's own count is brought up to date when it leaves
    cursor = e.rank;
    cursor_set = true;
    ++bi;
  };
  while (true) {
    next_live_boundary();
    if (kv.free_blocks() >= 1) {
      if (bi == boundary_scratch_.size()) break;
      take_block();
      continue;
    }
    // No free block: the next member checked fails — under vLLM's rule the next member in rank
    // order, otherwise the next one that needs a block.
    Host::Member checked;
    if (one_free_block_each) {
      checked = host.next_member_after(index_, cursor_set, cursor);
    } else if (bi < boundary_scratch_.size()) {
      checked = {bucket_scratch_[boundary_scratch_[bi]].slot,
                 bucket_scratch_[boundary_scratch_[bi]].rank};
    }
    const RequestSlot h = checked.slot;
    if (h == kNoSlot) break;
    bool h_preempted = false;
    while (kv.free_blocks() == 0) {
      const RequestSlot victim = host.preempt_victim(index_);
      ++preempted;
      if (victim == h) {
        h_preempted = true;
        break;
      }
    }
    if (h_preempted) break;  // h ranked last: nothing remains after it
    next_live_boundary();
    if (bi < boundary_scratch_.size() && bucket_scratch_[boundary_scratch_[bi]].slot == h) {
      take_block();
    } else {  // h passes its check without taking a block
      cursor = checked.rank;
      cursor_set = true;
    }
  }

  // Re-file every surviving entry at its next event step; finishing members leave at the end.
  for (const CalendarEntry& e : bucket_scratch_) {
    if (!live(e) || e.generated_at_join + (step - e.join_step) == e.output_tokens) continue;
    calendar_insert(e, step);
  }
  batch_count_ = count_;
  return preempted;
}

void DecodeGroup::drop_empty_step() {
  if (in_batch_ && batch_count_ == 0) in_batch_ = false;
}

std::int64_t DecodeGroup::complete_step(TimeNs now, SignalBus& signals,
                                        std::vector<RequestSlot>& finished) {
  if (!in_batch_) return 0;
  in_batch_ = false;
  if (batch_count_ == 0) return 0;
  ++step_;
  // TBT: members that joined since the last step measure from their own last token; the others
  // all waited now − last step end.
  std::int64_t joined = 0;
  for (const SlotRef& e : joiners_) {
    if (requests_.generation(e.slot) != e.generation) continue;
    RequestState& r = requests_[e.slot];
    const TimeNs gap = now - r.last_token_ns;
    r.max_tbt_ns = std::max(r.max_tbt_ns, gap);
    signals.tbt(owner_, gap, 1);
    ++joined;
  }
  joiners_.clear();
  const std::int64_t continuing = batch_count_ - joined;
  if (continuing > 0) {
    const TimeNs gap = now - last_step_end_ns_;
    signals.tbt(owner_, gap, continuing);
    while (!gap_stack_.empty() && gap_stack_.back().second <= gap) gap_stack_.pop_back();
    gap_stack_.emplace_back(step_, gap);
  }
  last_step_end_ns_ = now;
  for (const SlotRef& e : finishing_) {
    if (requests_.generation(e.slot) == e.generation) finished.push_back(e.slot);
  }
  finishing_.clear();
  return batch_count_;
}

}  // namespace servesim
