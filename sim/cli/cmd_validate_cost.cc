// sim/cli/cmd_validate_cost.cc — `servesim validate-cost`: accuracy of the `measured` and
// `roofline` cost models on measured kernel tables. Each table is split into fit and held-out
// halves (models/cost/accuracy.h); the measured model is built from the fit half only and both
// models predict the held-out half. Prints MAPE per table and per GPU × source × op class.
//
//   servesim validate-cost [--profile PATH]... [--hardware H] [--split shapes|points] [--fold 0|1]
//                          [--no-calibrate] [--data-dir DIR] [--json]
// Without --profile: the aiconfigurator tables of a100_sxm, h100_sxm and h200_sxm and Vidur's
// A100/H100 compute and network tables under the data folder.
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "models/catalog.h"
#include "models/cost/accuracy.h"
#include "models/cost/measured.h"
#include "sim/cli/commands.h"
#include "sim/config/errors.h"
#include "sim/scenario/runner.h"

namespace po = boost::program_options;

namespace servesim::cli {
namespace {

const std::vector<std::string>& default_profiles() {
  static const std::vector<std::string> p = {
      "profiles/aiconfigurator/a100_sxm", "profiles/aiconfigurator/h100_sxm",
      "profiles/aiconfigurator/h200_sxm", "profiles/vidur/compute/a100",
      "profiles/vidur/compute/h100",      "profiles/vidur/network/a100_dgx",
      "profiles/vidur/network/h100_dgx",  "profiles/vidur/legacy_acb95f6/a100/attention.csv",
  };
  return p;
}

std::string family(const std::string& format) { return format.substr(0, format.find('-')); }

}  // namespace

int cmd_validate_cost(const Args& args) {
  po::options_description opts(
      "servesim validate-cost [options]\n\n"
      "Splits each measured table into fit and held-out halves, builds the measured model from "
      "the\n"
      "fit half, and prints the MAPE of `measured` and `roofline` on the held-out half.\nOptions");
  std::vector<std::string> profiles, sets;
  opts.add_options()("help,h", "show this help")(
      "profile", po::value<std::vector<std::string>>(&profiles)->composing(),
      "table file or folder (repeatable; default: aiconfigurator a100/h100/h200 and Vidur "
      "a100/h100)")("hardware", po::value<std::string>(),
                    "catalog hardware of every profile (default: from the tables' device)")(
      "split", po::value<std::string>()->default_value("shapes"),
      "shapes: hold out model shapes ((k, n), head configurations, widths, message sizes); points: "
      "hold out grid points")("fold", po::value<int>()->default_value(1),
                              "1: hold out the odd checkerboard, 0: the even one")(
      "set", po::value<std::vector<std::string>>(&sets)->composing(),
      "roofline parameter KEY=VALUE (repeatable)")(
      "no-calibrate", "skip the roofline whose parameters are fitted on the fit half")(
      "data-dir", po::value<std::string>(),
      "shared data folder (default $SERVESIM_DATA_DIR or ../shared/data)")("json",
                                                                           "print one JSON object");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts << "\nExample:\n  servesim validate-cost --split shapes\n";
    return 0;
  }
  AccuracyOptions ao;
  const std::string split = vm["split"].as<std::string>();
  if (split != "shapes" && split != "points")
    throw UsageError("--split: expected shapes or points");
  ao.split = split == "shapes" ? SplitMode::kShapes : SplitMode::kPoints;
  ao.fold = vm["fold"].as<int>();
  if (ao.fold != 0 && ao.fold != 1) throw UsageError("--fold: expected 0 or 1");
  ao.calibrate_roofline = !vm.count("no-calibrate");
  const std::string data_dir =
      vm.count("data-dir") ? vm["data-dir"].as<std::string>() : default_data_dir();
  if (profiles.empty()) profiles = default_profiles();

  const Catalog& catalog = Catalog::builtin();
  struct Group {
    std::string hardware, source, profile;
    std::vector<AccuracyRow> rows;
    RooflineParams calibrated;
  };
  std::vector<Group> groups;
  for (const std::string& p : profiles) {
    const std::string path = resolve_profile_path(p, data_dir);
    const ProfileData data = import_profile(path);
    std::string hw = vm.count("hardware") ? vm["hardware"].as<std::string>() : "";
    if (hw.empty()) {
      for (const ProfileSource& s : data.sources) {
        hw = hardware_for_device(s.device);
        if (!hw.empty()) break;
      }
      if (hw.empty()) throw UsageError(p + ": the tables name no known device; give --hardware");
    }
    const HardwareSpec& spec = catalog.hardware(hw);
    // Roofline parameters: defaults plus --set.
    auto tree = ConfigTree::parse("{}", "validate-cost");
    for (const auto& s : sets) tree->apply_override(s);
    Deployment dep;
    dep.hardware = &spec;
    dep.model = &catalog.model("llama-3-8b");
    ConfigNode root = tree->root();
    const RooflineParams params = read_roofline_params(root, dep);
    tree->check_all_consumed();
    Group g;
    g.hardware = hw;
    g.profile = p;
    g.source = family(data.sources.front().format);
    g.rows = held_out_accuracy(data, spec, params, ao, &g.calibrated);
    for (auto& r : g.rows) r.source = g.source;
    groups.push_back(std::move(g));
  }

