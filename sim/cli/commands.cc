// sim/cli/commands.cc — the table of subcommands shown by `servesim --help`.
#include "sim/cli/commands.h"

namespace servesim::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"run", "run a scenario and write its results database", cmd_run},
      {"capacity", "find the highest arrival rate that meets service-level objectives", cmd_capacity},
      {"list", "list what is registered: batchers, routers, cost models, workloads, hardware, models", cmd_list},
      {"trace", "inspect a trace (stats) or write a workload as servesim JSONL (gen)", cmd_trace},
  };
  return table;
}

}  // namespace servesim::cli
