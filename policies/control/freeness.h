// policies/control/freeness.h — Llumnix's "freeness" (ALGORITHMS.md §5.2): how many KV blocks
// per request an instance has left, i.e. about F·block_size decode steps before it runs out of
// memory. Pure functions of an InstanceLoad, shared by the `llumnix` router and the
// `llumnix_migration` / `llumnix_scaling` controllers. Load = −F.
//
// From the public code (llumnix@37d8e5e instance_info.py), with avail = free − watermark:
//   migrate, defrag on : F = (avail − head demand) / (running + [waiting > 0])
//   migrate, defrag off: F = avail / running
//   dispatch and scale : F = (avail − all waiting demand) / (running + waiting)
//   no requests        : F = +∞
// From the paper only (reconstructions, not in the public code):
//   * virtual usage of high-priority requests: each request with priority > 0 on the instance
//     adds `headroom_blocks` to its usage, so the instances serving them stay lightly loaded;
//   * an instance being terminated (draining) has a fake request of infinite usage: F = −∞.
// Blocks reserved for requests migrating in are already out of `free` (they are allocated).
#pragma once

#include <cstdint>
#include <limits>
#include <span>

#include "sim/world/instance_load.h"

namespace servesim::llumnix {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

inline double avail_blocks(const InstanceLoad& l, double headroom_blocks) {
  return static_cast<double>(l.kv_free_blocks - l.watermark_blocks) -
         headroom_blocks * static_cast<double>(l.high_priority);
}

// Freeness that drives migration pairing (needs l.head_demand_blocks when `defrag`).
inline double migrate_freeness(const InstanceLoad& l, bool defrag, double headroom_blocks = 0) {
  if (l.state == InstanceState::kDraining) return -kInf;
  const double avail = avail_blocks(l, headroom_blocks);
  if (defrag) {
    const std::int64_t n = l.running + (l.waiting > 0 ? 1 : 0);
    if (n == 0) return kInf;
    return (avail - static_cast<double>(l.waiting > 0 ? l.head_demand_blocks : 0)) /
           static_cast<double>(n);
  }
  if (l.running == 0) return kInf;
  return avail / static_cast<double>(l.running);
}

// Freeness that drives dispatch and scaling, from the loose inputs (a router asks it for every
// candidate of every request: Instance keeps each input at hand).
inline double dispatch_freeness(InstanceState state, std::int64_t free_blocks,
                                std::int64_t watermark_blocks, std::int64_t waiting_demand_blocks,
                                std::int64_t running, std::int64_t waiting,
                                std::int64_t high_priority, double headroom_blocks) {
  if (state == InstanceState::kDraining) return -kInf;
  const std::int64_t n = running + waiting;
  if (n == 0) return kInf;
  return (static_cast<double>(free_blocks - watermark_blocks - waiting_demand_blocks) -
          headroom_blocks * static_cast<double>(high_priority)) /
         static_cast<double>(n);
}
inline double dispatch_freeness(const InstanceLoad& l, double headroom_blocks = 0) {
  return dispatch_freeness(l.state, l.kv_free_blocks, l.watermark_blocks, l.waiting_demand_blocks,
                           l.running, l.waiting, l.high_priority, headroom_blocks);
}

// The scaling policy's pooled freeness (`avg_load`): every instance's blocks and requests added
// up as if one instance. `skip` (an index into `loads`, or −1): that instance's free blocks are
// left out but its requests still count (scale-down asks "what if this one were gone and its
// requests had moved to the others"). +∞ when nothing runs or waits.
inline double pooled_freeness(std::span<const InstanceLoad> loads, std::ptrdiff_t skip = -1) {
  double avail = 0;
  std::int64_t n = 0;
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(loads.size()); ++i) {
    const InstanceLoad& l = loads[static_cast<std::size_t>(i)];
    if (i != skip) avail += static_cast<double>(l.kv_free_blocks - l.watermark_blocks);
    avail -= static_cast<double>(l.waiting_demand_blocks);
    n += l.running + l.waiting;
  }
  if (n == 0) return kInf;
  return avail / static_cast<double>(n);
}

}  // namespace servesim::llumnix
