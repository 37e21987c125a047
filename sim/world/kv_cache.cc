// sim/world/kv_cache.cc — see kv_cache.h.
#include "sim/world/kv_cache.h"

#include <algorithm>

#include "sim/core/rng.h"

namespace servesim {

KvCache::KvCache(std::int64_t total_blocks, int block_size_tokens, bool prefix_caching)
    : total_(total_blocks),
      unallocated_(total_blocks),
      block_size_(block_size_tokens),
      prefix_caching_(prefix_caching) {
  if (prefix_caching_) {
    slots_.resize(1024);
    mask_ = slots_.size() - 1;
  }
}

// ------------------------------------------------------------------------------- hash table

std::size_t KvCache::find(std::uint64_t key) const {
  if (slots_.empty()) return kNpos;
  for (std::size_t i = key & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.entry == kEmpty) return kNpos;
    if (s.key == key) return i;
  }
}

KvCache::BlockHandle KvCache::insert(std::uint64_t key) {
  if (2 * (size_ + 1) > slots_.size()) grow();
  std::size_t i = key & mask_;
  while (slots_[i].entry != kEmpty) i = (i + 1) & mask_;
  BlockHandle h;
  if (!free_entries_.empty()) {
    h = free_entries_.back();
    free_entries_.pop_back();
  } else {
    h = static_cast<BlockHandle>(entries_.size());
    entries_.emplace_back();
  }
  entries_[h] = Entry{};
  entries_[h].key = key;
  slots_[i] = Slot{key, h};
  ++size_;
  return h;
}

void KvCache::erase(BlockHandle h) {
  const std::size_t i = find(entries_[h].key);
  if (i == kNpos || slots_[i].entry != h) throw std::logic_error("KV cache: entry not in table");
  erase_at(i);
  entries_[h].stamp = 0;
  entries_[h].refs = 0;
  free_entries_.push_back(h);
}

void KvCache::erase_at(std::size_t i) {
  ++epoch_;
  // Backward-shift deletion keeps every probe sequence unbroken without tombstones.
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask_; slots_[j].entry != kEmpty; j = (j + 1) & mask_) {
    const std::size_t home = slots_[j].key & mask_;
    // Move j into the hole when its home is not cyclically in (hole, j].
    const bool home_after_hole =
        hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!home_after_hole) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
}

void KvCache::grow() {
  std::vector<Slot, HugePageAllocator<Slot>> old;
  old.swap(slots_);
  slots_.assign(old.size() * 2, Slot{});
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.entry == kEmpty) continue;
    std::size_t i = s.key & mask_;
    while (slots_[i].entry != kEmpty) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

// ------------------------------------------------------------------------------- evictor

bool KvCache::live(const EvictItem& it) const {
  const Entry& e = entries_[it.entry];
  return e.stamp == it.stamp && e.refs == 0;
}

bool KvCache::stale(const EvictItem& it) const { return !live(it); }

void KvCache::push_evictable(BlockHandle h) {
  Entry& e = entries_[h];
  e.stamp = next_stamp_++;
  if (!pending_.empty() && e.last_access_ns != pending_time_) flush_pending();
  pending_time_ = e.last_access_ns;
  pending_.push_back(EvictItem{e.last_access_ns, -e.depth, e.stamp, e.key, h});
  if (pending_is_heap_) std::push_heap(pending_.begin(), pending_.end(), evicts_later);
  ++evictable_;
}

void KvCache::flush_pending() {
  std::sort(pending_.begin(), pending_.end());
  fifo_.insert(fifo_.end(), pending_.begin(), pending_.end());
  pending_.clear();
  pending_is_heap_ = false;
  const std::size_t queued = fifo_.size() - fifo_head_;
  if (queued > 1024 && queued > 2 * static_cast<std::size_t>(evictable_)) purge_stale();
}

void KvCache::purge_stale() {
  std::size_t out = 0;
  for (std::size_t i = fifo_head_; i < fifo_.size(); ++i) {
    if (!stale(fifo_[i])) fifo_[out++] = fifo_[i];
  }
  fifo_.resize(out);
  fifo_head_ = 0;
}

void KvCache::take_unallocated_or_evict() {
  if (unallocated_ > 0) {
    --unallocated_;
    return;
  }
  while (true) {
    EvictItem it;
    if (fifo_head_ < fifo_.size()) {
      it = fifo_[fifo_head_++];
      // The items behind it are evicted next: start loading their entries and slots now.
      if (fifo_head_ + kPrefetchAhead < fifo_.size()) {
        const EvictItem& next = fifo_[fifo_head_ + kPrefetchAhead];
        __builtin_prefetch(&entries_[next.entry]);
        prefetch_slot(next.key);
      }
    } else {
      // Everything older is gone: evict from the current instant's batch directly (it stays a
      // heap, so blocks released later at the same instant still take their exact place).
      if (pending_.empty()) throw std::logic_error("KV cache over-allocation: no free block");
      if (!pending_is_heap_) {  // rare: from now until time moves on, the batch is a heap
        std::make_heap(pending_.begin(), pending_.end(), evicts_later);
        pending_is_heap_ = true;
      }
      std::pop_heap(pending_.begin(), pending_.end(), evicts_later);
      it = pending_.back();
      pending_.pop_back();
    }
    if (!live(it)) continue;  // stale
    erase(it.entry);
    --evictable_;
    ++evictions_;
    if (fifo_head_ > 4096 && 2 * fifo_head_ > fifo_.size()) {  // reclaim the consumed front
      fifo_.erase(fifo_.begin(), fifo_.begin() + static_cast<std::ptrdiff_t>(fifo_head_));
      fifo_head_ = 0;
    }
    return;
  }
}

