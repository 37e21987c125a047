// sim/world/kv_cache.cc — see kv_cache.h.
#include "sim/world/kv_cache.h"

#include <vector>

#include "sim/core/rng.h"

namespace servesim {

void KvCache::take_unallocated_or_evict() {
  if (unallocated_ > 0) {
    --unallocated_;
    return;
  }
  if (evictor_.empty()) throw std::logic_error("KV cache over-allocation: no free block");
  const auto victim = *evictor_.begin();
  evictor_.erase(evictor_.begin());
  table_.erase(std::get<2>(victim));
  ++evictions_;
}

void KvCache::allocate(std::int64_t n) {
  if (n < 0 || n > free_blocks()) {
    throw std::logic_error("KV cache over-allocation: " + std::to_string(n) + " > " + std::to_string(free_blocks()) + " free");
  }
  if (n <= unallocated_) {
    unallocated_ -= n;
  } else {
    for (std::int64_t i = 0; i < n; ++i) take_unallocated_or_evict();
  }
  private_ += n;
}

void KvCache::release(std::int64_t n) {
  if (n < 0 || n > private_) {
    throw std::logic_error("KV cache over-release: " + std::to_string(n) + " > " + std::to_string(private_) + " private in use");
  }
  private_ -= n;
  unallocated_ += n;
}

KvCache::Match KvCache::match(std::span<const std::uint64_t> hashes) const {
  Match m;
  bool computed_run = true;
  for (std::uint64_t h : hashes) {
    auto it = table_.find(h);
    if (it == table_.end()) break;
    ++m.present;
    if (it->second.refs == 0) ++m.evictable;
    computed_run = computed_run && it->second.computed;
    if (computed_run) ++m.computed;
  }
  return m;
}

void KvCache::acquire(std::span<const std::uint64_t> hashes, std::int32_t present, TimeNs now_ns) {
  for (std::int32_t i = 0; i < present; ++i) {
    Entry& e = table_.at(hashes[static_cast<std::size_t>(i)]);
    if (e.refs == 0) {
      evictor_.erase(EvictKey{e.last_access_ns, -e.depth, hashes[static_cast<std::size_t>(i)]});
      ++live_hashed_;
    }
    ++e.refs;
    ++references_;
    e.last_access_ns = now_ns;
  }
  for (std::size_t i = static_cast<std::size_t>(present); i < hashes.size(); ++i) {
    take_unallocated_or_evict();
    Entry& e = table_[hashes[i]];
    e = Entry{1, static_cast<std::int32_t>(i), false, now_ns};
    ++live_hashed_;
    ++references_;
  }
}

void KvCache::mark_computed(std::span<const std::uint64_t> hashes) {
  for (std::uint64_t h : hashes) {
    auto it = table_.find(h);
    if (it != table_.end()) it->second.computed = true;
  }
}

void KvCache::release_hashed(std::span<const std::uint64_t> hashes, TimeNs now_ns) {
  for (std::uint64_t h : hashes) {
    Entry& e = table_.at(h);
    if (e.refs <= 0) throw std::logic_error("KV cache: releasing an unreferenced prefix block");
    --references_;
    e.last_access_ns = now_ns;
    if (--e.refs == 0) {
      --live_hashed_;
      if (e.computed) {
        evictor_.insert(EvictKey{now_ns, -e.depth, h});
      } else {  // never written (its prefill was preempted): nothing worth keeping
        table_.erase(h);
        ++unallocated_;
      }
    }
  }
}

void kv_block_hashes(std::span<const std::uint64_t> prefix_hashes, std::int32_t prefix_block_tokens,
                     std::int32_t tokens, int block_size, std::vector<std::uint64_t>& out) {
  out.clear();
  if (prefix_hashes.empty() || prefix_block_tokens <= 0) return;
  const std::int64_t known_tokens =
      std::min<std::int64_t>(tokens, static_cast<std::int64_t>(prefix_hashes.size()) * prefix_block_tokens);
  const std::int64_t full_blocks = known_tokens / block_size;
  out.reserve(static_cast<std::size_t>(full_blocks));
  for (std::int64_t i = 0; i < full_blocks; ++i) {
    const std::int64_t end = (i + 1) * block_size;        // tokens covered by KV blocks 0..i
    const std::int64_t j = (end - 1) / prefix_block_tokens;  // source block holding the last one
    const std::int64_t into = end - j * prefix_block_tokens;
    std::uint64_t state = prefix_hashes[static_cast<std::size_t>(j)] ^ (static_cast<std::uint64_t>(into) * 0x9E3779B97F4A7C15ULL);
    out.push_back(splitmix64(state));
  }
}

}  // namespace servesim
