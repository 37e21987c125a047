// sim/cli/cmd_estimate.cc — `servesim estimate`: one iteration of one instance, priced by a cost
// model, with its breakdown by op class and by operator, and the instance's memory plan.
//
//   servesim estimate --model M --hardware H [--tp N] [--pp N] [--cost roofline|measured|…]
//                     [--profile PATH]... [--prefill LEN[@PRIOR]]... [--decode BxCTX]...
//                     [--set KEY=VALUE]... [--data-dir DIR] [--json] [--batches FILE]
//
// A configuration whose weights do not fit, or whose KV cache cannot hold the batch, is a
// ConfigError (exit 2) that prints the memory numbers.
#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "models/catalog.h"
#include "models/cost/iteration.h"
#include "models/cost/measured.h"
#include "models/cost/memory.h"
#include "sim/cli/commands.h"
#include "sim/config/errors.h"
#include "sim/scenario/runner.h"

namespace po = boost::program_options;

namespace servesim::cli {
namespace {

std::int64_t parse_count(const std::string& text, const std::string& what, std::int64_t min) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || v < min) {
    throw UsageError(what + ": '" + text + "' is not an integer >= " + std::to_string(min));
  }
  return v;
}

PrefillSegment parse_prefill(const std::string& s) {
  const auto at = s.find('@');
  PrefillSegment seg;
  seg.new_tokens = static_cast<std::int32_t>(parse_count(s.substr(0, at), "--prefill LEN", 1));
  if (at != std::string::npos) {
    seg.prior_tokens =
        static_cast<std::int32_t>(parse_count(s.substr(at + 1), "--prefill LEN@PRIOR", 0));
  }
  return seg;
}

void add_decode(const std::string& s, BatchShape& b) {
  const auto x = s.find_first_of("xX");
  if (x == std::string::npos) throw UsageError("--decode: '" + s + "' is not BxCTX (e.g. 64x2048)");
  const std::int64_t n = parse_count(s.substr(0, x), "--decode B", 1);
  const std::int64_t ctx = parse_count(s.substr(x + 1), "--decode CTX", 1);
  b.decode_requests += n;
  b.decode_context_tokens += n * ctx;
}

double ms(double ns) { return ns * 1e-6; }

// --batches: one batch per line, items `LEN[@PRIOR]` (a prefill segment) and `BxCTX` (decodes),
// separated by blanks; '#' starts a comment. Prints each batch's iteration time (ms), in order.
int estimate_batches(std::istream& in, const std::string& name, const CostModel& model) {
  std::string line;
  std::int64_t line_no = 0;
  std::vector<PrefillSegment> segs;
  char buf[64];
  while (std::getline(in, line)) {
    ++line_no;
    line = line.substr(0, line.find('#'));
    std::istringstream items(line);
    std::string item;
    BatchShape batch;
    segs.clear();
    try {
      while (items >> item) {
        if (item.find_first_of("xX") != std::string::npos) {
          add_decode(item, batch);
        } else {
          segs.push_back(parse_prefill(item));
        }
      }
    } catch (const UsageError& e) {
      throw UsageError(name + ":" + std::to_string(line_no) + ": " + e.what());
    }
    if (segs.empty() && batch.decode_requests == 0) continue;
    batch.prefills = segs;
    std::snprintf(buf, sizeof buf, "%.6f\n",
                  ms(static_cast<double>(model.estimate(batch).duration_ns)));
    std::cout << buf;
  }
  if (in.bad()) throw InputError("--batches: cannot read " + name);
  return 0;
}

}  // namespace

