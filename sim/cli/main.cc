// sim/cli/main.cc — entry point of the `servesim` binary: dispatches to subcommands and maps
// errors to exit codes: 0 success, 2 bad usage / configuration / input, 1 internal failure.
#include <boost/program_options/errors.hpp>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "sim/cli/commands.h"
#include "sim/config/errors.h"
#include "sim/metrics/sqlite_sink.h"

namespace {

void print_usage() {
  std::printf("servesim %s — discrete-event simulator of LLM serving clusters\n\n",
              SERVESIM_VERSION);
  std::printf(
      "usage: servesim <command> [options]     (servesim <command> --help for its "
      "options)\n\ncommands:\n");
  for (const auto& c : servesim::cli::commands()) std::printf("  %-10s %s\n", c.name, c.summary);
  std::printf("\nexit codes: 0 success, 2 bad usage/configuration/input, 1 internal failure\n");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace servesim;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    print_usage();
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("servesim %s\n", SERVESIM_VERSION);
    return 0;
  }
  const std::string name = argv[1];
  cli::Args args(argv + 2, argv + argc);
  for (const auto& c : cli::commands()) {
    if (name != c.name) continue;
    try {
      return c.fn(args);
    } catch (const ConfigError& e) {
      std::fprintf(stderr, "servesim: configuration error: %s\n", e.what());
    } catch (const InputError& e) {
      std::fprintf(stderr, "servesim: input error: %s\n", e.what());
    } catch (const UsageError& e) {
      std::fprintf(stderr, "servesim %s: %s (see servesim %s --help)\n", c.name, e.what(), c.name);
    } catch (const OutputError& e) {
      std::fprintf(stderr, "servesim: output error: %s\n", e.what());
    } catch (const boost::program_options::error& e) {
      std::fprintf(stderr, "servesim %s: %s (see servesim %s --help)\n", c.name, e.what(), c.name);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "servesim: internal error: %s\n", e.what());
      return 1;
    }
    return 2;
  }
  std::fprintf(stderr, "servesim: unknown command '%s'\n\n", name.c_str());
  print_usage();
  return 2;
}
