// sim/world/instance_load.h — what an instance is (role), where it is in its life (state), and
// how loaded it is (InstanceLoad): the plain values routers, controllers and samples read.
#pragma once

#include <cstdint>

#include "sim/world/request_state.h"

namespace servesim {

// colocated: prefills and decodes; prefill: prefills, then hands requests off with their KV;
// decode: decodes requests handed to it.
enum class InstanceRole : std::uint8_t { kColocated, kPrefill, kDecode };
enum class InstanceState : std::uint8_t {
  kStarting,  // spawned; becomes active after the pool's startup time
  kActive,    // routers may send it requests
  kDraining,  // serves what it holds, takes nothing new; stops when empty
  kStopped,   // holds nothing; kept for the record
};
const char* to_string(InstanceRole role);
const char* to_string(InstanceState state);

// An instance's load as routers, controllers and samples see it.
struct InstanceLoad {
  InstanceId instance = -1;
  InstanceState state = InstanceState::kActive;
  std::int64_t waiting = 0;
  std::int64_t running = 0;   // holding KV: prefilling or decoding
  std::int64_t decoding = 0;  // members of the decode groups
  std::int64_t swapped = 0;
  std::int64_t handoff = 0;  // prefill done, waiting for a decode instance (prefill role)
  std::int64_t kv_total_blocks = 0;
  std::int64_t kv_free_blocks = 0;
  std::int64_t watermark_blocks = 0;
  std::int64_t queued_prefill_tokens = 0;  // tokens still to prefill: waiting + ongoing prefills
  // Llumnix's inputs (ALGORITHMS.md §5.2), all maintained incrementally:
  std::int64_t waiting_demand_blocks = 0;  // Σ ceil((prompt + generated) / block) over waiting
  std::int64_t head_demand_blocks = 0;     // the same for the queue's head (load_with_head only)
  std::int64_t killed = 0;                 // preempted and still waiting, plus swapped out
  std::int64_t high_priority = 0;          // requests here with priority > 0
  std::int64_t reserved_blocks = 0;        // set aside for requests on their way in
};

}  // namespace servesim