int cmd_estimate(const Args& args) {
  po::options_description opts(
      "servesim estimate --model M --hardware H [options]\n\n"
      "Predicts the time of one iteration of one instance (TP x PP devices) for a batch of "
      "prefill\n"
      "segments and decoding requests, with its breakdown by op class and operator.\nOptions");
  std::vector<std::string> prefills, decodes, profiles, sets;
  opts.add_options()("help,h", "show this help")("model", po::value<std::string>(),
                                                 "model (servesim list models)")(
      "hardware", po::value<std::string>(), "device type (servesim list hardware)")(
      "tp", po::value<int>()->default_value(1), "tensor-parallel degree")(
      "pp", po::value<int>()->default_value(1), "pipeline-parallel degree")(
      "cost", po::value<std::string>()->default_value("roofline"),
      "cost model: roofline | measured | polynomial")(
      "profile", po::value<std::vector<std::string>>(&profiles)->composing(),
      "measured table file or folder (repeatable; relative paths under --data-dir, else here)")(
      "prefill", po::value<std::vector<std::string>>(&prefills)->composing(),
      "a prompt or chunk: LEN new tokens, optionally @PRIOR tokens already cached (repeatable)")(
      "decode", po::value<std::vector<std::string>>(&decodes)->composing(),
      "BxCTX: B decoding requests each attending to CTX tokens (repeatable)")(
      "set", po::value<std::vector<std::string>>(&sets)->composing(),
      "cost-model parameter KEY=VALUE, as under cluster.cost_model in a scenario (repeatable)")(
      "kv-dtype", po::value<std::string>()->default_value("bf16"), "KV-cache dtype: bf16 | fp8")(
      "gpu-memory-utilization", po::value<double>()->default_value(0.9, "0.9"),
      "fraction of device memory used")("activation-reserve-gib",
                                        po::value<double>()->default_value(2.0, "2"),
                                        "activation reserve per device, GiB")(
      "block-size", po::value<int>()->default_value(16), "tokens per KV block")(
      "data-dir", po::value<std::string>(),
      "shared data folder for relative profile paths (default $SERVESIM_DATA_DIR or "
      "../shared/data)")("json", "print one JSON object")(
      "batches", po::value<std::string>(),
      "FILE ('-': stdin) of batches, one a line: LEN[@PRIOR] and BxCTX items; prints each "
      "batch's iteration time in ms, one a line (no memory check)");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout
        << opts
        << "\nExamples:\n"
           "  servesim estimate --model llama-3-8b --hardware h100-sxm --prefill 2048 --decode "
           "64x1024\n"
           "  servesim estimate --model llama-3-70b --hardware h100-sxm --tp 4 --cost measured \\\n"
           "      --profile profiles/aiconfigurator/h100_sxm --prefill 512@4096 --json\n";
    return 0;
  }
  if (!vm.count("model")) throw UsageError("missing --model");
  if (!vm.count("hardware")) throw UsageError("missing --hardware");
  const Catalog& catalog = Catalog::builtin();
  Deployment d;
  d.model = &catalog.model(vm["model"].as<std::string>());
  d.hardware = &catalog.hardware(vm["hardware"].as<std::string>());
  d.tensor_parallel = vm["tp"].as<int>();
  d.pipeline_parallel = vm["pp"].as<int>();
  d.data_dir = vm.count("data-dir") ? vm["data-dir"].as<std::string>() : default_data_dir();
  const std::string kv = vm["kv-dtype"].as<std::string>();
  if (kv != "bf16" && kv != "fp8")
    throw UsageError("--kv-dtype: expected bf16 or fp8, got '" + kv + "'");
  d.kv_dtype_bytes = kv == "fp8" ? 1 : 2;
  if (d.tensor_parallel < 1 || d.pipeline_parallel < 1)
    throw UsageError("--tp and --pp must be >= 1");
  if (d.tensor_parallel > d.hardware->devices_per_node) {
    throw ConfigError("--tp " + std::to_string(d.tensor_parallel) + " exceeds the " +
                      std::to_string(d.hardware->devices_per_node) + " devices of one " +
                      d.hardware->name + " node");
  }
  if (const std::string why = d.model->tensor_parallel_problem(d.tensor_parallel); !why.empty())
    throw ConfigError("--tp " + std::to_string(d.tensor_parallel) + " " + why);
  if (d.pipeline_parallel > d.model->num_layers) {
    throw ConfigError("--pp " + std::to_string(d.pipeline_parallel) + " exceeds " + d.model->name +
                      "'s " + std::to_string(d.model->num_layers) + " layers");
  }

  std::vector<PrefillSegment> segs;
  for (const auto& p : prefills) segs.push_back(parse_prefill(p));
  BatchShape batch;
  for (const auto& s : decodes) add_decode(s, batch);
  batch.prefills = segs;
  const bool many = vm.count("batches") > 0;
  if (many && !batch.empty())
    throw UsageError("--batches reads its batches from the file: drop --prefill/--decode");
  if (batch.empty() && !many)
    throw UsageError("nothing to estimate: give at least one --prefill or --decode");

  // Memory: the weights must fit and the KV cache must hold every token of the batch.
  const MemoryPlan mem = plan_memory(d, vm["gpu-memory-utilization"].as<double>(),
                                     vm["activation-reserve-gib"].as<double>() * 1073741824.0,
                                     vm["block-size"].as<int>());
  std::int64_t kv_tokens = batch.decode_context_tokens;
  for (const auto& s : segs) kv_tokens += s.new_tokens + s.prior_tokens;
  if (mem.kv_blocks <= 0 || (!many && mem.kv_capacity_tokens() < kv_tokens)) {
    throw ConfigError(
        d.model->name + " on " + std::to_string(d.tensor_parallel * d.pipeline_parallel) + " x " +
        d.hardware->name + " (TP " + std::to_string(d.tensor_parallel) + ", PP " +
        std::to_string(d.pipeline_parallel) + ") does not fit" +
        (mem.kv_blocks > 0 ? " a batch of " + std::to_string(kv_tokens) + " KV tokens" : "") +
        ": " + mem.describe());
  }

  // The cost model, configured exactly as under cluster.cost_model in a scenario.
  auto tree = ConfigTree::parse("{}", "estimate");
  tree->set("impl", YAML::Node(vm["cost"].as<std::string>()));
  if (!profiles.empty()) {
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& p : profiles) list.push_back(p);
    tree->set("profiles", list);
  }
  for (const auto& s : sets) tree->apply_override(s);
  auto model = make_cost_model(tree->root(), d);
  tree->check_all_consumed();
  if (many) {
    const std::string path = vm["batches"].as<std::string>();
    if (path == "-") return estimate_batches(std::cin, "stdin", *model);
    std::ifstream file(path);
    if (!file) throw InputError("--batches: cannot open " + path);
    return estimate_batches(file, path, *model);
  }
  OpTimes ops;
  const IterationCost c = model->explain(batch, &ops);
  std::vector<std::string> coverage;
  if (const auto* m = dynamic_cast<const MeasuredCostModel*>(model.get())) coverage = m->coverage();

  const std::string cost_name = vm["cost"].as<std::string>();
  if (vm.count("json")) {
    nlohmann::ordered_json j;
    j["model"] = d.model->name;
    j["hardware"] = d.hardware->name;
    j["tp"] = d.tensor_parallel;
    j["pp"] = d.pipeline_parallel;
    j["cost_model"] = cost_name;
    nlohmann::ordered_json pj = nlohmann::ordered_json::array();
    for (const auto& s : segs)
      pj.push_back({{"new_tokens", s.new_tokens}, {"prior_tokens", s.prior_tokens}});
    j["batch"] = {{"prefill", pj},
                  {"decode_requests", batch.decode_requests},
                  {"decode_context_tokens", batch.decode_context_tokens}};
    j["iteration_ms"] = ms(static_cast<double>(c.duration_ns));
    j["per_layer_ms"] = ms(c.per_layer_ns);
    j["comm_ms"] = ms(c.comm_ns);
    j["overhead_ms"] = ms(c.overhead_ns);
    nlohmann::ordered_json bd;
    for (int k = 0; k < kNumOpClasses; ++k)
      bd[op_class_name(static_cast<OpClass>(k))] = ms(c.breakdown_ns[k]);
    j["breakdown"] = bd;
    nlohmann::ordered_json fb = nlohmann::ordered_json::array();
    for (int k = 0; k < kNumOpClasses; ++k) {
      if (c.fallback_mask & (1u << k)) fb.push_back(op_class_name(static_cast<OpClass>(k)));
    }
    j["fallback"] = fb;
    nlohmann::ordered_json oj = nlohmann::ordered_json::array();
    for (int i = 0; i < kNumOps; ++i) {
      if (ops.calls[i] <= 0) continue;
      const OpSpec& spec = op_spec(static_cast<Op>(i));
      oj.push_back({{"op", spec.name},
                    {"class", op_class_name(spec.op_class)},
                    {"per_layer", spec.per_layer},
                    {"calls", ops.calls[i]},
                    {"ms", ms(ops.ns[i])},
                    {"fallback", ops.fell_back[i]}});
    }
    j["ops"] = oj;
    j["memory"] = {{"weights_gib_per_device", mem.weight_bytes_per_device / 1073741824.0},
                   {"kv_bytes_per_token_per_device", mem.kv_bytes_per_token},
                   {"kv_blocks", mem.kv_blocks},
                   {"kv_capacity_tokens", mem.kv_capacity_tokens()}};
    if (!coverage.empty()) j["tables"] = coverage;
    std::cout << j.dump(2) << "\n";
    return 0;
  }

  std::printf("%s on %s   TP %d  PP %d   cost model %s\n", d.model->name.c_str(),
              d.hardware->name.c_str(), d.tensor_parallel, d.pipeline_parallel, cost_name.c_str());
  std::int64_t new_tokens = 0, prior = 0;
  for (const auto& s : segs) new_tokens += s.new_tokens, prior += s.prior_tokens;
  std::printf(
      "batch: %zu prefill segment(s), %lld new tokens after %lld cached; %lld decode(s), %lld "
      "context tokens\n\n",
      segs.size(), static_cast<long long>(new_tokens), static_cast<long long>(prior),
      static_cast<long long>(batch.decode_requests),
      static_cast<long long>(batch.decode_context_tokens));
  std::printf("  %-22s %12.4f ms\n", "iteration", ms(static_cast<double>(c.duration_ns)));
  std::printf("  %-22s %12.4f ms   (one block on one device, no communication)\n", "per layer",
              ms(c.per_layer_ns));
  std::printf("  %-22s %12.4f ms\n", "communication", ms(c.comm_ns));
  std::printf("  %-22s %12.4f ms\n\n", "overhead", ms(c.overhead_ns));
  std::printf("  %-22s %12s %7s\n", "op class", "ms", "share");
  const double total = static_cast<double>(std::max<TimeNs>(c.duration_ns, 1));
  for (int k = 0; k < kNumOpClasses; ++k) {
    std::printf("  %-22s %12.4f %6.1f%%%s\n", op_class_name(static_cast<OpClass>(k)),
                ms(c.breakdown_ns[k]), 100.0 * c.breakdown_ns[k] / total,
                (c.fallback_mask & (1u << k)) ? "   (roofline fallback)" : "");
  }
  bool any_op = false;
  for (int i = 0; i < kNumOps; ++i) any_op = any_op || ops.calls[i] > 0;
  if (any_op) {
    std::printf("\n  %-22s %8s %12s  %s\n", "operator", "calls", "ms",
                "(per layer: one block; others: once)");
    for (int i = 0; i < kNumOps; ++i) {
      if (ops.calls[i] <= 0) continue;
      const OpSpec& spec = op_spec(static_cast<Op>(i));
      std::printf("  %-22s %8.2f %12.4f  %s%s\n", spec.name, ops.calls[i], ms(ops.ns[i]),
                  spec.per_layer ? "per layer" : "once",
                  ops.fell_back[i] ? ", roofline fallback" : "");
    }
  }
  if (!coverage.empty()) {
    std::printf("\n  tables:\n");
    for (const auto& line : coverage) std::printf("    %s\n", line.c_str());
  }
  std::printf("\n  memory: %s\n", mem.describe().c_str());
  return 0;
}

}  // namespace servesim::cli
