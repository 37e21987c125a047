// sim/world/instance.cc — iteration mechanics of one instance; see instance.h for the design.
#include "sim/world/instance.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "policies/batching/batcher.h"
#include "sim/world/request_table.h"

namespace servesim {

Instance::Instance(int id, Simulation& sim, RequestTable& requests, SignalBus& signals, const InstanceOptions& options,
                   std::unique_ptr<CostModel> cost_model, std::unique_ptr<Batcher> batcher)
    : id_(id),
      sim_(sim),
      requests_(requests),
      signals_(signals),
      options_(options),
      kv_(options.kv_blocks, options.block_size_tokens, options.prefix_caching),
      cost_model_(std::move(cost_model)),
      batcher_(std::move(batcher)),
      calendar_(static_cast<std::size_t>(options.block_size_tokens) + 1) {}

Instance::~Instance() = default;

RequestState& Instance::request(RequestSlot slot) { return requests_[slot]; }

void Instance::enqueue(RequestSlot slot) {
  RequestState& r = requests_[slot];
  r.instance_id = id_;
  r.phase = RequestPhase::kWaiting;
  waiting_.push_back(slot);
  wake();
}

void Instance::wake() {
  if (busy_ || schedule_pending_) return;
  schedule_pending_ = true;
  sim_.schedule_at(sim_.now(), Phase::kSchedule, [this] { on_schedule(); });
}

std::int32_t Instance::prefill_tokens_needed(RequestSlot slot) {
  const RequestState& r = requests_[slot];
  return r.req.prompt_tokens + r.generated_tokens;
}

std::int32_t Instance::prefill_remaining(RequestSlot slot) const {
  const RequestState& r = requests_[slot];
  return r.prefill_target_tokens - r.prefilled_tokens;
}

const std::vector<std::uint64_t>& Instance::prompt_block_hashes(RequestState& r) {
  if (!r.block_hashes_ready) {
    kv_block_hashes(r.req.prefix_hashes, r.req.prefix_block_tokens, r.req.prompt_tokens, kv_.block_size(), r.block_hashes);
    r.block_hashes_ready = true;
  }
  return r.block_hashes;
}

std::int64_t Instance::admission_blocks(RequestSlot slot) {
  RequestState& r = requests_[slot];
  const std::int64_t total = kv_.blocks_for_tokens(r.req.prompt_tokens + r.generated_tokens);
  if (!kv_.prefix_caching() || !options_.apc_discount_cached_in_admission) return total;
  const KvCache::Match m = kv_.match(prompt_block_hashes(r));
  return total - m.present + m.evictable;
}

void Instance::reject_front(const char* reason) {
  const RequestSlot slot = waiting_.front();
  waiting_.pop_front();
  RequestState& r = requests_[slot];
  r.phase = RequestPhase::kRejected;
  r.reject_reason = reason;
  r.finish_ns = sim_.now();
  signals_.reject(r);
  requests_.release(slot);
}

std::int32_t Instance::admit_front(std::int32_t max_chunk_tokens, std::int64_t reserve_tokens) {
  const RequestSlot slot = waiting_.front();
  waiting_.pop_front();
  RequestState& r = requests_[slot];
  const std::int32_t n = r.req.prompt_tokens + r.generated_tokens;
  const std::int64_t total = kv_.blocks_for_tokens(std::max<std::int64_t>(n, reserve_tokens));
  std::int32_t cached = 0;
  std::int64_t hashed = 0;
  if (kv_.prefix_caching()) {
    const std::vector<std::uint64_t>& hashes = prompt_block_hashes(r);
    const KvCache::Match m = kv_.match(hashes);
    kv_.acquire(hashes, m.present, sim_.now());
    hashed = static_cast<std::int64_t>(hashes.size());
    // A hit is the run of leading computed blocks, never the whole prompt: the last block is
    // always computed again (it produces the first token).
    const std::int64_t hit_blocks = std::min<std::int64_t>(m.computed, kv_.blocks_for_tokens(n) - 1);
    cached = static_cast<std::int32_t>(std::max<std::int64_t>(hit_blocks, 0) * kv_.block_size());
  }
  kv_.allocate(total - hashed);
  r.kv_blocks = total;
  r.hashed_blocks_held = static_cast<std::int32_t>(hashed);
  r.cached_tokens = cached;
  r.phase = RequestPhase::kPrefill;
  r.prefill_target_tokens = n;
  r.prefilled_tokens = cached;
  if (r.admitted_ns < 0) r.admitted_ns = sim_.now();
  running_insert(r.request_id, slot);
  ongoing_prefills_.push_back(slot);
  signals_.admit(r);
  const std::int32_t chunk = std::min(n - cached, max_chunk_tokens);
  continue_prefill(slot, chunk);
  return chunk;
}

void Instance::continue_prefill(RequestSlot slot, std::int32_t chunk_tokens) {
  const RequestState& r = requests_[slot];
  if (chunk_tokens <= 0 || r.prefilled_tokens + chunk_tokens > r.prefill_target_tokens) {
    throw std::logic_error("prefill chunk out of range for request " + std::to_string(r.request_id));
  }
  segments_.push_back(PrefillSegment{chunk_tokens, r.prefilled_tokens});
  segment_slots_.push_back(slot);
  batch_prefill_tokens_ += chunk_tokens;
}

void Instance::running_insert(std::uint64_t id, RequestSlot slot) {
  const RunningEntry e{id, slot};
  if (running_.empty() || running_.back() < e) {
    running_.push_back(e);
  } else {
    running_.insert(std::upper_bound(running_.begin(), running_.end(), e), e);
  }
}

void Instance::running_erase(std::uint64_t id) {
  auto it = std::lower_bound(running_.begin(), running_.end(), RunningEntry{id, 0});
  if (it == running_.end() || it->first != id) throw std::logic_error("running set lost request " + std::to_string(id));
  running_.erase(it);
}

// ------------------------------------------------------------------------------ decode calendar

Instance::CalendarEntry Instance::calendar_entry(RequestSlot slot, const RequestState& r) const {
  return CalendarEntry{slot,
                       requests_.generation(slot),
                       r.request_id,
                       r.join_step,
                       r.kv_tokens_at_join,
                       r.generated_at_join,
                       r.req.output_tokens,
                       static_cast<std::int32_t>(r.kv_blocks)};
}

std::int64_t Instance::next_event_step(const CalendarEntry& e, std::int64_t after_step) const {
  // At decode step S the request is on its k = S − join_step-th decode, writes the KV of token
  // position n + k − 1 (n = kv_tokens_at_join) and emits output token generated_at_join + k.
  const std::int64_t bs = kv_.block_size();
  const std::int64_t n = e.kv_tokens_at_join;
  const std::int64_t pos = n + (after_step - e.join_step);            // written at step after_step + 1
  const std::int64_t k_boundary = ((pos + bs - 1) / bs) * bs - n + 1;  // first k with (n+k−1) % bs == 0
  const std::int64_t k_finish = e.output_tokens - e.generated_at_join;
  return e.join_step + std::min(k_boundary, k_finish);
}

void Instance::calendar_insert(const CalendarEntry& e, std::int64_t after_step) {
  const std::int64_t step = next_event_step(e, after_step);
  calendar_[static_cast<std::size_t>(step % static_cast<std::int64_t>(calendar_.size()))].push_back(e);
}

void Instance::join_decode(RequestSlot slot) {
  RequestState& r = requests_[slot];
  r.phase = RequestPhase::kDecode;
  r.join_step = decode_step_;
  r.kv_tokens_at_join = r.prefill_target_tokens;
  r.generated_at_join = r.generated_tokens;
  ++decode_count_;
  sum_kv_minus_join_ += r.kv_tokens_at_join - r.join_step;
  calendar_insert(calendar_entry(slot, r), decode_step_);
  joiners_.push_back(SlotRef{slot, requests_.generation(slot)});
}

void Instance::leave_decode(RequestSlot slot, RequestState& r) {
  --decode_count_;
  sum_kv_minus_join_ -= r.kv_tokens_at_join - r.join_step;
  const std::int64_t done = decode_step_ - r.join_step;  // decode steps this request completed
  r.kv_blocks = decode_blocks(r, decode_step_);          // (a step being scheduled has not allocated for it)
  r.generated_tokens = r.generated_at_join + static_cast<std::int32_t>(done);
  if (done > 0) r.last_token_ns = last_decode_end_ns_;
  r.max_tbt_ns = std::max(r.max_tbt_ns, decode_gap_max_since(r.join_step + 2));
  requests_.invalidate(slot);  // its calendar, joiner and finishing entries are stale now
}

TimeNs Instance::decode_gap_max_since(std::int64_t first_step) const {
  // gap_stack_ keeps, for every suffix of decode steps, its maximum gap: the first entry at or
  // after first_step holds the maximum over [first_step, decode_step_].
  auto it = std::lower_bound(gap_stack_.begin(), gap_stack_.end(), first_step,
                             [](const auto& e, std::int64_t s) { return e.first < s; });
  return it == gap_stack_.end() ? 0 : it->second;
}

std::int64_t Instance::schedule_decodes(bool one_free_block_each) {
  batch_has_decodes_ = true;
  const std::int64_t step = decode_step_ + 1;
  auto& bucket = calendar_[static_cast<std::size_t>(step % static_cast<std::int64_t>(calendar_.size()))];
  bucket_scratch_.clear();
  bucket_scratch_.swap(bucket);
  boundary_scratch_.clear();
  finishing_.clear();
  const std::int64_t bs = kv_.block_size();
  for (std::uint32_t i = 0; i < bucket_scratch_.size(); ++i) {
    const CalendarEntry& e = bucket_scratch_[i];
    if (requests_.generation(e.slot) != e.generation) continue;  // left the decode set since
    const std::int64_t k = step - e.join_step;
    // Needs a block when the position it writes is the first past its blocks (never when its
    // blocks were reserved up front, as Orca does).
    if (e.kv_tokens_at_join + k - 1 == static_cast<std::int64_t>(e.kv_blocks) * bs) boundary_scratch_.push_back(i);
    if (e.generated_at_join + k == e.output_tokens) finishing_.push_back(SlotRef{e.slot, e.generation});
  }
  // Boundary requests in FCFS order (request ids are read only for them).
  std::sort(boundary_scratch_.begin(), boundary_scratch_.end(), [this](std::uint32_t a, std::uint32_t b) {
    return bucket_scratch_[a].request_id < bucket_scratch_[b].request_id;
  });

  // vLLM's can_append_slots walk (see instance.h): only boundary requests and the first
  // request checked with no free block are visited.
  std::int64_t preempted = 0;
  std::uint64_t cursor = 0;  // request_id of the last request that passed its check
  bool cursor_set = false;
  std::size_t bi = 0;
  auto live = [&](const CalendarEntry& e) { return requests_.generation(e.slot) == e.generation; };
  auto next_live_boundary = [&]() {
    while (bi < boundary_scratch_.size() && !live(bucket_scratch_[boundary_scratch_[bi]])) ++bi;
  };
  auto take_block = [&]() {
    CalendarEntry& e = bucket_scratch_[boundary_scratch_[bi]];
    kv_.allocate(1);
    ++e.kv_blocks;  // the request's own count is brought up to date when it leaves (decode_blocks)
    cursor = e.request_id;
    cursor_set = true;
    ++bi;
  };
  while (true) {
    next_live_boundary();
    if (kv_.free_blocks() >= 1) {
      if (bi == boundary_scratch_.size()) break;
      take_block();
      continue;
    }
    // No free block: the next request checked fails — under vLLM's rule the next decoding
    // request in FCFS order, otherwise the next one that needs a block.
    auto it = running_.end();
    if (one_free_block_each) {
      it = cursor_set ? std::upper_bound(running_.begin(), running_.end(), RunningEntry{cursor, ~RequestSlot{0}})
                      : running_.begin();
      while (it != running_.end() && requests_[it->second].phase != RequestPhase::kDecode) ++it;
    } else if (bi < boundary_scratch_.size()) {
      const std::uint64_t id = bucket_scratch_[boundary_scratch_[bi]].request_id;
      it = std::lower_bound(running_.begin(), running_.end(), RunningEntry{id, 0});
    }
    if (it == running_.end()) break;
    const RequestSlot h = it->second;
    bool h_preempted = false;
    while (kv_.free_blocks() == 0) {
      const RequestSlot victim = running_.back().second;
      preempt(victim);
      ++preempted;
      if (victim == h) {
        h_preempted = true;
        break;
      }
    }
    if (h_preempted) break;  // h was the newest: nothing remains after it
    next_live_boundary();
    if (bi < boundary_scratch_.size() && bucket_scratch_[boundary_scratch_[bi]].slot == h) {
      take_block();
    } else {
      cursor = requests_[h].request_id;
      cursor_set = true;
    }
  }

  // Re-file every surviving entry at its next event step; finishing requests leave at the end.
  for (const CalendarEntry& e : bucket_scratch_) {
    if (!live(e) || e.generated_at_join + (step - e.join_step) == e.output_tokens) continue;
    calendar_insert(e, step);
  }
  batch_decodes_ = decode_count_;
  return preempted;
}

void Instance::release_kv(RequestState& r) {
  if (r.hashed_blocks_held > 0) {
    kv_.release_hashed(std::span<const std::uint64_t>(r.block_hashes.data(), static_cast<std::size_t>(r.hashed_blocks_held)),
                       sim_.now());
  }
  kv_.release(r.kv_blocks - r.hashed_blocks_held);
  r.kv_blocks = 0;
  r.hashed_blocks_held = 0;
}

void Instance::preempt(RequestSlot slot) {
  RequestState& r = requests_[slot];
  ++preempted_this_batch_;
  const bool decoding = r.phase == RequestPhase::kDecode;
  if (decoding) leave_decode(slot, r);
  if (decoding && options_.preemption_mode == PreemptionMode::kSwap && swap_used_ + r.kv_blocks <= options_.swap_blocks) {
    const std::int64_t blocks = r.kv_blocks;
    release_kv(r);
    r.swapped_blocks = blocks;
    swap_used_ += blocks;
    swap_transfer_blocks_ += blocks;
    running_erase(r.request_id);
    r.phase = RequestPhase::kSwapped;
    ++r.preemptions;
    swapped_.push_back(slot);
    signals_.preempt(r);
    return;
  }
  if (decoding) {
    // already out of the decode set
  } else if (r.phase == RequestPhase::kPrefill) {
    ongoing_prefills_.erase(std::find(ongoing_prefills_.begin(), ongoing_prefills_.end(), slot));
    // A prefill chunk of this request already in the batch under construction is dropped.
    for (std::size_t i = 0; i < segment_slots_.size(); ++i) {
      if (segment_slots_[i] == slot) {
        batch_prefill_tokens_ -= segments_[i].new_tokens;
        segments_.erase(segments_.begin() + static_cast<std::ptrdiff_t>(i));
        segment_slots_.erase(segment_slots_.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
    r.prefilled_tokens = 0;
    requests_.invalidate(slot);
  } else {
    throw std::logic_error("preempt: request " + std::to_string(r.request_id) + " is not running");
  }
  release_kv(r);
  running_erase(r.request_id);
  r.phase = RequestPhase::kWaiting;
  ++r.preemptions;
  waiting_.push_front(slot);
  signals_.preempt(r);
}

bool Instance::can_swap_in_front(std::int64_t watermark_blocks) const {
  if (swapped_.empty()) return false;
  const RequestState& r = requests_[swapped_.front()];
  const std::int64_t kv_tokens = r.req.prompt_tokens + r.generated_tokens - 1;
  const std::int64_t need = r.swapped_blocks + (kv_tokens == r.swapped_blocks * kv_.block_size() ? 1 : 0);
  return kv_.free_blocks() - need >= watermark_blocks;
}

// With prefix caching, a swapped-out request dropped its references to shared prefix blocks;
// it comes back with private copies of all its blocks (the sharing is not restored).
void Instance::swap_in_front() {
  const RequestSlot slot = swapped_.front();
  swapped_.pop_front();
  RequestState& r = requests_[slot];
  kv_.allocate(r.swapped_blocks);
  r.kv_blocks = r.swapped_blocks;
  swap_used_ -= r.swapped_blocks;
  swap_transfer_blocks_ += r.swapped_blocks;
  r.swapped_blocks = 0;
  running_insert(r.request_id, slot);
  // Join the decode set as of the step being scheduled (schedule_decodes() already ran for it):
  // do that step's block and finish bookkeeping here.
  const std::int64_t step = decode_step_ + 1;
  r.phase = RequestPhase::kDecode;
  r.join_step = decode_step_;
  r.kv_tokens_at_join = r.req.prompt_tokens + r.generated_tokens - 1;
  r.generated_at_join = r.generated_tokens;
  ++decode_count_;
  sum_kv_minus_join_ += r.kv_tokens_at_join - r.join_step;
  if (r.kv_tokens_at_join == r.kv_blocks * kv_.block_size()) {
    kv_.allocate(1);
    ++r.kv_blocks;
  }
  const std::uint32_t generation = requests_.generation(slot);
  if (r.generated_at_join + 1 == r.req.output_tokens) {
    finishing_.push_back(SlotRef{slot, generation});
  } else {
    calendar_insert(calendar_entry(slot, r), step);
  }
  joiners_.push_back(SlotRef{slot, generation});
}

// ------------------------------------------------------------------------------ iteration cycle

void Instance::on_schedule() {
  schedule_pending_ = false;
  segments_.clear();
  segment_slots_.clear();
  batch_prefill_tokens_ = 0;
  batch_has_decodes_ = false;
  batch_decodes_ = 0;
  preempted_this_batch_ = 0;
  swap_transfer_blocks_ = 0;
  finishing_.clear();
  batcher_->schedule(*this);
  if (batch_has_decodes_) batch_decodes_ = decode_count_;
  if (segments_.empty() && batch_decodes_ == 0) {
    batch_has_decodes_ = false;
    busy_ = false;
    return;
  }
  BatchShape shape;
  shape.prefills = segments_;
  shape.decode_requests = batch_decodes_;
  shape.decode_context_tokens = batch_decodes_ > 0 ? sum_kv_minus_join_ + decode_count_ * (decode_step_ + 1) : 0;
  const IterationCost cost = cost_model_->estimate(shape);
  // Swap copies run on the same stream before the forward pass (vLLM's cache engine).
  const double swap_ns = swap_transfer_blocks_ > 0 && options_.host_link_bytes_per_ns > 0
                             ? static_cast<double>(swap_transfer_blocks_) * options_.kv_bytes_per_block / options_.host_link_bytes_per_ns
                             : 0.0;
  const TimeNs duration = std::max<TimeNs>(cost.duration_ns + static_cast<TimeNs>(swap_ns), 1);
  busy_ = true;
  batch_start_ns_ = sim_.now();
  IterationRecord rec;
  rec.instance_id = id_;
  rec.iteration = iteration_;
  rec.start_ns = batch_start_ns_;
  rec.duration_ns = duration;
  rec.prefill_tokens = batch_prefill_tokens_;
  rec.decode_tokens = batch_decodes_;
  rec.num_prefills = static_cast<std::int64_t>(segments_.size());
  rec.batch_size = rec.num_prefills + batch_decodes_;
  rec.kv_blocks_used = kv_.used_blocks();
  rec.kv_blocks_total = kv_.total_blocks();
  rec.running = static_cast<std::int64_t>(running_.size());
  rec.token_budget = batcher_->token_budget();
  rec.seq_budget = batcher_->seq_budget();
  signals_.iteration(rec);
  sim_.schedule_at(batch_start_ns_ + duration, Phase::kCompletion, [this] { on_complete(); });
}

void Instance::on_complete() {
  const TimeNs now = sim_.now();
  ++iteration_;
  if (batch_has_decodes_ && batch_decodes_ > 0) {
    ++decode_step_;
    // TBT: requests that joined since the last decode step measure from their own last token;
    // the others all waited now − last_decode_end.
    std::int64_t joined = 0;
    for (const SlotRef& e : joiners_) {
      if (requests_.generation(e.slot) != e.generation) continue;
      RequestState& r = requests_[e.slot];
      const TimeNs gap = now - r.last_token_ns;
      r.max_tbt_ns = std::max(r.max_tbt_ns, gap);
      signals_.tbt(gap, 1);
      ++joined;
    }
    joiners_.clear();
    const std::int64_t continuing = batch_decodes_ - joined;
    if (continuing > 0) {
      const TimeNs gap = now - last_decode_end_ns_;
      signals_.tbt(gap, continuing);
      while (!gap_stack_.empty() && gap_stack_.back().second <= gap) gap_stack_.pop_back();
      gap_stack_.emplace_back(decode_step_, gap);
    }
    last_decode_end_ns_ = now;
    for (const SlotRef& e : finishing_) {
      if (requests_.generation(e.slot) != e.generation) continue;
      RequestState& r = requests_[e.slot];
      leave_decode(e.slot, r);
      r.last_token_ns = now;
      finish(e.slot);
    }
    finishing_.clear();
  }
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const RequestSlot slot = segment_slots_[i];
    RequestState& r = requests_[slot];
    const std::int32_t before = r.prefilled_tokens;
    r.prefilled_tokens += segments_[i].new_tokens;
    if (r.hashed_blocks_held > 0) {  // full prompt blocks this chunk completed are now reusable
      const auto from = static_cast<std::size_t>(before / kv_.block_size());
      const auto to = std::min(static_cast<std::size_t>(r.prefilled_tokens / kv_.block_size()),
                               static_cast<std::size_t>(r.hashed_blocks_held));
      if (to > from) kv_.mark_computed(std::span<const std::uint64_t>(r.block_hashes.data() + from, to - from));
    }
    if (r.prefilled_tokens == r.prefill_target_tokens) {
      ongoing_prefills_.erase(std::find(ongoing_prefills_.begin(), ongoing_prefills_.end(), slot));
      emit_prefill_token(slot);
    }
  }
  segments_.clear();
  segment_slots_.clear();
  batch_has_decodes_ = false;
  busy_ = false;
  if (waiting_.empty() && running_.empty() && swapped_.empty()) return;
  if (sim_.has_event_now()) {
    wake();          // same-time arrivals and completions go first
  } else {
    on_schedule();   // nothing else happens at this instant: form the next batch now
  }
}

void Instance::emit_prefill_token(RequestSlot slot) {
  RequestState& r = requests_[slot];
  const TimeNs now = sim_.now();
  ++r.generated_tokens;
  if (r.first_token_ns < 0) {
    r.first_token_ns = now;
    signals_.first_token(r);
  } else {  // the first token after a recompute preemption
    const TimeNs gap = now - r.last_token_ns;
    r.max_tbt_ns = std::max(r.max_tbt_ns, gap);
    signals_.tbt(gap, 1);
  }
  r.last_token_ns = now;
  if (r.generated_tokens >= r.req.output_tokens) {
    finish(slot);
  } else {
    join_decode(slot);
  }
}

void Instance::finish(RequestSlot slot) {
  RequestState& r = requests_[slot];
  r.generated_tokens = r.req.output_tokens;
  r.phase = RequestPhase::kFinished;
  r.finish_ns = sim_.now();
  release_kv(r);
  running_erase(r.request_id);
  signals_.finish(r);
  requests_.release(slot);
}

void Instance::check_consistency() const {
  std::int64_t private_held = 0, hashed_held = 0, decoding = 0, swapped = 0;
  // Between schedule and completion, the decode step in flight has its blocks already.
  const std::int64_t steps = decode_step_ + (batch_has_decodes_ && batch_decodes_ > 0 ? 1 : 0);
  for (const auto& [order, slot] : running_) {
    const RequestState& r = requests_[slot];
    // A decoding request's blocks are derived from its tokens; the cache's books must agree.
    const std::int64_t blocks = r.phase == RequestPhase::kDecode ? decode_blocks(r, steps) : r.kv_blocks;
    private_held += blocks - r.hashed_blocks_held;
    hashed_held += r.hashed_blocks_held;
    if (r.phase == RequestPhase::kDecode) {
      ++decoding;
    } else if (r.phase != RequestPhase::kPrefill) {
      throw std::logic_error("instance " + std::to_string(id_) + ": non-running request in the running set");
    }
  }
  if (private_held != kv_.private_blocks() || hashed_held != kv_.hashed_references()) {
    throw std::logic_error("instance " + std::to_string(id_) + ": requests hold " + std::to_string(private_held) +
                           " private and " + std::to_string(hashed_held) + " shared KV blocks but the cache counts " +
                           std::to_string(kv_.private_blocks()) + " and " + std::to_string(kv_.hashed_references()));
  }
  if (kv_.private_blocks() + kv_.live_hashed_blocks() != kv_.used_blocks()) {
    throw std::logic_error("instance " + std::to_string(id_) + ": KV cache books do not balance");
  }
  for (RequestSlot slot : swapped_) swapped += requests_[slot].swapped_blocks;
  if (swapped != swap_used_) throw std::logic_error("instance " + std::to_string(id_) + ": swap space books do not balance");
  if (decoding != decode_count_) throw std::logic_error("instance " + std::to_string(id_) + ": decode count mismatch");
}

}  // namespace servesim
