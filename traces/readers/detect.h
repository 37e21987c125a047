// traces/readers/detect.h — guesses which registered reader fits a trace file, for
// `servesim trace stats FILE` without --format: a folder of chunk-<id>-trace.csv files is
// `servegen`; a JSON first line is `vtc` ("config"/"responses"), `mooncake` (hash_ids) or
// `servesim_jsonl` (arrival_s); a CSV header is `azure` (TIMESTAMP, ContextTokens,
// GeneratedTokens), `vidur` (arrived_at, num_prefill_tokens, num_decode_tokens) or `lengths_csv`
// (num_prefill_tokens, num_decode_tokens).
#pragma once

#include <string>

namespace servesim {

// The reader name, or throws InputError naming what was seen and suggesting --format.
std::string detect_trace_format(const std::string& path);

}  // namespace servesim
