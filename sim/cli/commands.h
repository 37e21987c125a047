// sim/cli/commands.h — the subcommands of the `servesim` binary. Each takes the arguments after
// its name, returns the exit code, and throws ConfigError/InputError/UsageError/OutputError for
// bad input (exit 2); main() maps anything else to exit 1.
#pragma once

#include <string>
#include <vector>

namespace servesim::cli {

using Args = std::vector<std::string>;

int cmd_run(const Args& args);
int cmd_list(const Args& args);
int cmd_trace(const Args& args);
int cmd_estimate(const Args& args);
int cmd_validate_cost(const Args& args);
int cmd_calibrate(const Args& args);
int cmd_capacity(const Args& args);
int cmd_place(const Args& args);
int cmd_merge(const Args& args);
int cmd_sweep(const Args& args);
int cmd_report(const Args& args);
int cmd_export(const Args& args);

struct Command {
  const char* name;
  const char* summary;
  int (*fn)(const Args&);
};
const std::vector<Command>& commands();

}  // namespace servesim::cli