  // Summary per GPU × source × op class.
  std::map<std::tuple<std::string, std::string, int>, ErrorStats> summary;
  for (const Group& g : groups) {
    for (const AccuracyRow& r : g.rows)
      summary[{r.hardware, r.source, static_cast<int>(r.op_class)}].add(r.stats);
  }

  if (vm.count("json")) {
    nlohmann::ordered_json j;
    j["split"] = split;
    j["fold"] = ao.fold;
    auto stats_json = [](const ErrorStats& s) {
      return nlohmann::ordered_json{{"held_out", s.points},
                                    {"in_range", s.in_range},
                                    {"measured_mape_in_range", s.mape_measured_in_range()},
                                    {"measured_mape", s.mape_measured()},
                                    {"roofline_mape", s.mape_roofline()},
                                    {"roofline_ratio", s.roofline_ratio()},
                                    {"calibrated_roofline_mape", s.mape_calibrated()}};
    };
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const Group& g : groups) {
      for (const AccuracyRow& r : g.rows) {
        nlohmann::ordered_json o{{"hardware", r.hardware},
                                 {"source", r.source},
                                 {"table", r.table},
                                 {"op_class", op_class_name(r.op_class)}};
        o.update(stats_json(r.stats));
        rows.push_back(o);
      }
    }
    j["tables"] = rows;
    nlohmann::ordered_json sum = nlohmann::ordered_json::array();
    for (const auto& [key, s] : summary) {
      nlohmann::ordered_json o{{"hardware", std::get<0>(key)},
                               {"source", std::get<1>(key)},
                               {"op_class", op_class_name(static_cast<OpClass>(std::get<2>(key)))}};
      o.update(stats_json(s));
      sum.push_back(o);
    }
    j["summary"] = sum;
    nlohmann::ordered_json cal = nlohmann::ordered_json::array();
    for (const Group& g : groups) {
      if (!ao.calibrate_roofline) break;
      nlohmann::ordered_json o{
          {"hardware", g.hardware}, {"source", g.source}, {"profile", g.profile}};
      for (const auto& [k, v] : fitted_roofline_values(g.calibrated)) o[k] = v;
      cal.push_back(o);
    }
    j["calibrated_roofline"] = cal;
    std::cout << j.dump(2) << "\n";
    return 0;
  }

  std::printf(
      "held-out accuracy (split %s, fold %d): MAPE %% of the measured model built from the fit "
      "half,\n"
      "and of the roofline (defaults; 'cal.': parameters fitted on the fit half). ratio = "
      "geometric mean\n"
      "roofline / measured time (< 1: optimistic).\n\n",
      split.c_str(), ao.fold);
  std::printf("%-9s %-15s %-36s %8s %8s %9s %9s %9s %7s %9s\n", "gpu", "source", "table",
              "held-out", "in-range", "meas(in)", "meas(all)", "roofline", "ratio", "roof cal.");
  for (const Group& g : groups) {
    for (const AccuracyRow& r : g.rows) {
      const ErrorStats& s = r.stats;
      std::printf("%-9s %-15s %-36s %8lld %8lld %9.2f %9.2f %9.1f %7.2f %9.1f\n",
                  r.hardware.c_str(), r.source.c_str(), r.table.c_str(),
                  static_cast<long long>(s.points), static_cast<long long>(s.in_range),
                  s.mape_measured_in_range(), s.mape_measured(), s.mape_roofline(),
                  s.roofline_ratio(), s.mape_calibrated());
    }
  }
  std::printf("\nsummary by GPU, source and op class\n");
  std::printf("%-9s %-15s %-18s %8s %8s %9s %9s %9s %7s %9s\n", "gpu", "source", "op class",
              "held-out", "in-range", "meas(in)", "meas(all)", "roofline", "ratio", "roof cal.");
  for (const auto& [key, s] : summary) {
    std::printf("%-9s %-15s %-18s %8lld %8lld %9.2f %9.2f %9.1f %7.2f %9.1f\n",
                std::get<0>(key).c_str(), std::get<1>(key).c_str(),
                op_class_name(static_cast<OpClass>(std::get<2>(key))),
                static_cast<long long>(s.points), static_cast<long long>(s.in_range),
                s.mape_measured_in_range(), s.mape_measured(), s.mape_roofline(),
                s.roofline_ratio(), s.mape_calibrated());
  }
  if (ao.calibrate_roofline) {
    std::printf("\nroofline parameters fitted on the fit half (usable as cost_model keys)\n");
    for (const Group& g : groups) {
      std::printf("  %-9s %s\n   ", g.hardware.c_str(), g.profile.c_str());
      for (const auto& [k, v] : fitted_roofline_values(g.calibrated))
        std::printf(" %s=%.3g", k.c_str(), v);
      std::printf("\n");
    }
  }
  return 0;
}

}  // namespace servesim::cli
