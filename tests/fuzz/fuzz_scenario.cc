// tests/fuzz/fuzz_scenario.cc — libFuzzer target for the scenario loader: the input is a
// scenario's YAML text, parsed strictly (ConfigTree) and built into a world without running it
// (`run` up to the first event: catalog lookups, pools, topology, cost models, policies, the
// workload's source). Nothing is written. Findings: see fuzz_util.h; the alias bombs, infinite
// numbers and multi-document files that once hung or were silently accepted are in the corpus.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/config/config.h"
#include "sim/scenario/runner.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  servesim::fuzz::expect_clean_errors([&] {
    const auto tree = servesim::ConfigTree::parse(yaml, "fuzz.yaml");
    servesim::RunOptions options;
    options.quiet = true;
    options.write_database = false;
    options.build_only = true;
    servesim::run_scenario(*tree, options);
  });
  return 0;
}
