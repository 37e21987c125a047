// sim/world/request_table.h — storage for the requests in flight: a slab of RequestState
// indexed by RequestSlot, with slots recycled after a request finishes or is rejected, so memory
// follows the number of requests in the system, not the length of the trace.
// A recycled slot's generation increases, which invalidates stale references (calendar entries).
#pragma once

#include <cstdint>
#include <vector>

#include "sim/world/request_state.h"

namespace servesim {

class RequestTable {
 public:
  RequestSlot allocate() {
    RequestSlot slot;
    if (free_.empty()) {
      slot = static_cast<RequestSlot>(states_.size());
      states_.emplace_back();
    } else {
      slot = free_.back();
      free_.pop_back();
    }
    // Reset field by field, keeping the vectors' capacity (no allocation per request).
    RequestState& s = states_[slot];
    std::vector<std::uint64_t> prefix = std::move(s.req.prefix_hashes);
    std::vector<std::uint64_t> blocks = std::move(s.block_hashes);
    const std::uint32_t generation = s.generation + 1;
    s = RequestState{};
    s.generation = generation;
    prefix.clear();
    blocks.clear();
    s.req.prefix_hashes = std::move(prefix);
    s.block_hashes = std::move(blocks);
    ++live_;
    return slot;
  }
  void release(RequestSlot slot) {
    ++states_[slot].generation;
    states_[slot].req.prefix_hashes.clear();
    states_[slot].block_hashes.clear();
    free_.push_back(slot);
    --live_;
  }
  RequestState& operator[](RequestSlot slot) { return states_[slot]; }
  const RequestState& operator[](RequestSlot slot) const { return states_[slot]; }
  std::size_t live() const { return live_; }
  std::size_t capacity() const { return states_.size(); }

 private:
  std::vector<RequestState> states_;
  std::vector<RequestSlot> free_;
  std::size_t live_ = 0;
};

}  // namespace servesim
