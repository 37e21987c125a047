// sim/world/request_state.h — a request's life inside the simulator:
//   waiting → prefill (admitted, KV allocated; may take several chunked iterations) → decode →
//   finished; or rejected (with a reason) from waiting. A preempted request either returns to
//   waiting and later re-prefills prompt + the tokens it had generated (recompute), or has its KV
//   copied to host memory and later back (swap: phase kSwapped, no re-prefill). On a
//   prefill-role instance a request whose prefill is done waits, KV held, for its hand-off
//   (kHandoff); a request moving between instances is kInTransit (its KV, if any, is held by a
//   KvLease on the source and an incoming reservation on the destination: see instance.h).
//
// Residency: the fields under "KV on the instance it runs on" describe the one instance in
// `instance_id`. KV a request holds anywhere else during a move is owned by the mover's KvLease
// (source side) or by the destination's incoming reservation, never by these fields, so a
// request can hold KV on two instances at once without either being misdescribed.
//
// Per-token facts are not stored per request: a decoding request is described by where it
// joined its decode group's steps (join_step), and everything else is derived when something
// happens to it (see decode_group.h).
#pragma once

#include <cstdint>
#include <vector>

#include "traces/request.h"

namespace servesim {

using RequestSlot = std::uint32_t;  // index into the cluster's request table (recycled)
inline constexpr RequestSlot kNoSlot = ~RequestSlot{0};
using InstanceId = std::int32_t;  // stable for the run; never reused

enum class RequestPhase : std::uint8_t {
  kWaiting,
  kPrefill,
  kDecode,
  kSwapped,
  kHandoff,    // prefill done on a prefill-role instance; KV held until a decode instance takes it
  kInTransit,  // detached from its instance, not yet attached to another
  kFinished,
  kRejected,
};

// Why a request starts waiting on an instance (queue orders may treat the cases differently).
enum class WaitReason : std::uint8_t {
  kArrival,    // routed here from outside
  kPreempted,  // recompute-preempted on this instance (re-prefills prompt + generated)
  kMovedIn,    // moved here from another instance while still waiting
};

struct RequestState {
  // Fields are ordered to pack without padding (the request table is scanned by cache lines).
  Request req;
  std::uint64_t request_id = 0;       // arrival sequence number in this run (0, 1, 2, ...)
  InstanceId instance_id = -1;        // the instance it is queued or runs on (last one when done)
  InstanceId first_instance_id = -1;  // the instance it was first routed to

  std::int32_t generated_tokens = 0;       // output tokens emitted (exact outside decode)
  std::int32_t prefill_target_tokens = 0;  // tokens the current prefill covers (prompt + generated)
  std::int32_t prefilled_tokens = 0;       // of those, already in the KV cache
  std::int32_t cached_tokens = 0;          // prefix-cache hits at the last admission

  // ---- KV on the instance it runs on (see "Residency" above)
  std::int64_t kv_blocks = 0;           // blocks held on the device (hashed + private); stale while
                                        // decoding: DecodeGroup::blocks_of gives the live count
  std::int64_t swapped_blocks = 0;      // blocks held in host memory while swapped
  std::int32_t hashed_blocks_held = 0;  // references held on block_hashes[0, n), by the
                                        // handles in block_handles (KvCache::BlockHandle)
  // Prefix caching: hashes of the request's full prompt blocks for a block size of
  // `block_hashes_block_size` tokens (0: not computed). Recomputed on an instance whose block
  // size differs.
  std::int32_t block_hashes_block_size = 0;
  std::vector<std::uint64_t> block_hashes;
  std::vector<std::uint32_t> block_handles;

  // ---- decode bookkeeping: joined decode group `decode_group` after `join_step` of its steps
  // had completed, with `kv_tokens_at_join` tokens in the cache and `generated_at_join` emitted.
  std::int32_t decode_group = 0;
  std::int32_t kv_tokens_at_join = 0;
  std::int64_t join_step = 0;
  std::int32_t generated_at_join = 0;

  std::int32_t preemptions = 0;
  std::int32_t migrations = 0;
  RequestPhase phase = RequestPhase::kWaiting;
  InstanceId prefill_instance_id = -1;  // where its (last) prefill ran
  TimeNs prefill_start_ns = -1;         // its last admission (the prefill that produced its KV)
  TimeNs prefill_done_ns = -1;          // on a prefill-role instance: when it entered the bridge
  TimeNs handoff_start_ns = -1;         // a decode instance accepted it; its KV copy began
  TimeNs handoff_end_ns = -1;           // the copy ended (the decode instance took it over)
  TimeNs admitted_ns = -1;              // first admission (scheduling delay = admitted − arrival)
  TimeNs first_token_ns = -1;
  TimeNs last_token_ns = -1;  // exact while not decoding; the group knows it while decoding
  TimeNs finish_ns = -1;
  TimeNs max_tbt_ns = 0;
  const char* reject_reason = nullptr;  // static string
};

}  // namespace servesim
