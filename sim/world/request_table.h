// sim/world/request_table.h — storage for the requests in flight: a slab of RequestState
// indexed by RequestSlot, with slots recycled after a request finishes or is rejected, so memory
// follows the number of requests in the system, not the length of the trace.
// Each slot has a generation, kept in a compact array of its own so that checking a reference
// for staleness touches 4 bytes, not the request: it increases when the slot is recycled and
// whenever the instance invalidates the request's decode bookkeeping (invalidate()).
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
      generations_.push_back(0);
    } else {
      slot = free_.back();
      free_.pop_back();
    }
    // Reset, keeping the capacity of the block-hash buffer (the request's own prefix hashes
    // arrive moved in from the workload).
    RequestState& s = states_[slot];
    std::vector<std::uint64_t> blocks = std::move(s.block_hashes);
    std::vector<std::uint32_t> handles = std::move(s.block_handles);
    s = RequestState{};
    ++generations_[slot];
    blocks.clear();
    handles.clear();
    s.block_hashes = std::move(blocks);
    s.block_handles = std::move(handles);
    ++live_;
    return slot;
  }
  void release(RequestSlot slot) {
    ++generations_[slot];
    states_[slot].req.prefix_hashes.clear();
    states_[slot].block_hashes.clear();
    states_[slot].block_handles.clear();
    free_.push_back(slot);
    --live_;
  }
  std::uint32_t generation(RequestSlot slot) const { return generations_[slot]; }
  void invalidate(RequestSlot slot) { ++generations_[slot]; }
  RequestState& operator[](RequestSlot slot) { return states_[slot]; }
  const RequestState& operator[](RequestSlot slot) const { return states_[slot]; }
  std::size_t live() const { return live_; }
  std::size_t capacity() const { return states_.size(); }

 private:
  std::vector<RequestState> states_;
  std::vector<std::uint32_t> generations_;
  std::vector<RequestSlot> free_;
  std::size_t live_ = 0;
};

}  // namespace servesim
