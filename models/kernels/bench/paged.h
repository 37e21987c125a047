// models/kernels/bench/paged.h — host-side construction of paged KV-cache layouts for the
// bench, the checks and the layer composition: block tables that scatter each sequence's
// blocks over a pool in random order (as a long-running server's allocator would).
#ifndef SERVESIM_MODELS_KERNELS_BENCH_PAGED_H_
#define SERVESIM_MODELS_KERNELS_BENCH_PAGED_H_

#include <cstdint>
#include <vector>

namespace servesim::kernels {

struct PagedTables {
  int max_blocks_per_seq = 0;  // row length of every table
  int num_blocks = 0;          // pool size: the cache holds num_blocks * kBlockTokens slots
  // One table per rotation, [num_seqs * max_blocks_per_seq]; entries past a sequence's
  // last block are 0. Rotations use disjoint blocks of the pool.
  std::vector<std::vector<int32_t>> tables;
};

// Tables for sequences of kv_lens[s] tokens, `rotations` disjoint copies, plus
// `spare_blocks` unused blocks in the pool. Deterministic for a seed.
PagedTables MakePagedTables(const std::vector<int>& kv_lens, int rotations, uint64_t seed,
                            int spare_blocks = 0);

// Cache slot (block * kBlockTokens + offset) of position p of sequence s.
int32_t SlotOf(const std::vector<int32_t>& table, int max_blocks_per_seq, int s, int p);

}  // namespace servesim::kernels

#endif  // SERVESIM_MODELS_KERNELS_BENCH_PAGED_H_
