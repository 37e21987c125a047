// sim/world/request_state.h — a request's life inside the simulator:
//   waiting → prefill (admitted, KV allocated; may take several chunked iterations) → decode →
//   finished; or rejected (with a reason) from waiting. A preempted request either returns to
//   waiting and later re-prefills prompt + the tokens it had generated (recompute), or has its KV
//   copied to host memory and later back (swap: phase kSwapped, no re-prefill).
// Per-token facts are not stored per request: a decoding request is described by where it
// joined the instance's decode steps (join_step), and everything else is derived when
// something happens to it (see instance.h).
#pragma once

#include <cstdint>
#include <vector>

#include "traces/request.h"

namespace servesim {

using RequestSlot = std::uint32_t;  // index into the cluster's request table (recycled)

enum class RequestPhase : std::uint8_t { kWaiting, kPrefill, kDecode, kSwapped, kFinished, kRejected };

struct RequestState {
  Request req;
  std::uint64_t request_id = 0;   // arrival sequence number in this run (0, 1, 2, ...)
  RequestPhase phase = RequestPhase::kWaiting;
  std::int32_t instance_id = -1;

  std::int32_t generated_tokens = 0;     // output tokens emitted (exact outside decode; see join)
  std::int32_t prefill_target_tokens = 0;// tokens the current prefill covers (prompt + generated)
  std::int32_t prefilled_tokens = 0;     // of those, already in the KV cache
  std::int32_t cached_tokens = 0;        // prefix-cache hits at the last admission
  std::int64_t kv_blocks = 0;            // KV blocks held on the device (hashed + private)
  std::int64_t swapped_blocks = 0;       // KV blocks held in host memory while swapped
  // Prefix caching: hashes of the request's full prompt blocks (computed at first admission)
  // and how many of them it holds references to (a prefix of the list).
  std::vector<std::uint64_t> block_hashes;
  std::int32_t hashed_blocks_held = 0;
  bool block_hashes_ready = false;

  // Decode bookkeeping: joined the decode set after `join_step` completed decode steps, with
  // `kv_tokens_at_join` tokens in the cache and `generated_at_join` tokens emitted.
  std::int64_t join_step = 0;
  std::int32_t kv_tokens_at_join = 0;
  std::int32_t generated_at_join = 0;

  TimeNs admitted_ns = -1;     // first admission (scheduling delay = admitted − arrival)
  TimeNs first_token_ns = -1;
  TimeNs last_token_ns = -1;   // exact while not decoding; the instance knows it while decoding
  TimeNs finish_ns = -1;
  TimeNs max_tbt_ns = 0;
  std::int32_t preemptions = 0;
  std::int32_t migrations = 0;
  const char* reject_reason = nullptr;  // static string
};

}  // namespace servesim