// ------------------------------------------------------------------------------- blocks

void KvCache::allocate(std::int64_t n) {
  if (n < 0 || n > free_blocks()) {
    throw std::logic_error("KV cache over-allocation: " + std::to_string(n) + " > " +
                           std::to_string(free_blocks()) + " free");
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
    throw std::logic_error("KV cache over-release: " + std::to_string(n) + " > " +
                           std::to_string(private_) + " private in use");
  }
  private_ -= n;
  unallocated_ += n;
}

KvCache::Match KvCache::match(std::span<const std::uint64_t> hashes) const {
  Match m;
  bool computed_run = true;
  prefetch_first(hashes);
  for (std::size_t k = 0; k < hashes.size(); ++k) {
    prefetch_ahead(hashes, k);
    const std::size_t i = find(hashes[k]);
    if (i == kNpos) break;
    const Entry& e = entries_[slots_[i].entry];
    ++m.present;
    if (e.refs == 0) ++m.evictable;
    computed_run = computed_run && e.computed;
    if (computed_run) ++m.computed;
  }
  return m;
}

void KvCache::acquire(std::span<const std::uint64_t> hashes, std::int32_t present, TimeNs now_ns,
                      std::vector<BlockHandle>& handles) {
  prefetch_first(hashes);
  for (std::size_t k = 0; k < hashes.size(); ++k) {
    prefetch_ahead(hashes, k);
    const std::size_t i = find(hashes[k]);
    if (i == kNpos && k < static_cast<std::size_t>(present)) {
      throw std::logic_error("KV cache: acquiring a prefix block that is not cached");
    }
    BlockHandle h;
    if (i == kNpos) {  // a new entry on a fresh block
      take_unallocated_or_evict();
      h = insert(hashes[k]);
      entries_[h].depth = static_cast<std::int32_t>(k);
      ++live_hashed_;
    } else {
      h = slots_[i].entry;
      if (entries_[h].refs == 0) {  // revive an evictable entry: its evictor item goes stale
        --evictable_;
        ++live_hashed_;
        entries_[h].stamp = 0;
      }
    }
    // (An entry found past `present` cannot happen while every cached block's prefix is cached
    // too, which LRU with deepest-first ties preserves; it would simply be shared.)
    Entry& e = entries_[h];
    ++e.refs;
    ++references_;
    e.last_access_ns = now_ns;
    handles.push_back(h);
  }
}

void KvCache::mark_computed(std::span<const BlockHandle> handles) {
  prefetch_entries_first(handles);
  for (std::size_t k = 0; k < handles.size(); ++k) {
    prefetch_entry_ahead(handles, k);
    Entry& e = entries_[handles[k]];
    if (!e.computed) {
      e.computed = true;
      ++epoch_;
    }
  }
}

void KvCache::release_hashed(std::span<const BlockHandle> handles, TimeNs now_ns) {
  prefetch_entries_first(handles);
  for (std::size_t k = 0; k < handles.size(); ++k) {
    const BlockHandle h = handles[k];
    if (h >= entries_.size()) throw std::logic_error("KV cache: releasing an unknown block");
    prefetch_entry_ahead(handles, k);
    if (entries_[h].refs <= 0)
      throw std::logic_error("KV cache: releasing an unreferenced prefix block");
    Entry& e = entries_[h];
    --references_;
    e.last_access_ns = now_ns;
    if (--e.refs == 0) {
      --live_hashed_;
      if (e.computed) {
        push_evictable(h);
      } else {  // never written (its prefill was preempted): nothing worth keeping
        erase(h);
        ++unallocated_;
      }
    }
  }
}

void kv_block_hashes(std::span<const std::uint64_t> prefix_hashes, std::int32_t prefix_block_tokens,
                     std::int32_t tokens, int block_size, std::vector<std::uint64_t>& out) {
  out.clear();
  if (prefix_hashes.empty() || prefix_block_tokens <= 0) return;
  const std::int64_t known_tokens = std::min<std::int64_t>(
      tokens, static_cast<std::int64_t>(prefix_hashes.size()) * prefix_block_tokens);
  const std::int64_t full_blocks = known_tokens / block_size;
  out.reserve(static_cast<std::size_t>(full_blocks));
  for (std::int64_t i = 0; i < full_blocks; ++i) {
    const std::int64_t end = (i + 1) * block_size;           // tokens covered by KV blocks 0..i
    const std::int64_t j = (end - 1) / prefix_block_tokens;  // source block holding the last one
    const std::int64_t into = end - j * prefix_block_tokens;
    std::uint64_t state = prefix_hashes[static_cast<std::size_t>(j)] ^
                          (static_cast<std::uint64_t>(into) * 0x9E3779B97F4A7C15ULL);
    out.push_back(splitmix64(state));
  }
}

}  // namespace servesim
