// sim/cli/commands.cc — the table of subcommands shown by `servesim --help`.
#include "sim/cli/commands.h"

namespace servesim::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"run", "run a scenario and write its results database", cmd_run},
      {"capacity", "find the highest arrival rate that meets service-level objectives",
       cmd_capacity},
      {"place",
       "search prefill/decode parallelism for the highest goodput per device (DistServe), vs "
       "colocated",
       cmd_place},
      {"sweep", "run the variants of a scenario (grid/zip/seeds) in parallel processes, merged",
       cmd_sweep},
      {"report", "tables and plots comparing the runs of a results database (gnuplot PNGs)",
       cmd_report},
      {"export", "one table or view of a results database as CSV or JSON lines", cmd_export},
      {"merge", "copy the runs of result databases into one (new run ids; sources recorded)",
       cmd_merge},
      {"list",
       "list what is registered: batchers, routers, cost models, workloads, hardware, models",
       cmd_list},
      {"trace", "inspect a trace (stats) or write a workload as servesim JSONL (gen)", cmd_trace},
      {"estimate", "predict one iteration of one instance with a cost model, with its breakdown",
       cmd_estimate},
      {"validate-cost",
       "accuracy of the measured and roofline cost models on held-out measured tables",
       cmd_validate_cost},
      {"calibrate",
       "fit the cost models to a kernel profile; fit and cross-validated error by op class",
       cmd_calibrate},
  };
  return table;
}

}  // namespace servesim::cli
