// sim/cli/cmd_trace.cc — `servesim trace stats|gen`: inspect a trace, or write a workload (a
// generator, or any readable trace) in servesim's own JSONL format (traces/README.md).
//
//   servesim trace stats FILE|WORKLOAD.yaml [--format F] [--set k=v]... [--skip-bad-rows] [--json]
//   servesim trace gen [FILE|WORKLOAD.yaml] [--format F] [--set k=v]... [--seed N] -o OUT.jsonl
//
// The workload is built exactly as in a scenario: a trace FILE becomes {impl: F, path: FILE}
// (F from --format, else guessed from the file), a YAML file is a workload mapping or a whole
// scenario (its `workload:` is used, with its seed and data_dir), and --set edits that mapping
// (e.g. --set transforms='[{impl: first_n, n: 100}]').
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "sim/cli/commands.h"
#include "sim/config/errors.h"
#include "sim/core/output_file.h"
#include "sim/metrics/sqlite_sink.h"
#include "sim/scenario/runner.h"
#include "traces/io/jsonl_writer.h"
#include "traces/readers/detect.h"
#include "traces/stats.h"
#include "traces/trace_source.h"

namespace po = boost::program_options;

namespace servesim::cli {
namespace {

struct Workload {
  std::shared_ptr<ConfigTree> tree;
  TraceContext ctx;
  std::string label;  // what stats prints as the source
};

std::string yaml_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

bool is_yaml(const std::string& p) { return p.ends_with(".yaml") || p.ends_with(".yml"); }

void add_common_options(po::options_description& opts, std::vector<std::string>& sets) {
  opts.add_options()("help,h", "show this help")(
      "format,f", po::value<std::string>(),
      "reader of FILE (servesim list workloads); default: guessed from the file")(
      "set", po::value<std::vector<std::string>>(&sets)->composing(),
      "edit the workload mapping: --set key=value (repeatable), e.g. --set transforms='[{impl: "
      "first_n, n: 100}]'")(
      "skip-bad-rows",
      "skip malformed rows (the count is reported on stderr) instead of stopping at the first")(
      "seed", po::value<std::uint64_t>(),
      "seed of the random streams (default: the scenario's, else 0)")(
      "max-context", po::value<std::int64_t>(), "max context tokens for the truncate transform")(
      "data-dir", po::value<std::string>(),
      "data folder that '$data/...' paths resolve against (default: $SERVESIM_DATA_DIR, else "
      "../shared/data)")("input", po::value<std::string>(),
                         "trace file, ServeGen folder, or workload/scenario YAML");
}

Workload build_workload(const po::variables_map& vm, const std::vector<std::string>& sets,
                        bool input_required) {
  Workload w;
  w.ctx.data_dir = vm.count("data-dir") ? vm["data-dir"].as<std::string>() : default_data_dir();
  std::uint64_t seed = 0;
  const std::string input = vm.count("input") ? vm["input"].as<std::string>() : "";
  if (input.empty() && input_required)
    throw UsageError("missing the trace FILE (or a workload YAML)");
  if (!input.empty() && is_yaml(input) && !vm.count("format")) {
    auto file = ConfigTree::load_file(input);
    ConfigNode root = file->root();
    if (root.has("workload")) {  // a scenario: use its workload, seed and data_dir
      try {
        const YAML::Node doc = YAML::LoadFile(input);
        if (doc["seed"]) seed = doc["seed"].as<std::uint64_t>();
        if (doc["data_dir"] && !vm.count("data-dir"))
          w.ctx.data_dir = doc["data_dir"].as<std::string>();
        w.tree = ConfigTree::parse(YAML::Dump(doc["workload"]) + "\n", input + " (workload)");
      } catch (const YAML::Exception& e) {
        throw ConfigError(input + ": " + e.what());
      }
    } else {
      w.tree = file;
    }
    w.label = input;
  } else if (!input.empty()) {
    const std::string format =
        vm.count("format") ? vm["format"].as<std::string>() : detect_trace_format(input);
    std::string text = "impl: " + format + "\npath: " + yaml_quote(input) + "\n";
    bool has_arrival = false;
    for (const auto& s : sets) has_arrival = has_arrival || s.rfind("arrival", 0) == 0;
    if (format == "lengths_csv" && !has_arrival) {
      text += "arrival: {impl: uniform, rate_per_s: 1}\n";
      std::fprintf(stderr,
                   "servesim trace: %s has no arrival times; using one request per second "
                   "(change with --set arrival='{impl: poisson, rate_per_s: R}')\n",
                   input.c_str());
    }
    w.tree = ConfigTree::parse(text, "command line");
    w.label = input + " (" + format + ")";
  } else {
    w.tree = ConfigTree::parse("{}\n", "command line");
    w.label = "generated workload";
  }
  if (vm.count("skip-bad-rows")) w.tree->apply_override("skip_bad_rows=true");
  for (const auto& s : sets) w.tree->apply_override(s);
  w.ctx.seed = vm.count("seed") ? vm["seed"].as<std::uint64_t>() : seed;
  if (vm.count("max-context")) w.ctx.max_context_tokens = vm["max-context"].as<std::int64_t>();
  return w;
}

int cmd_stats(const Args& args) {
  po::options_description opts(
      "servesim trace stats FILE|WORKLOAD.yaml [options]\n\n"
      "Prints requests, duration, mean rate, inter-arrival CV, prompt/output percentiles, clients "
      "and\n"
      "the prefix-block reuse ratio with an infinite cache.\nOptions");
  std::vector<std::string> sets;
  add_common_options(opts, sets);
  opts.add_options()("json", "print one JSON object instead of the table");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout
        << opts << "\nExamples:\n"
        << "  servesim trace stats ../shared/data/traces/mooncake_fast25/conversation_trace.jsonl\n"
        << "  servesim trace stats ../shared/data/traces/vidur/splitwise_conv.csv --set "
           "transforms='[{impl: scale_rate, factor: 2}]'\n"
        << "  servesim trace stats scenarios/azure-conv.yaml --json\n";
    return 0;
  }
  Workload w = build_workload(vm, sets, true);
  auto source = make_trace_source(w.tree->root(), w.ctx);
  w.tree->check_all_consumed();
  TraceStatsBuilder b;
  Request r;
  while (source->next(r)) b.add(r);
  source.reset();  // end-of-stream notes first
  const TraceStats s = b.finish();
  if (vm.count("json")) {
    std::cout << s.to_json();
  } else {
    std::cout << "trace                    " << w.label << "\n" << s.to_text();
  }
  return 0;
}

int cmd_gen(const Args& args) {
  po::options_description opts(
      "servesim trace gen [FILE|WORKLOAD.yaml] [options] -o OUT.jsonl\n\n"
      "Writes a workload in servesim's JSONL format (one request per line; traces/README.md), "
      "which the\n"
      "servesim_jsonl reader reads back unchanged. The workload is a generator (a YAML mapping, or "
      "--set\n"
      "keys on an empty one) or any readable trace (converted).\nOptions");
  std::vector<std::string> sets;
  add_common_options(opts, sets);
  opts.add_options()("output,o", po::value<std::string>(), "output file ('-' = stdout)");
  po::positional_options_description pos;
  pos.add("input", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout
        << opts << "\nExamples:\n"
        << "  servesim trace gen --set impl=synthetic --set num_requests=1000 \\\n"
        << "      --set arrival='{impl: gamma, rate_per_s: 5, cv: 2}' -o bursty.jsonl\n"
        << "  servesim trace gen workload.yaml --seed 7 -o out.jsonl\n"
        << "  servesim trace gen "
           "../shared/data/traces/azure_llm_2023/AzureLLMInferenceTrace_conv.csv -o conv.jsonl\n";
    return 0;
  }
  if (!vm.count("output")) throw UsageError("missing -o OUT.jsonl");
  const std::string out_path = vm["output"].as<std::string>();
  Workload w = build_workload(vm, sets, false);
  auto source = make_trace_source(w.tree->root(), w.ctx);
  w.tree->check_all_consumed();
  OutputFile out(out_path, "-o", /*allow_stdout=*/true);
  std::int64_t n = 0;
  {
    JsonlWriter writer(out.get());
    Request r;
    while (source->next(r)) {
      writer.write(r);
      ++n;
    }
    source.reset();
    if (!writer.flush()) throw OutputError("-o: write error on '" + out_path + "'");
  }
  out.commit();
  std::fprintf(stderr, "servesim trace gen: wrote %lld requests to %s\n", static_cast<long long>(n),
               out_path.c_str());
  return 0;
}

}  // namespace

int cmd_trace(const Args& args) {
  const std::string usage =
      "usage: servesim trace <stats|gen> [options]     (servesim trace <stats|gen> --help)\n\n"
      "  stats FILE [--format F]   summary of a trace: requests, rate, inter-arrival CV, length\n"
      "                            percentiles, clients, prefix-block reuse\n"
      "  gen [...] -o OUT.jsonl    write a generated workload (or convert a trace) to servesim "
      "JSONL\n";
  if (args.empty()) throw UsageError("missing subcommand (stats or gen)");
  const std::string& sub = args[0];
  const Args rest(args.begin() + 1, args.end());
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::cout << usage;
    return 0;
  }
  if (sub == "stats") return cmd_stats(rest);
  if (sub == "gen") return cmd_gen(rest);
  throw UsageError("unknown subcommand '" + sub + "' (valid: stats, gen)");
}

}  // namespace servesim::cli
