// models/kernels/bench/paged.cc — random paged layouts.
#include "paged.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>

#include "../backend.h"

namespace servesim::kernels {

PagedTables MakePagedTables(const std::vector<int>& kv_lens, int rotations, uint64_t seed,
                            int spare_blocks) {
  if (kv_lens.empty() || rotations < 1) throw std::invalid_argument("MakePagedTables: empty");
  PagedTables out;
  int64_t per_rotation = 0;
  for (int len : kv_lens) {
    if (len < 1) throw std::invalid_argument("MakePagedTables: kv length must be >= 1");
    const int blocks = (len + kBlockTokens - 1) / kBlockTokens;
    out.max_blocks_per_seq = std::max(out.max_blocks_per_seq, blocks);
    per_rotation += blocks;
  }
  const int64_t total = per_rotation * rotations + spare_blocks;
  if (total > INT32_MAX / kBlockTokens)
    throw std::invalid_argument("MakePagedTables: pool too large");
  out.num_blocks = static_cast<int>(total);
  std::vector<int32_t> pool(total);
  std::iota(pool.begin(), pool.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(pool.begin(), pool.end(), rng);
  size_t next = 0;
  for (int r = 0; r < rotations; ++r) {
    std::vector<int32_t> table(kv_lens.size() * out.max_blocks_per_seq, 0);
    for (size_t s = 0; s < kv_lens.size(); ++s) {
      const int blocks = (kv_lens[s] + kBlockTokens - 1) / kBlockTokens;
      for (int b = 0; b < blocks; ++b) table[s * out.max_blocks_per_seq + b] = pool[next++];
    }
    out.tables.push_back(std::move(table));
  }
  return out;
}

int32_t SlotOf(const std::vector<int32_t>& table, int max_blocks_per_seq, int s, int p) {
  return table[static_cast<size_t>(s) * max_blocks_per_seq + p / kBlockTokens] * kBlockTokens +
         p % kBlockTokens;
}

}  // namespace servesim::kernels
