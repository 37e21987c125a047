// sim/scenario/sweep.h — parameter sweeps: the variants of a base scenario (grid, zip and seed
// axes, from the command line or a sweep file), and running them in local processes, each into a
// shard database of its own, merged into the output at the end.
//
// Variants. Grid axes are crossed (the first axis varies slowest); zip axes (equal lengths) move
// together as one axis, crossed with the grid after it; `seeds` (or `repeats: N`: seeds
// base+0 … base+N−1) is the innermost axis. Each variant is a list of overrides (dotted key,
// value as YAML text) applied as `--set`, plus the fixed `set` overrides of a sweep file, so every
// run records its swept values in run_params. Index = position in that order, from 0.
//
// Sweep file (YAML):
//   sweep:
//     scenario: ../quickstart.yaml        # relative to the sweep file
//     grid: {workload.arrival.rate_per_s: [5, 10, 20], policies.batcher.impl: [vllm, sarathi]}
//     zip: {cluster.instances: [1, 2], cluster.tensor_parallel: [2, 1]}
//     seeds: [1, 2, 3]                    # or repeats: 3
//     set: {output.iterations: false}     # fixed overrides
//
// Running (run_sweep): variants are taken in index order (only index % n == i with a shard i/n),
// those already present in the output are skipped with `resume` (a finished run whose run_params
// equal the variant's overrides, values compared as YAML: 5 == 5.0), and up to `jobs` child
// processes (`servesim run`) run at once, each into DIR/v<index>.db next to the output. A child
// that fails leaves a failed run (written by the child for a failure during the run, by the sweep
// for one it could not start, e.g. a bad value: exit 2, with the child's message). At the end the
// shards are merged into the output in index order (one transaction) and removed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace servesim {

struct SweepAxis {
  std::string key;
  std::vector<std::string> values;  // YAML text, one per point
};

struct SweepSpec {
  std::string scenario;            // the base scenario file
  std::vector<SweepAxis> grid;     // crossed, first slowest
  std::vector<SweepAxis> zip;      // paired (equal lengths)
  std::vector<std::string> seeds;  // innermost axis (empty: the scenario's seed)
  std::vector<std::pair<std::string, std::string>> fixed;  // applied to every variant
};

struct SweepVariant {
  std::size_t index = 0;
  std::vector<std::pair<std::string, std::string>> overrides;  // fixed, grid, zip; then "seed"
  std::string label() const;  // "key=value key=value ..." (the swept ones)
  std::vector<std::pair<std::string, std::string>> swept;  // the swept overrides only
};

// "key=v1,v2,..." → an axis; commas inside [], {} or quotes do not split. Throws UsageError.
SweepAxis parse_axis(const std::string& text, const std::string& option);
// A sweep file (see the header); relative scenario paths resolve against the file's folder.
// Throws ConfigError naming the file, line and key.
SweepSpec load_sweep_file(const std::string& path);
// Every variant, in index order. Throws UsageError for an empty axis, zip axes of different
// lengths, or a key swept twice.
std::vector<SweepVariant> enumerate_variants(const SweepSpec& spec);
// Builds every variant without running it; a key the scenario does not have (a typo in an axis)
// throws UsageError naming the variant. Other configuration errors (a bad value) are left to
// the variant's run, which records them as a failed run.
void check_keys(const SweepSpec& spec, const std::vector<SweepVariant>& variants);
// Parses "i/n" (0 <= i < n). Throws UsageError.
std::pair<std::size_t, std::size_t> parse_shard(const std::string& text);

struct SweepOptions {
  std::string binary;  // the servesim executable the children run
  std::string output;  // the output database
  int jobs = 1;
  std::size_t shard_index = 0, shard_count = 1;
  bool resume = false;
  bool progress = false;              // a progress line on stderr
  std::vector<std::string> run_args;  // extra `servesim run` options (e.g. --reproducible)
};

struct SweepResult {
  std::size_t variants = 0;  // in this shard
  std::size_t skipped = 0;   // present already (resume)
  std::size_t ran = 0, failed = 0;
  std::vector<std::int64_t> run_ids;  // in the output, in index order
};

// Runs the variants of this shard (see the header). Throws OutputError when the output cannot be
// written; a failing variant is counted, not thrown.
SweepResult run_sweep(const SweepSpec& spec, const std::vector<SweepVariant>& variants,
                      const SweepOptions& options);

}  // namespace servesim
