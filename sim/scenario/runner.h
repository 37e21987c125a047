// sim/scenario/runner.h — runs one scenario end to end: reads the component tree from the
// scenario (strictly), builds the world, runs the simulation with its observers, and writes the
// run into the results database in one transaction.
//
// Scenario layout (every key, its default and meaning: README "Scenarios", or run --describe):
//   name, description, seed, data_dir,
//   workload: {impl: synthetic | <reader>, ...}
//   cluster:  one pool's keys {instances, hardware, model, tensor_parallel, pipeline_parallel,
//              kv_cache, cost_model, startup_s} + max_model_len, or {max_model_len, pools: [...]}
//              (sim/scenario/pools.h)
//   policies: {router, batcher, queue_order, controllers: [...]}
//   slo:      {ttft_s, tpot_s}
//   output:   {path, iterations, check_invariants, consistency_every, sample_every_s}
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/config.h"
#include "sim/metrics/metrics_recorder.h"

namespace servesim {

struct RunOptions {
  bool quiet = false;          // no progress line
  bool reproducible = false;   // started_at from SOURCE_DATE_EPOCH (or 1970), wall_s = 0
  bool write_database = true;  // false: simulate and summarise only
  bool build_only = false;     // validate the scenario and build the world, run nothing
  std::vector<Observer*> extra_observers;  // also subscribed (tests, tools); not owned
};

struct RunOutcome {
  std::string scenario;
  std::uint64_t seed = 0;
  std::int64_t run_id = 0;
  std::string db_path;
  SummaryRows summary;                    // scope "run"
  std::vector<ScopedRow> scoped_summary;  // per pool and per client (when several)
  double wall_s = 0;
  std::uint64_t events = 0;
  std::int64_t requests = 0;
  int devices = 0;              // devices of the initial instances (tp × pp each)
  bool prefix_caching = false;  // some pool caches prefixes (the summary shows the hit rate)
};

// Throws ConfigError / InputError / OutputError (exit 2) and anything else (exit 1). A failure
// before the run starts (bad configuration) writes nothing; a failure during the run leaves
// only a `runs` row with status 'failed' and the error (and its run_params), no request,
// iteration or summary rows.
RunOutcome run_scenario(ConfigTree& tree, const RunOptions& options);

// Where shared data lives when a scenario does not say: $SERVESIM_DATA_DIR, else ../shared/data.
std::string default_data_dir();

}  // namespace servesim
