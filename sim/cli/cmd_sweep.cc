// sim/cli/cmd_sweep.cc — `servesim sweep SCENARIO.yaml|SWEEP.yaml [--grid k=v1,v2]... [--zip
// k=v1,v2]... [--seeds s1,s2 | --repeats N] [-j N] [--shard i/n] [--resume] [--list] -o OUT.db`:
// runs the variants of a scenario in local processes and merges them into OUT
// (sim/scenario/sweep.h).
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "sim/cli/commands.h"
#include "sim/config/errors.h"
#include "sim/core/output_file.h"
#include "sim/metrics/sqlite_sink.h"
#include "sim/scenario/sweep.h"

namespace po = boost::program_options;

namespace servesim::cli {
namespace {

// A sweep file is a YAML mapping whose only top-level key is `sweep`.
bool is_sweep_file(const std::string& path) {
  try {
    const YAML::Node n = YAML::LoadFile(path);
    return n.IsMap() && n["sweep"];
  } catch (const YAML::Exception&) {
    return false;  // the scenario loader reports it
  }
}

std::string self_binary() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw OutputError("cannot find the servesim binary (/proc/self/exe): " + ec.message());
  return p.string();
}

}  // namespace

int cmd_sweep(const Args& args) {
  po::options_description opts(
      "servesim sweep SCENARIO.yaml|SWEEP.yaml [options] -o OUT.db\n\n"
      "Runs every variant of a scenario (grid axes crossed, zip axes paired, seeds innermost),\n"
      "each as its own `servesim run` process into a shard database, and merges them into OUT.\n"
      "Every run records its swept values in run_params. A failed variant is recorded as a\n"
      "failed run and the sweep goes on; the exit status is 1 when any failed.\nOptions");
  std::vector<std::string> grid, zip, sets;
  std::string seeds, shard = "0/1", output;
  int jobs = 0;
  std::int64_t repeats = 0;
  opts.add_options()("help,h", "show this help")(
      "grid", po::value<std::vector<std::string>>(&grid)->composing(),
      "a crossed axis: dotted.key=v1,v2,... (repeatable; the first varies slowest)")(
      "zip", po::value<std::vector<std::string>>(&zip)->composing(),
      "a paired axis: dotted.key=v1,v2,... (repeatable; all zip axes have equal lengths)")(
      "seeds", po::value<std::string>(&seeds), "seeds, the innermost axis: s1,s2,...")(
      "repeats", po::value<std::int64_t>(&repeats), "seeds 0 .. N-1 (instead of --seeds)")(
      "set", po::value<std::vector<std::string>>(&sets)->composing(),
      "a fixed override for every variant: dotted.key=value (repeatable)")(
      "output,o", po::value<std::string>(&output), "output results database (required)")(
      "jobs,j", po::value<int>(&jobs), "local processes at once (default: the machine's cores)")(
      "shard", po::value<std::string>(&shard),
      "run only variants with index % n == i (i/n, 0-based: job arrays)")(
      "resume", "skip variants whose finished run is already in OUT (same run_params)")(
      "list", "print the variants with their index and exit")(
      "reproducible", "pass --reproducible to every run (byte-stable rows)")(
      "quiet,q", "no progress line")("scenario", po::value<std::string>(),
                                     "scenario or sweep file");
  po::positional_options_description pos;
  pos.add("scenario", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts
              << "\nExamples:\n"
                 "  servesim sweep scenarios/quickstart.yaml --grid "
                 "workload.arrival.rate_per_s=5,10,20 \\\n"
                 "      --grid policies.batcher.impl=vllm,sarathi --repeats 2 -j 2 -o sweep.db\n"
                 "  servesim sweep scenarios/sweeps/rate-batcher-chunk.yaml --list\n";
    return 0;
  }
  if (!vm.count("scenario")) throw UsageError("missing SCENARIO.yaml (or a sweep file)");
  const std::string file = vm["scenario"].as<std::string>();
  if (!std::filesystem::exists(file)) throw UsageError("no such file '" + file + "'");
  SweepSpec spec;
  if (is_sweep_file(file)) {
    spec = load_sweep_file(file);
  } else {
    spec.scenario = file;
  }
  for (const std::string& g : grid) spec.grid.push_back(parse_axis(g, "--grid"));
  for (const std::string& z : zip) spec.zip.push_back(parse_axis(z, "--zip"));
  if (!seeds.empty() || repeats > 0) {
    if (!spec.seeds.empty() || (!seeds.empty() && repeats > 0))
      throw UsageError("give the seeds once: --seeds, --repeats or the sweep file's seeds");
    if (!seeds.empty()) {
      spec.seeds = parse_axis("seed=" + seeds, "--seeds").values;
      for (const std::string& s : spec.seeds) {
        if (s.find_first_not_of("0123456789") != std::string::npos)
          throw UsageError("--seeds: '" + s + "' is not a non-negative integer");
      }
    }
    for (std::int64_t i = 0; i < repeats; ++i) spec.seeds.push_back(std::to_string(i));
  }
  for (const std::string& s : sets) {
    const std::size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--set '" + s + "': expected k=v");
    spec.fixed.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  const std::vector<SweepVariant> variants = enumerate_variants(spec);
  const auto [shard_i, shard_n] = parse_shard(shard);
  if (vm.count("list")) {
    for (const SweepVariant& v : variants) {
      if (v.index % shard_n != shard_i) continue;
      std::printf("%zu\t%s\n", v.index, v.label().c_str());
    }
    return 0;
  }
  if (output.empty()) throw UsageError("give the output database: -o OUT.db");
  output = checked_output_path(output, "-o");
  check_keys(spec, variants);
  SweepOptions options;
  options.binary = self_binary();
  options.output = output;
  options.jobs =
      jobs > 0 ? jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.shard_index = shard_i;
  options.shard_count = shard_n;
  options.resume = vm.count("resume") > 0;
  options.progress = !vm.count("quiet") && isatty(STDERR_FILENO);
  if (vm.count("reproducible")) options.run_args.push_back("--reproducible");
  const SweepResult r = run_sweep(spec, variants, options);
  std::printf("sweep: %zu variant(s) in this shard: %zu ran, %zu failed, %zu already in %s\n",
              r.variants, r.ran, r.failed, r.skipped, output.c_str());
  if (r.failed > 0) {
    std::fprintf(stderr, "servesim sweep: %zu of %zu variant(s) failed (failed runs in %s)\n",
                 r.failed, r.ran + r.failed, output.c_str());
    return 1;
  }
  return 0;
}

}  // namespace servesim::cli
