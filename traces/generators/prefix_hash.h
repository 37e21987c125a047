// traces/generators/prefix_hash.h — prefix-block hashes for generated prompts.
//
// A generated prompt is a sequence of segments (a shared system prompt, earlier turns of a
// conversation, the new user message), each with a unique 64-bit id. The hash of block i is a
// chain: hash(hash of block i−1, the (segment id, offset, length) pieces that block i covers).
// So two prompts get equal hashes at position i exactly when their first (i+1)·block_tokens
// tokens come from the same segments at the same offsets: equal hash ⇔ equal prefix, as
// Request::prefix_hashes requires (up to 64-bit collisions). Only full blocks are hashed.
#pragma once

#include <cstdint>
#include <vector>

namespace servesim {

struct PromptSegment {
  std::uint64_t id = 0;
  std::int64_t tokens = 0;
};

// A well-mixed 64-bit hash of the pair (a, b) (splitmix64 finaliser over both words).
inline std::uint64_t mix_hash(std::uint64_t a, std::uint64_t b) {
  auto fmix = [](std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  return fmix(a ^ fmix(b + 0x9E3779B97F4A7C15ULL));
}

// Fills `out` (cleared first) with the hashes of the full blocks of the first `prompt_tokens`
// tokens of `segments`. REQUIRES: block_tokens > 0.
inline void prefix_block_hashes(const std::vector<PromptSegment>& segments,
                                std::int64_t prompt_tokens, std::int32_t block_tokens,
                                std::vector<std::uint64_t>& out) {
  out.clear();
  const std::int64_t blocks = prompt_tokens / block_tokens;
  std::uint64_t h = 0x243F6A8885A308D3ULL;  // chain seed
  std::size_t seg = 0;
  std::int64_t seg_offset = 0;  // tokens of segments[seg] already consumed
  for (std::int64_t b = 0; b < blocks; ++b) {
    std::int64_t need = block_tokens;
    while (need > 0 && seg < segments.size()) {
      const std::int64_t left = segments[seg].tokens - seg_offset;
      const std::int64_t take = left < need ? left : need;
      if (take > 0) {
        h = mix_hash(h, segments[seg].id);
        h = mix_hash(
            h, (static_cast<std::uint64_t>(seg_offset) << 32) ^ static_cast<std::uint64_t>(take));
      }
      need -= take;
      seg_offset += take;
      if (seg_offset >= segments[seg].tokens) {
        ++seg;
        seg_offset = 0;
      }
    }
    out.push_back(h);
  }
}

}  // namespace servesim
