// sim/cli/cmd_list.cc — `servesim list [KIND]`: what the registries and catalogs hold.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "models/catalog.h"
#include "sim/cli/commands.h"
#include "sim/config/errors.h"
#include "sim/core/registry.h"

namespace po = boost::program_options;

namespace servesim::cli {
namespace {

void print_rows(const std::vector<RegistryEntry>& rows) {
  std::size_t width = 4;
  for (const auto& r : rows) width = std::max(width, r.name.size());
  for (const auto& r : rows)
    std::printf("  %-*s  %s\n", static_cast<int>(width), r.name.c_str(), r.description.c_str());
}

std::vector<RegistryEntry> hardware_rows() {
  std::vector<RegistryEntry> rows;
  for (const auto& [name, h] : Catalog::builtin().all_hardware()) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%-4s %5.0f GiB %6.0f GB/s %7.1f TFLOP/s bf16  %s",
                  h.kind.c_str(), h.memory_gib, h.memory_bandwidth_gbps, h.bf16_tflops,
                  h.description.c_str());
    rows.push_back({name, buf});
  }
  return rows;
}

std::vector<RegistryEntry> model_rows() {
  std::vector<RegistryEntry> rows;
  for (const auto& [name, m] : Catalog::builtin().all_models()) {
    char buf[256];
    std::snprintf(
        buf, sizeof buf, "%7.2f B params  %3d layers  %5d hidden  %3d/%-3d heads  ctx %-7lld %s",
        m.total_params() / 1e9, m.num_layers, m.hidden_size, m.num_attention_heads, m.num_kv_heads,
        static_cast<long long>(m.max_context_tokens), m.is_moe() ? "MoE" : "");
    rows.push_back({name, buf});
  }
  return rows;
}

}  // namespace

int cmd_list(const Args& args) {
  po::options_description opts(
      "servesim list [KIND]\n\nLists registered components (by kind) and catalog "
      "entries.\nOptions");
  opts.add_options()("help,h", "show this help")("kind", po::value<std::string>(), "what to list");
  po::positional_options_description pos;
  pos.add("kind", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  const auto& kinds = RegistryIndex::kinds();
  auto print_kinds = [&] {
    std::printf("kinds:\n  hardware\n  models\n");
    for (const auto& [k, lister] : kinds) std::printf("  %s\n", k.c_str());
  };
  if (vm.count("help")) {
    std::cout << opts << "\n";
    print_kinds();
    return 0;
  }
  if (!vm.count("kind")) {
    print_kinds();
    return 0;
  }
  std::string kind = vm["kind"].as<std::string>();
  if (kind == "hardware") {
    print_rows(hardware_rows());
    return 0;
  }
  if (kind == "models" || kind == "model") {
    print_rows(model_rows());
    return 0;
  }
  // Accept plurals and underscores: "batchers", "cost_models" → "batcher", "cost-model".
  for (char& ch : kind)
    if (ch == '_') ch = '-';
  auto it = kinds.find(kind);
  if (it == kinds.end() && kind.size() > 1 && kind.back() == 's')
    it = kinds.find(kind.substr(0, kind.size() - 1));
  if (it == kinds.end()) {
    std::string valid = "hardware, models";
    for (const auto& [k, lister] : kinds) valid += ", " + k;
    throw UsageError("unknown kind '" + vm["kind"].as<std::string>() +
                     "'; valid kinds are: " + valid);
  }
  print_rows(it->second());
  return 0;
}

}  // namespace servesim::cli
