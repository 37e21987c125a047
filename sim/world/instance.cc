// sim/world/instance.cc — iteration mechanics of one instance; see instance.h for the design.
#include "sim/world/instance.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "policies/batching/batcher.h"
#include "policies/queueing/queue_order.h"
#include "sim/world/request_table.h"

namespace servesim {

const char* to_string(InstanceRole role) {
  switch (role) {
    case InstanceRole::kColocated:
      return "colocated";
    case InstanceRole::kPrefill:
      return "prefill";
    case InstanceRole::kDecode:
      return "decode";
  }
  return "?";
}

const char* to_string(InstanceState state) {
  switch (state) {
    case InstanceState::kStarting:
      return "starting";
    case InstanceState::kActive:
      return "active";
    case InstanceState::kDraining:
      return "draining";
    case InstanceState::kStopped:
      return "stopped";
  }
  return "?";
}

namespace {

std::string request_text(const RequestState& r) {
  return "request " + std::to_string(r.request_id);
}

}  // namespace

Instance::Instance(InstanceId id, int pool, const InstanceWorld& world,
                   const InstanceOptions& options, std::shared_ptr<const CostModel> cost_model,
                   std::unique_ptr<Batcher> batcher, const QueueOrderFactory& make_queue_order)
    : id_(id),
      pool_(pool),
      sim_(world.sim),
      requests_(world.requests),
      signals_(world.signals),
      host_(world.host),
      options_(options),
      kv_(options.kv_blocks, options.block_size_tokens, options.prefix_caching),
      cost_model_(std::move(cost_model)),
      batcher_(std::move(batcher)),
      queue_(make_queue_order(QueueOrderContext{id, &kv_,
                                                [this](RequestSlot s) {
                                                  return std::span<const std::uint64_t>(
                                                      prompt_block_hashes(requests_[s]));
                                                }})),
      queue_wants_events_(queue_->wants_decode_events()),
      victim_order_(batcher_->victim_order()) {
  const int groups = std::max(1, batcher_->decode_groups());
  groups_.reserve(static_cast<std::size_t>(groups));
  for (int g = 0; g < groups; ++g)
    groups_.emplace_back(g, id_, options.block_size_tokens, requests_);
  slots_ = std::max(1, batcher_->pipeline_slots());
  if (slots_ > groups) {
    throw std::logic_error("batcher asks for " + std::to_string(slots_) +
                           " pipeline slots but only " + std::to_string(groups) + " decode groups");
  }
  batches_.resize(static_cast<std::size_t>(slots_));
  watermark_blocks_ = batcher_->watermark_blocks();
}

std::int64_t Instance::seq_budget() const { return batcher_->seq_budget(); }

Instance::~Instance() = default;

// ------------------------------------------------------------------------------ queries

RequestSlot Instance::waiting_head() const { return queue_->head(); }

bool Instance::empty() const {
  return in_flight_ == 0 && !forming_batch_ && waiting_ == 0 && running_.empty() &&
         swapped_.empty() && handoff_.empty() && incoming_.empty() && leases_ == 0;
}

InstanceLoad Instance::load() const {
  InstanceLoad l;
  l.instance = id_;
  l.state = state_;
  l.waiting = static_cast<std::int64_t>(waiting_);
  l.running = static_cast<std::int64_t>(running_.size());
  for (const DecodeGroup& g : groups_) l.decoding += g.count();
  l.swapped = static_cast<std::int64_t>(swapped_.size());
  l.handoff = static_cast<std::int64_t>(handoff_.size());
  l.kv_total_blocks = kv_.total_blocks();
  l.kv_free_blocks = kv_.free_blocks();
  l.watermark_blocks = watermark_blocks_;
  l.queued_prefill_tokens = queued_prefill_tokens_;
  l.waiting_demand_blocks = waiting_demand_blocks_;
  l.killed = waiting_preempted_ + l.swapped;
  l.high_priority = high_priority_;
  l.reserved_blocks = reserved_blocks_;
  return l;
}

InstanceLoad Instance::load_with_head() {
  InstanceLoad l = load();
  if (waiting_ > 0) {
    const RequestState& r = requests_[queue_->head()];
    l.head_demand_blocks = kv_.blocks_for_tokens(r.req.prompt_tokens + r.generated_tokens);
  }
  return l;
}

void Instance::queue_in(RequestSlot slot, const RequestState& r) {
  ++waiting_;
  queued_prefill_tokens_ += prefill_tokens_needed(slot);  // until admitted and prefilled
  waiting_demand_blocks_ += kv_.blocks_for_tokens(r.req.prompt_tokens + r.generated_tokens);
  if (r.preemptions > 0) ++waiting_preempted_;
}

void Instance::queue_out(RequestSlot slot, const RequestState& r, bool admitted) {
  --waiting_;
  if (!admitted) queued_prefill_tokens_ -= prefill_tokens_needed(slot);
  waiting_demand_blocks_ -= kv_.blocks_for_tokens(r.req.prompt_tokens + r.generated_tokens);
  if (r.preemptions > 0) --waiting_preempted_;
}

void Instance::left(const RequestState& r, LeaveReason why) {
  if (r.req.priority > 0) --high_priority_;
  host_.on_request_left(*this, r, why);
}

// ------------------------------------------------------------------------------ waiting

void Instance::enqueue(RequestSlot slot, WaitReason why) {
  RequestState& r = requests_[slot];
  r.instance_id = id_;
  if (r.first_instance_id < 0) r.first_instance_id = id_;
  r.phase = RequestPhase::kWaiting;
  if (r.req.priority > 0) ++high_priority_;
  if (why == WaitReason::kArrival) {
    if (const char* reason = queue_->refuse(queued_view(slot, r), sim_.now())) {
      reject(slot, reason);
      return;
    }
  }
  queue_->push(queued_view(slot, r), why);
  queue_in(slot, r);
  wake();
}

void Instance::wake() {
  if (in_flight_ >= slots_ || schedule_pending_ || forming_batch_) return;
  if (sim_.now() < stage_free_ns_) return;  // the stage-free event wakes it
  schedule_pending_ = true;
  sim_.schedule_at(sim_.now(), Phase::kSchedule, [this] { on_schedule(); });
}

const std::vector<std::uint64_t>& Instance::prompt_block_hashes(RequestState& r) {
  if (r.block_hashes_block_size != kv_.block_size()) {
    kv_block_hashes(r.req.prefix_hashes, r.req.prefix_block_tokens, r.req.prompt_tokens,
                    kv_.block_size(), r.block_hashes);
    r.block_hashes_block_size = kv_.block_size();
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

void Instance::reject_head(const char* reason) {
  const RequestSlot slot = queue_->head();
  queue_->pop_head();
  queue_out(slot, requests_[slot], false);
  reject(slot, reason);
}

void Instance::reject(RequestSlot slot, const char* reason) {
  RequestState& r = requests_[slot];
  r.phase = RequestPhase::kRejected;
  r.reject_reason = reason;
  r.finish_ns = sim_.now();
  signals_.reject(r);
  left(r, LeaveReason::kRejected);
  requests_.release(slot);
}

std::int32_t Instance::admit_head(std::int32_t max_chunk_tokens, std::int64_t reserve_tokens) {
  const RequestSlot slot = queue_->head();
  queue_->pop_head();
  RequestState& r = requests_[slot];
  queue_out(slot, r, /*admitted=*/true);
  const std::int32_t n = r.req.prompt_tokens + r.generated_tokens;
  const std::int64_t total = kv_.blocks_for_tokens(std::max<std::int64_t>(n, reserve_tokens));
  std::int32_t cached = 0;
  std::int64_t hashed = 0;
  if (kv_.prefix_caching()) {
    const std::vector<std::uint64_t>& hashes = prompt_block_hashes(r);
    const KvCache::Match m = kv_.match(hashes);
    r.block_handles.clear();
    kv_.acquire(hashes, m.present, sim_.now(), r.block_handles);
    hashed = static_cast<std::int64_t>(hashes.size());
    // A hit is the run of leading computed blocks, never the whole prompt: the last block is
    // always computed again (it produces the first token).
    const std::int64_t hit_blocks =
        std::min<std::int64_t>(m.computed, kv_.blocks_for_tokens(n) - 1);
    cached = static_cast<std::int32_t>(std::max<std::int64_t>(hit_blocks, 0) * kv_.block_size());
  }
  kv_.allocate(total - hashed);
  r.kv_blocks = total;
  r.hashed_blocks_held = static_cast<std::int32_t>(hashed);
  r.cached_tokens = cached;
  r.phase = RequestPhase::kPrefill;
  r.prefill_target_tokens = n;
  r.prefilled_tokens = cached;
  queued_prefill_tokens_ -= cached;
  if (r.admitted_ns < 0) r.admitted_ns = sim_.now();
  r.prefill_start_ns = sim_.now();
  running_insert(r, slot);
  ongoing_prefills_.push_back(slot);
  queue_->on_admit(queued_view(slot, r), n - cached);
  signals_.admit(r);
  const std::int32_t chunk = std::min(n - cached, max_chunk_tokens);
  continue_prefill(slot, chunk);
  return chunk;
}

void Instance::continue_prefill(RequestSlot slot, std::int32_t chunk_tokens) {
  const RequestState& r = requests_[slot];
  Batch& batch = batches_[static_cast<std::size_t>(forming_)];
  batch.segments.push_back(PrefillSegment{chunk_tokens, r.prefilled_tokens});
  batch.segment_slots.push_back(slot);
  batch.prefill_tokens += chunk_tokens;
}

// ------------------------------------------------------------------------------ running order

std::uint64_t Instance::rank_of(const RequestState& r) const {
  return running_rank(victim_order_, r);
}

void Instance::running_insert(const RequestState& r, RequestSlot slot) {
  const RunningEntry e{rank_of(r), slot};
  if (running_.empty() || running_.back() < e) {
    running_.push_back(e);
  } else {
    running_.insert(std::upper_bound(running_.begin(), running_.end(), e), e);
  }
}

void Instance::running_erase(const RequestState& r) {
  const std::uint64_t rank = rank_of(r);
  auto it = std::lower_bound(running_.begin(), running_.end(), RunningEntry{rank, 0});
  if (it == running_.end() || it->first != rank) {
    throw std::logic_error("instance " + std::to_string(id_) + ": running set lost " +
                           request_text(r));
  }
  running_.erase(it);
}

DecodeGroup::Host::Member Instance::next_member_after(int group, bool has_after,
                                                      std::uint64_t after_rank) {
  auto it = has_after ? std::upper_bound(running_.begin(), running_.end(),
                                         RunningEntry{after_rank, kNoSlot})
                      : running_.begin();
  for (; it != running_.end(); ++it) {
    const RequestState& r = requests_[it->second];
    if (r.phase == RequestPhase::kDecode && r.decode_group == group)
      return Member{it->second, it->first};
  }
  return Member{};
}

bool Instance::chunk_in_flight(RequestSlot slot) const {
  for (const Batch& b : batches_) {
    if (b.live &&
        std::find(b.segment_slots.begin(), b.segment_slots.end(), slot) != b.segment_slots.end())
      return true;
  }
  return false;
}

std::int64_t Instance::schedule_decodes(bool one_free_block_each, int group) {
  std::vector<int>& stepping = batches_[static_cast<std::size_t>(forming_)].groups;
  std::int64_t preempted = 0;
  for (int g = 0; g < static_cast<int>(groups_.size()); ++g) {
    if (group != kAllGroups && g != group) continue;
    if (groups_[static_cast<std::size_t>(g)].in_batch()) {
      if (group == kAllGroups) continue;  // in flight in another batch (or already stepped here)
      throw std::logic_error("instance " + std::to_string(id_) + ": decode group " +
                             std::to_string(g) + " is already in a batch");
    }
    stepping.push_back(g);
    preempted +=
        groups_[static_cast<std::size_t>(g)].schedule_step(kv_, *this, one_free_block_each);
  }
  return preempted;
}

TimeNs Instance::iteration_end_ns() const {
  TimeNs end = -1;
  for (const Batch& b : batches_) {
    if (b.live && (end < 0 || b.end_ns < end)) end = b.end_ns;
  }
  return end;
}

RequestSlot Instance::preempt_victim(int group) {
  // The highest-ranked running request that is still prefilling or belongs to `group` (members
  // of other groups may have their step in this batch already).
  for (auto it = running_.rbegin(); it != running_.rend(); ++it) {
    const RequestState& r = requests_[it->second];
    if (r.phase == RequestPhase::kPrefill && slots_ > 1 && chunk_in_flight(it->second)) continue;
    if (r.phase == RequestPhase::kPrefill || r.decode_group == group) {
      const RequestSlot victim = it->second;
      preempt(victim);
      return victim;
    }
  }
  throw std::logic_error("instance " + std::to_string(id_) +
                         ": no preemption victim in decode group " + std::to_string(group));
}

// ------------------------------------------------------------------------------ decode groups

bool Instance::group_in_flight(int g) const {
  if (!groups_[static_cast<std::size_t>(g)].in_batch()) return false;
  if (forming_ < 0) return true;
  const std::vector<int>& forming = batches_[static_cast<std::size_t>(forming_)].groups;
  return std::find(forming.begin(), forming.end(), g) == forming.end();
}

void Instance::join_decode(RequestSlot slot, RequestState& r) {
  // The smallest group whose step is not in flight (ties: the lowest index) takes it.
  std::size_t g = groups_.size();
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    if (group_in_flight(static_cast<int>(i))) continue;
    if (g == groups_.size() || groups_[i].count() < groups_[g].count()) g = i;
  }
  if (g == groups_.size())
    throw std::logic_error("instance " + std::to_string(id_) + ": every decode group is in flight");
  r.phase = RequestPhase::kDecode;
  groups_[g].join(slot, r, rank_of(r), kv_);
  if (queue_wants_events_)
    queue_->on_decode_join(queued_view(slot, r), static_cast<int>(g), groups_[g].steps());
}

void Instance::leave_decode(RequestSlot slot, RequestState& r, bool finished) {
  DecodeGroup& g = groups_[static_cast<std::size_t>(r.decode_group)];
  g.leave(slot, r);
  if (queue_wants_events_)
    queue_->on_decode_leave(queued_view(slot, r), g.index(), g.steps(), finished);
}

void Instance::release_kv(RequestState& r) {
  if (r.hashed_blocks_held > 0) {
    kv_.release_hashed(r.block_handles, sim_.now());
    r.block_handles.clear();
  }
  kv_.release(r.kv_blocks - r.hashed_blocks_held);
  r.kv_blocks = 0;
  r.hashed_blocks_held = 0;
}

void Instance::preempt(RequestSlot slot) {
  RequestState& r = requests_[slot];
  ++preempted_this_batch_;
  ++r.preemptions;
  const bool decoding = r.phase == RequestPhase::kDecode;
  if (decoding) {
    leave_decode(slot, r, /*finished=*/false);
    if (options_.preemption_mode == PreemptionMode::kSwap &&
        swap_used_ + r.kv_blocks <= options_.swap_blocks) {
      const std::int64_t blocks = r.kv_blocks;
      release_kv(r);
      r.swapped_blocks = blocks;
      swap_used_ += blocks;
      swap_transfer_blocks_ += blocks;
      running_erase(r);
      r.phase = RequestPhase::kSwapped;
      swapped_.push_back(slot);
      signals_.preempt(r);
      return;
    }
  } else if (r.phase == RequestPhase::kPrefill) {
    ongoing_prefills_.erase(std::find(ongoing_prefills_.begin(), ongoing_prefills_.end(), slot));
    queued_prefill_tokens_ -= r.prefill_target_tokens - r.prefilled_tokens;
    // A prefill chunk of this request already in the batch under construction is dropped.
    Batch& batch = batches_[static_cast<std::size_t>(forming_)];
    for (std::size_t i = 0; i < batch.segment_slots.size(); ++i) {
      if (batch.segment_slots[i] == slot) {
        batch.prefill_tokens -= batch.segments[i].new_tokens;
        batch.segments.erase(batch.segments.begin() + static_cast<std::ptrdiff_t>(i));
        batch.segment_slots.erase(batch.segment_slots.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
    r.prefilled_tokens = 0;
    requests_.invalidate(slot);
  } else {
    throw std::logic_error("preempt: " + request_text(r) + " is not running");
  }
  release_kv(r);
  running_erase(r);
  r.phase = RequestPhase::kWaiting;
  queue_->push(queued_view(slot, r), QueueOrder::Reason::kPreempted);
  queue_in(slot, r);
  signals_.preempt(r);
}

bool Instance::can_swap_in_head(std::int64_t watermark_blocks) const {
  if (swapped_.empty()) return false;
  const RequestState& r = requests_[swapped_.front()];
  const std::int64_t kv_tokens = r.req.prompt_tokens + r.generated_tokens - 1;
  const std::int64_t need =
      r.swapped_blocks + (kv_tokens == r.swapped_blocks * kv_.block_size() ? 1 : 0);
  return kv_.free_blocks() - need >= watermark_blocks;
}

// With prefix caching, a swapped-out request dropped its references to shared prefix blocks;
// it comes back with private copies of all its blocks (the sharing is not restored).
void Instance::swap_in_head() {
  const RequestSlot slot = swapped_.front();
  swapped_.pop_front();
  RequestState& r = requests_[slot];
  const std::int64_t blocks = r.swapped_blocks;
  swap_used_ -= blocks;
  swap_transfer_blocks_ += blocks;
  r.swapped_blocks = 0;
  if (!reserve_blocks(slot, blocks))
    throw std::logic_error("swap_in_head: " + request_text(r) + " does not fit");
  join_reserved(slot);
}

// ------------------------------------------------------------------------------ movement

KvLease Instance::detach(RequestSlot slot) {
  check_not_forming("detach");
  RequestState& r = requests_[slot];
  KvLease lease;
  lease.instance = id_;
  lease.slot = slot;
  const bool was_admitted = r.phase != RequestPhase::kWaiting;
  switch (r.phase) {
    case RequestPhase::kWaiting:
      if (!queue_->remove(slot))
        throw std::logic_error("detach: " + request_text(r) + " is not queued here");
      queue_out(slot, r, false);
      break;
    case RequestPhase::kDecode:
      if (in_flight(slot))
        throw std::logic_error("detach: " + request_text(r) + " has a decode step in flight");
      leave_decode(slot, r, /*finished=*/false);
      running_erase(r);
      break;
    case RequestPhase::kHandoff:
      handoff_.erase(std::find(handoff_.begin(), handoff_.end(), slot));
      break;
    default:
      throw std::logic_error("detach: " + request_text(r) +
                             " is neither waiting, decoding nor handed off (only those can move)");
  }
  lease.blocks = r.kv_blocks;
  if (r.hashed_blocks_held > 0) {
    lease.hashed.assign(r.block_handles.begin(), r.block_handles.end());
    r.block_handles.clear();
  }
  leased_private_blocks_ += lease.blocks - static_cast<std::int64_t>(lease.hashed.size());
  leased_hashed_refs_ += static_cast<std::int64_t>(lease.hashed.size());
  ++leases_;
  r.kv_blocks = 0;
  r.hashed_blocks_held = 0;
  r.phase = RequestPhase::kInTransit;
  if (was_admitted) queue_->on_leave(queued_view(slot, r));
  left(r, LeaveReason::kDetached);
  return lease;
}

bool Instance::in_flight(RequestSlot slot) const {
  const RequestState& r = requests_[slot];
  return r.phase == RequestPhase::kDecode &&
         groups_[static_cast<std::size_t>(r.decode_group)].in_batch();
}

void Instance::release(KvLease&& lease) {
  if (lease.instance != id_) throw std::logic_error("release: a lease of another instance");
  const auto hashed = static_cast<std::int64_t>(lease.hashed.size());
  if (hashed > 0) kv_.release_hashed(lease.hashed, sim_.now());
  kv_.release(lease.blocks - hashed);
  leased_private_blocks_ -= lease.blocks - hashed;
  leased_hashed_refs_ -= hashed;
  --leases_;
  lease = KvLease{};
  if (has_waiting()) wake();
  host_.on_idle(*this);
}

void Instance::check_not_forming(const char* what) const {
  if (forming_batch_)
    throw std::logic_error(std::string(what) + " while instance " + std::to_string(id_) +
                           " forms a batch");
}

bool Instance::reserve_incoming(RequestSlot slot, std::int64_t blocks) {
  check_not_forming("reserve_incoming");
  return reserve_blocks(slot, blocks);
}

bool Instance::reserve_blocks(RequestSlot slot, std::int64_t blocks) {
  if (kv_.free_blocks() < blocks) return false;
  kv_.allocate(blocks);
  auto it = std::find_if(incoming_.begin(), incoming_.end(),
                         [slot](const auto& e) { return e.first == slot; });
  if (it == incoming_.end()) {
    incoming_.emplace_back(slot, blocks);
  } else {
    it->second += blocks;  // a migration's later stage grows its reservation
  }
  reserved_blocks_ += blocks;
  return true;
}

void Instance::cancel_incoming(RequestSlot slot) {
  check_not_forming("cancel_incoming");
  auto it = std::find_if(incoming_.begin(), incoming_.end(),
                         [slot](const auto& e) { return e.first == slot; });
  if (it == incoming_.end())
    throw std::logic_error("cancel_incoming: no reservation for slot " + std::to_string(slot));
  kv_.release(it->second);
  reserved_blocks_ -= it->second;
  incoming_.erase(it);
  if (has_waiting()) wake();
  host_.on_idle(*this);
}

void Instance::attach_decoding(RequestSlot slot) {
  check_not_forming("attach_decoding");
  auto it = std::find_if(incoming_.begin(), incoming_.end(),
                         [slot](const auto& e) { return e.first == slot; });
  if (it == incoming_.end())
    throw std::logic_error("attach_decoding: no reservation for slot " + std::to_string(slot));
  RequestState& r = requests_[slot];
  const std::int64_t need = kv_.blocks_for_tokens(r.req.prompt_tokens + r.generated_tokens - 1);
  if (it->second < need) {
    throw std::logic_error("attach_decoding: " + request_text(r) + " needs " +
                           std::to_string(need) + " blocks but reserved " +
                           std::to_string(it->second));
  }
  r.instance_id = id_;
  if (r.first_instance_id < 0) r.first_instance_id = id_;
  if (r.req.priority > 0) ++high_priority_;
  if (in_flight_ > 0) {  // joins at the next batch (kept reserved until then)
    arrived_.push_back(slot);
    return;
  }
  join_reserved(slot);
  wake();
}

void Instance::join_reserved(RequestSlot slot) {
  auto it = std::find_if(incoming_.begin(), incoming_.end(),
                         [slot](const auto& e) { return e.first == slot; });
  RequestState& r = requests_[slot];
  r.kv_blocks = it->second;
  r.hashed_blocks_held = 0;
  reserved_blocks_ -= it->second;
  incoming_.erase(it);
  running_insert(r, slot);
  join_decode(slot, r);
}

std::int64_t Instance::kv_blocks_of(RequestSlot slot) const {
  const RequestState& r = requests_[slot];
  if (r.phase == RequestPhase::kDecode)
    return groups_[static_cast<std::size_t>(r.decode_group)].blocks_of(r);
  return r.kv_blocks;
}

std::int32_t Instance::generated_tokens_of(RequestSlot slot) const {
  const RequestState& r = requests_[slot];
  if (r.phase != RequestPhase::kDecode) return r.generated_tokens;
  const DecodeGroup& g = groups_[static_cast<std::size_t>(r.decode_group)];
  return r.generated_at_join + static_cast<std::int32_t>(g.steps() - r.join_step);
}

// ------------------------------------------------------------------------------ iteration cycle

void Instance::on_schedule() {
  schedule_pending_ = false;
  const TimeNs now = sim_.now();
  if (in_flight_ >= slots_ || now < stage_free_ns_) return;  // woken early: a later event forms it
  std::size_t b = 0;
  while (batches_[b].live) ++b;
  forming_ = static_cast<int>(b);
  Batch& batch = batches_[b];
  batch.segments.clear();
  batch.segment_slots.clear();
  batch.groups.clear();
  batch.prefill_tokens = 0;
  preempted_this_batch_ = 0;
  swap_transfer_blocks_ = 0;
  for (const RequestSlot slot : arrived_) join_reserved(slot);  // attached while a batch ran
  arrived_.clear();
  forming_batch_ = true;
  batcher_->schedule(*this);
  forming_batch_ = false;
  forming_ = -1;
  std::int64_t decodes = 0, context = 0;
  for (const int g : batch.groups) {
    const DecodeGroup& group = groups_[static_cast<std::size_t>(g)];
    decodes += group.count();
    context += group.count() > 0 ? group.next_step_context_tokens() : 0;
  }
  if (batch.segments.empty() && decodes == 0) {
    for (const int g : batch.groups) groups_[static_cast<std::size_t>(g)].drop_empty_step();
    // Everything running was preempted and the batch is empty: form the next batch now (the
    // preempted requests wait again and may be admitted). Each such retry leaves nothing
    // running, so a second one in a row would be a bug, not a livelock to wait out.
    if (preempted_this_batch_ > 0 && has_waiting()) {
      if (++empty_rewakes_ > 1)
        throw std::logic_error("instance " + std::to_string(id_) + ": batcher livelock");
      wake();
    }
    return;
  }
  empty_rewakes_ = 0;
  BatchShape shape;
  shape.prefills = batch.segments;
  shape.decode_requests = decodes;
  shape.decode_context_tokens = context;
  const IterationCost cost = cost_model_->estimate(shape);
  // Swap copies run on the same stream before the forward pass (vLLM's cache engine).
  const double swap_ns = swap_transfer_blocks_ > 0 && options_.host_link_bytes_per_ns > 0
                             ? static_cast<double>(swap_transfer_blocks_) *
                                   options_.kv_bytes_per_block / options_.host_link_bytes_per_ns
                             : 0.0;
  if (cost.duration_ns > kMaxSimulatedNs - now || !(swap_ns < 1e18)) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "instance %d: the cost model prices an iteration (%lld prefill tokens, %lld "
                  "decodes) at %.6g s, beyond the simulator's horizon of %.3g s",
                  id_, static_cast<long long>(batch.prefill_tokens),
                  static_cast<long long>(decodes), static_cast<double>(cost.duration_ns) * 1e-9,
                  kMaxSimulatedS);
    throw ConfigError(std::string(buf) +
                      "; check cluster.cost_model and the hardware's step_overhead_us");
  }
  const TimeNs duration = std::max<TimeNs>(cost.duration_ns + static_cast<TimeNs>(swap_ns), 1);
  batch.live = true;
  batch.start_ns = now;
  batch.end_ns = now + duration;
  ++in_flight_;
  // The first pipeline stage takes the next micro-batch once this one has left it.
  stage_free_ns_ = slots_ > 1 ? now + std::max<TimeNs>(1, duration / slots_) : batch.end_ns;
  IterationRecord rec;
  rec.instance_id = id_;
  rec.iteration = batches_formed_++;
  rec.start_ns = now;
  rec.duration_ns = duration;
  rec.prefill_tokens = batch.prefill_tokens;
  rec.decode_tokens = decodes;
  rec.num_prefills = static_cast<std::int64_t>(batch.segments.size());
  rec.batch_size = rec.num_prefills + decodes;
  rec.kv_blocks_used = kv_.used_blocks();
  rec.kv_blocks_total = kv_.total_blocks();
  rec.running = static_cast<std::int64_t>(running_.size());
  rec.token_budget = batcher_->token_budget();
  rec.seq_budget = batcher_->seq_budget();
  double kernels_ns = 0, all_ns = 0;
  for (int c = 0; c < kNumOpClasses; ++c) {
    all_ns += cost.breakdown_ns[static_cast<std::size_t>(c)];
    if (c <= static_cast<int>(OpClass::kElementwise))
      kernels_ns += cost.breakdown_ns[static_cast<std::size_t>(c)];
  }
  rec.kernel_fraction = all_ns > 0 ? kernels_ns / all_ns : 1.0;
  signals_.iteration(rec);
  sim_.schedule_at(batch.end_ns, Phase::kCompletion, [this, b] { on_complete(b); });
  if (in_flight_ < slots_) sim_.schedule_at(stage_free_ns_, Phase::kSchedule, [this] { wake(); });
}

void Instance::on_complete(std::size_t b) {
  const TimeNs now = sim_.now();
  Batch& batch = batches_[b];
  ++iteration_;
  finished_scratch_.clear();
  for (const int gi : batch.groups) {
    DecodeGroup& g = groups_[static_cast<std::size_t>(gi)];
    const std::int64_t before = g.steps();
    const std::int64_t tokens = g.complete_step(now, signals_, finished_scratch_);
    if (queue_wants_events_ && g.steps() != before) {
      queue_->on_decode_step(DecodeStepInfo{g.index(), g.steps(), tokens});
    }
  }
  for (const RequestSlot slot : finished_scratch_) {
    RequestState& r = requests_[slot];
    leave_decode(slot, r, /*finished=*/true);
    r.last_token_ns = now;
    finish(slot);
  }
  for (std::size_t i = 0; i < batch.segments.size(); ++i) {
    const RequestSlot slot = batch.segment_slots[i];
    RequestState& r = requests_[slot];
    const std::int32_t before = r.prefilled_tokens;
    r.prefilled_tokens += batch.segments[i].new_tokens;
    queued_prefill_tokens_ -= batch.segments[i].new_tokens;
    if (r.hashed_blocks_held > 0) {  // full prompt blocks this chunk completed are now reusable
      const auto from = static_cast<std::size_t>(before / kv_.block_size());
      const auto to = std::min(static_cast<std::size_t>(r.prefilled_tokens / kv_.block_size()),
                               static_cast<std::size_t>(r.hashed_blocks_held));
      if (to > from)
        kv_.mark_computed(
            std::span<const KvCache::BlockHandle>(r.block_handles.data() + from, to - from));
    }
    if (r.prefilled_tokens == r.prefill_target_tokens) {
      ongoing_prefills_.erase(std::find(ongoing_prefills_.begin(), ongoing_prefills_.end(), slot));
      emit_prefill_token(slot);
    }
  }
  batch.segments.clear();
  batch.segment_slots.clear();
  batch.groups.clear();
  batch.live = false;
  --in_flight_;
  if (waiting_ == 0 && running_.empty() && swapped_.empty() && arrived_.empty()) {
    if (in_flight_ == 0) host_.on_idle(*this);
    return;
  }
  if (sim_.has_event_now() || now < stage_free_ns_) {
    wake();  // same-time arrivals and completions go first (or the first stage is still busy)
  } else {
    on_schedule();  // nothing else happens at this instant: form the next batch now
  }
}

void Instance::emit_prefill_token(RequestSlot slot) {
  RequestState& r = requests_[slot];
  const TimeNs now = sim_.now();
  ++r.generated_tokens;
  r.prefill_instance_id = id_;
  if (r.first_token_ns < 0) {
    r.first_token_ns = now;
    signals_.first_token(r);
  } else {  // the first token after a recompute preemption
    const TimeNs gap = now - r.last_token_ns;
    r.max_tbt_ns = std::max(r.max_tbt_ns, gap);
    signals_.tbt(id_, gap, 1);
  }
  r.last_token_ns = now;
  if (r.generated_tokens >= r.req.output_tokens) {
    finish(slot);
  } else if (options_.role == InstanceRole::kPrefill) {
    running_erase(r);
    r.phase = RequestPhase::kHandoff;
    r.prefill_done_ns = now;
    handoff_.push_back(slot);
    host_.on_prefill_done(*this, slot);
  } else {
    join_decode(slot, r);
  }
}

void Instance::finish(RequestSlot slot) {
  RequestState& r = requests_[slot];
  r.phase = RequestPhase::kFinished;
  r.finish_ns = sim_.now();
  release_kv(r);
  running_erase(r);
  signals_.finish(r);
  queue_->on_leave(queued_view(slot, r));
  left(r, LeaveReason::kFinished);
  requests_.release(slot);
}

void Instance::check_consistency() const {
  const std::string me = "instance " + std::to_string(id_);
  std::int64_t private_held = 0, hashed_held = 0, swapped = 0;
  std::vector<std::int64_t> members(groups_.size(), 0);
  for (const auto& [rank, slot] : running_) {
    const RequestState& r = requests_[slot];
    // A decoding request's blocks are derived from its tokens; the cache's books must agree.
    std::int64_t blocks = r.kv_blocks;
    if (r.phase == RequestPhase::kDecode) {
      blocks = groups_[static_cast<std::size_t>(r.decode_group)].blocks_of(r);
      ++members[static_cast<std::size_t>(r.decode_group)];
    } else if (r.phase != RequestPhase::kPrefill) {
      throw std::logic_error(me + ": non-running " + request_text(r) + " in the running set");
    }
    if (r.instance_id != id_)
      throw std::logic_error(me + ": " + request_text(r) + " runs here but names another instance");
    if (r.block_handles.size() != static_cast<std::size_t>(r.hashed_blocks_held))
      throw std::logic_error(me + ": " + request_text(r) + " holds " +
                             std::to_string(r.block_handles.size()) + " block handles for " +
                             std::to_string(r.hashed_blocks_held) + " hashed blocks");
    private_held += blocks - r.hashed_blocks_held;
    hashed_held += r.hashed_blocks_held;
  }
  for (RequestSlot slot : handoff_) {
    const RequestState& r = requests_[slot];
    private_held += r.kv_blocks - r.hashed_blocks_held;
    hashed_held += r.hashed_blocks_held;
  }
  private_held += reserved_blocks_ + leased_private_blocks_;
  hashed_held += leased_hashed_refs_;
  if (private_held != kv_.private_blocks() || hashed_held != kv_.hashed_references()) {
    throw std::logic_error(
        me + ": requests, leases and reservations hold " + std::to_string(private_held) +
        " private and " + std::to_string(hashed_held) + " shared KV blocks but the cache counts " +
        std::to_string(kv_.private_blocks()) + " and " + std::to_string(kv_.hashed_references()));
  }
  if (kv_.private_blocks() + kv_.live_hashed_blocks() != kv_.used_blocks()) {
    throw std::logic_error(me + ": KV cache books do not balance");
  }
  if (waiting_ != queue_->size()) {
    throw std::logic_error(me + ": " + std::to_string(waiting_) +
                           " requests wait but the queue order holds " +
                           std::to_string(queue_->size()));
  }
  if (waiting_demand_blocks_ < 0 || waiting_preempted_ < 0 || high_priority_ < 0 ||
      (waiting_ == 0 && (waiting_demand_blocks_ != 0 || waiting_preempted_ != 0))) {
    throw std::logic_error(me + ": waiting demand or preempted counts do not balance");
  }
  for (RequestSlot slot : swapped_) swapped += requests_[slot].swapped_blocks;
  if (swapped != swap_used_) throw std::logic_error(me + ": swap space books do not balance");
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    if (members[g] != groups_[g].count()) {
      throw std::logic_error(me + ": decode group " + std::to_string(g) + " counts " +
                             std::to_string(groups_[g].count()) + " members but " +
                             std::to_string(members[g]) + " requests decode in it");
    }
  }
}

}  // namespace servesim
