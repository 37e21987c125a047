// sim/world/kv_cache.h — an instance's paged KV cache: `total_blocks` blocks of `block_size`
// tokens, and, when prefix caching is on, the cache of full blocks keyed by the hash of their
// whole prefix (vLLM automatic prefix caching, ALGORITHMS.md §1.3).
//
// Two kinds of blocks are in use: *private* blocks (a partial last block, decode growth, any
// block without a known hash), counted only; and *hashed* blocks, one entry per prefix hash.
// Because a hash covers the whole prefix, the entries form a prefix tree. A hashed block has a
// reference count; at zero it stays cached but becomes *evictable*. Evictable blocks count as
// free: allocating when no block is unallocated evicts the least recently used evictable block,
// the deepest prefix first among equally recent ones.
//
// Invariants: unallocated + evictable + private + live hashed == total; a live hashed block has
// refs > 0; free_blocks() == unallocated + evictable.
//
// Structures (long prompts touch thousands of blocks per request, so all are flat): each hashed
// block is an *entry* in a stable array, named by its index (a `BlockHandle`); the table maps a
// hash to its entry, open addressing with linear probing over a power-of-two array of
// (hash, handle) pairs, deletion by backward shift. `acquire` hands a request the handles of
// its blocks, so marking them computed and releasing them touch the entries alone, without a
// table lookup each; entry indices freed by evictions are reused by the next insertions, so a
// request's blocks tend to sit side by side.
// The evictor exploits that access times never decrease: blocks become evictable in time
// order, so a FIFO in release order is LRU order. Blocks released at the same instant wait in a
// pending batch that joins the FIFO sorted once time moves on; in the rare case that the FIFO
// runs dry mid-instant, the batch becomes a binary heap in eviction order and evictions pop it
// directly, so blocks released later at that instant still take their place. The order is exactly
// (last access, deepest first, hash). Deletion is lazy: a revived entry's stamp changes, and items
// whose stamp no longer matches are skipped, and purged from the FIFO when they outnumber the live
// ones.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/core/time.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace servesim {

// Allocates arrays of 2 MiB and more on 2 MiB boundaries and asks Linux to back them with
// transparent huge pages (honoured when THP is `always` or `madvise`). The prefix cache's slot
// table is read at random, one slot per lookup, and with 64 instances it spans far more than the
// TLB covers: huge pages spare most lookups a page walk. Layout only; results do not change.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr std::size_t kHuge = std::size_t{1} << 21;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  T* allocate(std::size_t n) {
    std::size_t bytes = n * sizeof(T);
    void* p = nullptr;
    if (bytes >= kHuge) {
      bytes = (bytes + kHuge - 1) & ~(kHuge - 1);
      p = std::aligned_alloc(kHuge, bytes);
#if defined(__linux__)
      if (p) madvise(p, bytes, MADV_HUGEPAGE);
#endif
    } else {
      p = std::malloc(bytes);
    }
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) { std::free(p); }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

class KvCache {
 public:
  KvCache(std::int64_t total_blocks, int block_size_tokens, bool prefix_caching);

  std::int64_t total_blocks() const { return total_; }
  std::int64_t free_blocks() const { return unallocated_ + evictable_; }
  std::int64_t used_blocks() const { return total_ - free_blocks(); }
  int block_size() const { return block_size_; }
  bool prefix_caching() const { return prefix_caching_; }
  std::int64_t blocks_for_tokens(std::int64_t tokens) const {
    return (tokens + block_size_ - 1) / block_size_;
  }

  // Private blocks. REQUIRES: n <= free_blocks() (evicts cached blocks as needed).
  void allocate(std::int64_t n);
  // REQUIRES: n <= private blocks in use.
  void release(std::int64_t n);

  // --- prefix cache (no-ops / empty answers when prefix caching is off)
  struct Match {
    std::int32_t present = 0;   // leading hashes that are cached (live or evictable)
    std::int32_t computed = 0;  // leading hashes cached and computed (usable as a hit)
    std::int32_t evictable =
        0;  // among the present ones, evictable (reviving one consumes a free block)
  };
  Match match(std::span<const std::uint64_t> hashes) const;
  // A hashed block held by a reference: valid from `acquire` until the reference is released.
  using BlockHandle = std::uint32_t;
  // Takes a reference on hashes[0, present) (reviving evictable ones) and creates entries, each
  // on a fresh block with one reference, for hashes[present, size); appends the handle of each
  // hash to `handles`. REQUIRES: the blocks this consumes (size − present + evictable among
  // present) <= free_blocks().
  void acquire(std::span<const std::uint64_t> hashes, std::int32_t present, TimeNs now_ns,
               std::vector<BlockHandle>& handles);
  // Marks blocks computed (their KV has been written by a finished prefill chunk).
  void mark_computed(std::span<const BlockHandle> handles);
  // Drops one reference from each block; blocks at zero become evictable, stamped `now_ns`.
  void release_hashed(std::span<const BlockHandle> handles, TimeNs now_ns);

  std::int64_t private_blocks() const { return private_; }
  std::int64_t live_hashed_blocks() const { return live_hashed_; }
  std::int64_t hashed_references() const { return references_; }
  std::int64_t cached_blocks() const { return static_cast<std::int64_t>(size_); }
  std::int64_t evictions() const { return evictions_; }
  // Changes whenever the set of computed cache entries does (one became computed, or an entry
  // was erased): a prefix match computed at one epoch holds until the epoch moves.
  std::uint64_t epoch() const { return epoch_; }

