// sim/metrics/merge.h — merging result databases: every run of each input is copied into the
// output under a new run_id (the output's next free ones, in input order), with every row of
// every table that carries run_id; `run_sources` records where each copied run came from
// (input path and its run_id there). Inputs must have this servesim's schema version (a
// mismatch is refused with a message); the whole merge is one transaction, so a failure leaves
// the output as it was. Used by `servesim place` (its worker shards) and `servesim merge`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace servesim {

struct MergeOptions {
  // Skip a run whose (input path, run_id) the output's run_sources already lists.
  bool resume = false;
};

// Returns the new run_ids in order. Throws OutputError naming the file.
std::vector<std::int64_t> merge_results(const std::string& out_path,
                                        const std::vector<std::string>& inputs,
                                        const MergeOptions& options = {});

}  // namespace servesim
