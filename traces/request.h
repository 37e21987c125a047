// traces/request.h — one request as a workload describes it: when it arrives, who sent it, how
// many tokens go in and come out, and (optionally) the hashes of its prefix blocks so a prefix
// cache can recognise shared prefixes. A plain value type: traces/ depends on nothing else.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/core/time.h"

namespace servesim {

// The most tokens a generator gives one request's prompt, output or shared prefix (length
// distributions, multi-turn contexts, system prompts, inline requests): beyond any served context
// (the longest are ~10M tokens), and it bounds the prefix hashes one request carries. Trace
// readers take what the file says, up to kMaxTraceTokens.
inline constexpr std::int64_t kMaxGeneratedTokens = 10'000'000;
// The most tokens a trace file's row may give a prompt or an output (Request's int32 fields).
inline constexpr std::int64_t kMaxTraceTokens = 2'147'483'647;

struct Request {
  std::uint64_t trace_id = 0;   // id from the source (row number when the source has none)
  std::uint32_t client_id = 0;  // tenant / client, for fairness policies (0 when unknown)
  TimeNs arrival_ns = 0;        // arrival time since the start of the run
  std::int32_t prompt_tokens = 0;
  std::int32_t output_tokens = 0;      // the simulator knows it; schedulers must not read it
  std::int32_t max_output_tokens = 0;  // the limit the request was sent with (0: unknown; the
                                       // cluster then sets max_model_len − prompt_tokens)
  std::int32_t priority = 0;           // larger = more important (0 = default)
  // Hashes of consecutive prefix blocks of `prefix_block_tokens` tokens each; equal hash at
  // position i ⇔ equal first (i+1)·prefix_block_tokens tokens. The last one may cover a partial
  // block (Mooncake has ceil(input/512) ids); the KV cache only caches full KV blocks, so a
  // partial tail is never matched. Empty when the source has none.
  std::int32_t prefix_block_tokens = 0;
  std::vector<std::uint64_t> prefix_hashes;
};

}  // namespace servesim