 private:
  struct Entry {
    std::uint64_t key = 0;
    TimeNs last_access_ns = 0;
    std::uint32_t stamp = 0;  // matches the evictor item that may evict it (0: none; free entry)
    std::int32_t refs = 0;
    std::int32_t depth = 0;  // index of the block in its prefix (deeper = longer prefix)
    bool computed = false;
  };
  static constexpr BlockHandle kEmpty = ~BlockHandle{0};
  struct Slot {
    std::uint64_t key = 0;
    BlockHandle entry = kEmpty;  // kEmpty: unused slot
  };
  struct EvictItem {
    TimeNs last_access_ns = 0;
    std::int32_t neg_depth = 0;
    std::uint32_t stamp = 0;
    std::uint64_t key = 0;
    BlockHandle entry = kEmpty;
    bool operator<(const EvictItem& o) const {  // eviction order: older, then deeper, then key
      if (last_access_ns != o.last_access_ns) return last_access_ns < o.last_access_ns;
      if (neg_depth != o.neg_depth) return neg_depth < o.neg_depth;
      return key < o.key;
    }
  };
  // Heap order for the pending batch: its top is the item to evict first.
  static bool evicts_later(const EvictItem& a, const EvictItem& b) { return b < a; }

  std::size_t find(std::uint64_t key) const;  // index, or npos
  // Prefetching: the table is far larger than the caches once it holds thousands of blocks per
  // instance, and a prompt's hashes land on random slots, so every lookup would be a cache miss
  // waited for in turn. Loops over a list of hashes ask for the slot kPrefetchAhead positions
  // ahead (the first ones up front), so the misses overlap. Hints only: no effect on results.
  static constexpr std::size_t kPrefetchAhead = 8;
  void prefetch_slot(std::uint64_t key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[key & mask_]);
  }
  void prefetch_first(std::span<const std::uint64_t> hashes) const {
    const std::size_t n = std::min(hashes.size(), kPrefetchAhead);
    for (std::size_t k = 0; k < n; ++k) prefetch_slot(hashes[k]);
  }
  void prefetch_ahead(std::span<const std::uint64_t> hashes, std::size_t k) const {
    if (k + kPrefetchAhead < hashes.size()) prefetch_slot(hashes[k + kPrefetchAhead]);
  }
  void prefetch_entries_first(std::span<const BlockHandle> handles) const {
    const std::size_t n = std::min(handles.size(), kPrefetchAhead);
    for (std::size_t k = 0; k < n; ++k) __builtin_prefetch(entries_.data() + handles[k]);
  }
  void prefetch_entry_ahead(std::span<const BlockHandle> handles, std::size_t k) const {
    if (k + kPrefetchAhead < handles.size())
      __builtin_prefetch(entries_.data() + handles[k + kPrefetchAhead]);
  }
  bool live(const EvictItem& it) const;   // whether it still evicts its entry
  BlockHandle insert(std::uint64_t key);  // a new entry (REQUIRES: absent)
  void erase(BlockHandle h);              // drops the entry and its table slot
  void erase_at(std::size_t i);
  void grow();
  void push_evictable(BlockHandle h);
  void flush_pending();
  void purge_stale();
  bool stale(const EvictItem& it) const;
  void take_unallocated_or_evict();
  static constexpr std::size_t kNpos = ~std::size_t{0};

  std::int64_t total_;
  std::int64_t unallocated_;
  std::int64_t evictable_ = 0;
  std::int64_t private_ = 0;
  std::int64_t live_hashed_ = 0;
  std::int64_t references_ = 0;
  std::int64_t evictions_ = 0;
  std::uint64_t epoch_ = 0;
  int block_size_;
  bool prefix_caching_;
  std::vector<Slot, HugePageAllocator<Slot>> slots_;  // power-of-two size; load factor <= 1/2
  std::vector<Entry, HugePageAllocator<Entry>> entries_;
  std::vector<BlockHandle> free_entries_;  // erased entries, reused last-in first-out
  std::size_t size_ = 0;
  std::size_t mask_ = 0;
  std::vector<EvictItem> fifo_;  // items [fifo_head_, end) in eviction order
  std::size_t fifo_head_ = 0;
  std::vector<EvictItem> pending_;  // released at pending_time_, not yet ordered
  bool pending_is_heap_ = false;    // the FIFO ran dry at pending_time_: pending_ is a heap
  TimeNs pending_time_ = -1;
  std::uint32_t next_stamp_ = 1;
};

// KV-block hashes of a request's known prefix. `prefix_hashes[j]` identifies the first
// (j+1)·prefix_block_tokens tokens; KV block i (tokens [i·bs, (i+1)·bs)) is identified by the
// hash of the source block holding its last token mixed with how far into that block it ends.
// Only full KV blocks inside `tokens` and covered by known hashes get one.
void kv_block_hashes(std::span<const std::uint64_t> prefix_hashes, std::int32_t prefix_block_tokens,
                     std::int32_t tokens, int block_size, std::vector<std::uint64_t>& out);

}  // namespace servesim
