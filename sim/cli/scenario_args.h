// sim/cli/scenario_args.h — the scenario options every scenario-running subcommand takes
// (SCENARIO.yaml, -o, --set, --seed), declared and applied in one place.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/config/config.h"

namespace servesim::cli {

struct ScenarioArgs {
  std::vector<std::string> sets;

  // Adds -o/--output, --set, --seed and the positional SCENARIO.yaml to `opts`/`pos`.
  void declare(boost::program_options::options_description& opts,
               boost::program_options::positional_options_description& pos) {
    namespace po = boost::program_options;
    opts.add_options()("output,o", po::value<std::string>(),
                       "results database (overrides output.path; default results.db)")(
        "set", po::value<std::vector<std::string>>(&sets)->composing(),
        "override a scenario key: --set dotted.key=value (repeatable)")(
        "seed", po::value<std::uint64_t>(), "override the scenario seed")(
        "scenario", po::value<std::string>(), "scenario YAML file");
    pos.add("scenario", 1);
  }

  // Loads the scenario named on the command line with every override applied.
  // Throws UsageError when none was named.
  std::shared_ptr<ConfigTree> load(const boost::program_options::variables_map& vm) const {
    if (!vm.count("scenario")) throw UsageError("missing SCENARIO.yaml");
    auto tree = ConfigTree::load_file(vm["scenario"].as<std::string>());
    for (const auto& s : sets) tree->apply_override(s);
    if (vm.count("seed"))
      tree->set("seed", YAML::Node(std::to_string(vm["seed"].as<std::uint64_t>())));
    if (vm.count("output")) tree->set("output.path", YAML::Node(vm["output"].as<std::string>()));
    return tree;
  }
};

}  // namespace servesim::cli
