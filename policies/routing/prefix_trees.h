// policies/routing/prefix_trees.h — the dispatcher's picture of what each worker has cached: per
// worker, the prefix blocks of the requests routed to it (the routing history, not the real
// cache, as SGLang's router keeps it), as a set of prefix hashes. A request's hash j covers its
// first (j+1)·prefix_block_tokens tokens, so the set is a prefix tree and a match is the run of
// leading hashes present. Each worker's set is capped at `max_blocks` and forgets the least
// recently routed blocks first. O(prefix blocks) per match or insert.
#pragma once

#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>

#include "sim/world/request_state.h"

namespace servesim {

class ApproxPrefixTrees {
 public:
  explicit ApproxPrefixTrees(std::size_t max_blocks) : max_blocks_(max_blocks) {}

  // Leading hashes of `hashes` that worker `w` holds.
  std::size_t match(InstanceId w, std::span<const std::uint64_t> hashes) const {
    const auto it = trees_.find(w);
    if (it == trees_.end()) return 0;
    std::size_t n = 0;
    while (n < hashes.size() && it->second.index.count(hashes[n]) != 0) ++n;
    return n;
  }
  // Records that `hashes` were routed to `w` (most recent), forgetting the oldest beyond the cap.
  void insert(InstanceId w, std::span<const std::uint64_t> hashes) {
    Tree& t = trees_[w];
    for (std::uint64_t h : hashes) {
      const auto it = t.index.find(h);
      if (it != t.index.end()) {
        t.lru.splice(t.lru.end(), t.lru, it->second);
      } else {
        t.index.emplace(h, t.lru.insert(t.lru.end(), h));
      }
    }
    while (t.lru.size() > max_blocks_) {
      t.index.erase(t.lru.front());
      t.lru.pop_front();
    }
  }
  std::size_t size(InstanceId w) const {
    const auto it = trees_.find(w);
    return it == trees_.end() ? 0 : it->second.lru.size();
  }

 private:
  struct Tree {
    std::list<std::uint64_t> lru;  // least recently routed first
    std::unordered_map<std::uint64_t, std::list<std::uint64_t>::iterator> index;
  };
  std::size_t max_blocks_;
  std::unordered_map<InstanceId, Tree> trees_;
};

}  // namespace servesim
