// tests/kv_cache_test.cc — the KV cache: private block accounting, the prefix cache's reference
// counts, revival and eviction order (least recently used, deepest prefix first on ties), and
// the mapping of source prefix hashes onto KV blocks.
#include "sim/world/kv_cache.h"

#include <gtest/gtest.h>

#include <vector>

namespace servesim {
namespace {

TEST(KvCache, PrivateBlocksAreCountedAndCheckedBothWays) {
  KvCache kv(10, 16, false);
  kv.allocate(4);
  EXPECT_EQ(kv.free_blocks(), 6);
  EXPECT_EQ(kv.used_blocks(), 4);
  EXPECT_THROW(kv.allocate(7), std::logic_error);
  kv.release(4);
  EXPECT_EQ(kv.free_blocks(), 10);
  EXPECT_THROW(kv.release(1), std::logic_error);
  EXPECT_EQ(kv.blocks_for_tokens(17), 2);
  EXPECT_EQ(kv.blocks_for_tokens(16), 1);
}

using Handles = std::vector<KvCache::BlockHandle>;

TEST(KvCache, SharedPrefixIsReferencedNotDuplicated) {
  KvCache kv(10, 16, true);
  const std::vector<std::uint64_t> a = {1, 2, 3};
  EXPECT_EQ(kv.match(a).present, 0);
  Handles ha, hb;
  kv.acquire(a, 0, 100, ha);
  ASSERT_EQ(ha.size(), 3u);
  EXPECT_EQ(kv.used_blocks(), 3);
  EXPECT_EQ(kv.match(a).computed, 0) << "not computed until its prefill writes it";
  kv.mark_computed(ha);
  const std::vector<std::uint64_t> b = {1, 2, 9};
  const KvCache::Match m = kv.match(b);
  EXPECT_EQ(m.present, 2);
  EXPECT_EQ(m.computed, 2);
  EXPECT_EQ(m.evictable, 0);
  kv.acquire(b, m.present, 200, hb);
  EXPECT_EQ(hb[0], ha[0]) << "a shared block has one handle";
  EXPECT_EQ(hb[1], ha[1]);
  EXPECT_NE(hb[2], ha[2]);
  EXPECT_EQ(kv.used_blocks(), 4) << "blocks 1 and 2 are shared";
  EXPECT_EQ(kv.hashed_references(), 6);
  kv.release_hashed(ha, 300);
  EXPECT_THROW(kv.release_hashed(std::vector<KvCache::BlockHandle>{ha[2]}, 300), std::logic_error)
      << "a released reference cannot be released again";
  EXPECT_EQ(kv.used_blocks(), 3)
      << "block 3 is evictable now, blocks 1 and 2 still referenced by b";
  EXPECT_EQ(kv.free_blocks(), 7);
}

TEST(KvCache, EvictableBlocksAreRevivedOrEvictedLruDeepestFirst) {
  KvCache kv(4, 16, true);
  const std::vector<std::uint64_t> p = {11, 12, 13};
  Handles hp, hq;
  kv.acquire(p, 0, 10, hp);
  kv.mark_computed(hp);
  kv.release_hashed(hp, 20);  // all three evictable, same time: deepest (13) goes first
  EXPECT_EQ(kv.free_blocks(), 4);
  EXPECT_EQ(kv.cached_blocks(), 3);
  kv.allocate(2);  // 1 unallocated + evicts 13
  EXPECT_EQ(kv.evictions(), 1);
  EXPECT_EQ(kv.match(p).present, 2) << "13, the deepest, was evicted first";
  // Reviving 11 makes it most recently used; the next eviction takes 12.
  const std::vector<std::uint64_t> q = {11};
  const KvCache::Match m = kv.match(q);
  EXPECT_EQ(m.evictable, 1);
  kv.acquire(q, m.present, 30, hq);
  EXPECT_EQ(kv.free_blocks(), 1);
  kv.allocate(1);
  EXPECT_EQ(kv.match(p).present, 1);
  EXPECT_THROW(kv.allocate(1), std::logic_error);
}

// The review's repro of an overclaimed order: two chains released at the same instant with an
// eviction between the two releases. Exact order at t = 10 is (deepest first, then hash):
// 102 | then 203, 202, 101, 201 — not 101 before 203.
TEST(KvCache, SameInstantReleasesKeepExactOrderAcrossAnEviction) {
  KvCache kv(5, 16, true);
  const std::vector<std::uint64_t> a = {101, 102}, b = {201, 202, 203};
  Handles ha, hb;
  kv.acquire(a, 0, 1, ha);
  kv.acquire(b, 0, 1, hb);
  kv.mark_computed(ha);
  kv.mark_computed(hb);
  kv.release_hashed(ha, 10);
  kv.allocate(1);  // evicts 102, the deeper of A
  EXPECT_EQ(kv.match(a).present, 1);
  kv.release_hashed(hb, 10);
  kv.allocate(1);  // now 203 (depth 2) is the oldest-deepest
  EXPECT_EQ(kv.match(b).present, 2) << "203 must go before 101";
  EXPECT_EQ(kv.match(a).present, 1) << "101 (depth 0) must outlive 203 and 202";
  kv.allocate(1);
  EXPECT_EQ(kv.match(b).present, 1);
  kv.allocate(1);
  EXPECT_EQ(kv.match(a).present, 0) << "then 101 (depth 0, smaller hash than 201)";
  EXPECT_EQ(kv.match(b).present, 1);
  // Time moves on: a later release joins behind everything released at t = 10.
  kv.release(4);
  EXPECT_EQ(kv.free_blocks(), 5);
}

TEST(KvCache, UncomputedBlocksAreDroppedNotCached) {
  KvCache kv(4, 16, true);
  const std::vector<std::uint64_t> p = {5, 6};
  Handles h;
  kv.acquire(p, 0, 1, h);
  kv.release_hashed(h, 2);  // its prefill never ran (e.g. preempted first)
  EXPECT_EQ(kv.cached_blocks(), 0);
  EXPECT_EQ(kv.free_blocks(), 4);
}

TEST(KvCache, SourceHashesMapOntoKvBlocks) {
  std::vector<std::uint64_t> a, b, c;
  // 512-token source blocks (Mooncake) onto 16-token KV blocks: 1000 tokens → 62 full KV blocks.
  kv_block_hashes(std::vector<std::uint64_t>{7, 8}, 512, 1000, 16, a);
  EXPECT_EQ(a.size(), 62u);
  // Same first source block, different second: the first 32 KV blocks agree, the rest differ.
  kv_block_hashes(std::vector<std::uint64_t>{7, 9}, 512, 1000, 16, b);
  for (std::size_t i = 0; i < 32; ++i) EXPECT_EQ(a[i], b[i]) << i;
  for (std::size_t i = 32; i < 62; ++i) EXPECT_NE(a[i], b[i]) << i;
  // Hashes only cover known source blocks.
  kv_block_hashes(std::vector<std::uint64_t>{7}, 512, 1000, 16, c);
  EXPECT_EQ(c.size(), 32u);
  std::vector<std::uint64_t> d;
  kv_block_hashes({}, 0, 1000, 16, d);
  EXPECT_TRUE(d.empty());
}

}  // namespace
}  // namespace servesim
