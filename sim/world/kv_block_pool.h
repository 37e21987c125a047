// sim/world/kv_block_pool.h — an instance's paged KV cache, counted in blocks of block_size
// tokens. Blocks are interchangeable, so the pool is a counter with checked transitions.
// Invariant: 0 <= free_blocks <= total_blocks; allocate() never over-commits (it throws).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace servesim {

class KvBlockPool {
 public:
  KvBlockPool(std::int64_t total_blocks, int block_size_tokens)
      : total_(total_blocks), free_(total_blocks), block_size_(block_size_tokens) {}

  std::int64_t total_blocks() const { return total_; }
  std::int64_t free_blocks() const { return free_; }
  std::int64_t used_blocks() const { return total_ - free_; }
  int block_size() const { return block_size_; }
  std::int64_t blocks_for_tokens(std::int64_t tokens) const { return (tokens + block_size_ - 1) / block_size_; }

  // REQUIRES: n <= free_blocks().
  void allocate(std::int64_t n) {
    if (n < 0 || n > free_) throw std::logic_error("KV pool over-allocation: " + std::to_string(n) + " > " + std::to_string(free_) + " free");
    free_ -= n;
  }
  // REQUIRES: n <= used_blocks().
  void release(std::int64_t n) {
    if (n < 0 || n > used_blocks()) throw std::logic_error("KV pool over-release: " + std::to_string(n) + " > " + std::to_string(used_blocks()) + " used");
    free_ += n;
  }

 private:
  std::int64_t total_;
  std::int64_t free_;
  int block_size_;
};

}  // namespace servesim
