// sim/cli/cmd_calibrate.cc — `servesim calibrate PROFILE [-o FILE]`: fits the cost models to a
// measured profile (the kernel module's servesim-kernel-profile JSON, or any table
// profile_data.h reads) and reports how well they fit, by op class:
//   fit       — the measured model at the profile's own points (0 unless points repeat);
//   cross-validated — 2-fold: each checkerboard half predicted from the other (accuracy.h);
//   roofline  — default parameters, and parameters fitted to the whole profile;
//   layers    — for kernel profiles of a catalog model: `measured` per-layer time against the
//               whole decoder layers the driver timed (composition check).
// The `measured` cost model reads the profile itself (`--cost measured --profile PROFILE`, or
// profiles: [PROFILE] in a scenario); -o writes this report as JSON ("servesim-calibration"),
// whose roofline_params are usable as cost_model keys of `roofline` or `measured`.
#include <array>
#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "models/catalog.h"
#include "models/cost/accuracy.h"
#include "models/cost/measured.h"
#include "sim/cli/commands.h"
#include "sim/config/errors.h"
#include "sim/core/output_file.h"

namespace po = boost::program_options;

namespace servesim::cli {
namespace {

using OJson = nlohmann::ordered_json;

struct ClassStats {
  std::array<ErrorStats, kNumOpClasses> by_class{};
};

// Errors of the measured model at the points it was built from.
ClassStats fit_error(const ProfileData& data, const RooflineCostModel& roof) {
  ClassStats out;
  for (const TableRef& t : table_refs(data)) {
    const LogGrid grid(
        t.dims, *t.points,
        t.op_class == OpClass::kAttentionPrefill || t.op_class == OpClass::kAttentionDecode);
    ErrorStats& s = out.by_class[static_cast<std::size_t>(t.op_class)];
    for (const auto& p : *t.points) {
      bool fb = false;
      const double m = measured_point_ns(grid, roof, t, p.x.data(), &fb);
      ++s.points;
      ++s.in_range;
      s.sum_ape_measured += std::abs(m - p.value) / p.value;
      s.sum_ape_measured_in_range += std::abs(m - p.value) / p.value;
      const double r = roofline_point_ns(roof, t, p.x.data());
      s.sum_ape_roofline += std::abs(r - p.value) / p.value;
      s.sum_log_ratio_roofline += std::log(r / p.value);
    }
  }
  return out;
}

OJson layer_check(const nlohmann::json& doc, const ProfileData& data, const HardwareSpec& hw,
                  std::string* note) {
  OJson out = OJson::array();
  if (!doc.contains("layers") || !doc["layers"].is_array() || doc["layers"].empty()) return out;
  const std::string model = doc.contains("model") ? doc["model"].value("name", "") : "";
  const auto& models = Catalog::builtin().all_models();
  if (models.find(model) == models.end()) {
    *note = "layer check skipped: model '" + model + "' is not in the catalog";
    return out;
  }
  Deployment d;
  d.hardware = &hw;
  d.model = &Catalog::builtin().model(model);
  d.tensor_parallel = doc.value("tp", 1);
  MeasuredOptions o;
  o.device_check = false;
  RooflineParams p;
  p.step_overhead_us = 0;
  const MeasuredCostModel m(d, ProfileTables::compile(data), p, o);
  for (const auto& layer : doc["layers"]) {
    const auto& shape = layer.at("shape");
    std::vector<PrefillSegment> segs;
    for (const auto& s : shape.at("prefill")) {
      segs.push_back(
          PrefillSegment{s.at("tokens").get<std::int32_t>(), s.at("prior").get<std::int32_t>()});
    }
    BatchShape b;
    b.prefills = segs;
    const auto& dec = shape.at("decode");
    b.decode_requests = dec.at("batch").get<std::int64_t>();
    b.decode_context_tokens = b.decode_requests * dec.at("context").get<std::int64_t>();
    const double measured_ms = layer.at("median_ms").get<double>();
    const double est_ms = m.estimate(b).per_layer_ns * 1e-6;
    out.push_back({{"kind", layer.value("kind", "")},
                   {"shape", shape},
                   {"measured_ms", measured_ms},
                   {"estimate_ms", est_ms},
                   {"error_pct", 100.0 * (est_ms - measured_ms) / measured_ms}});
  }
  return out;
}

}  // namespace

int cmd_calibrate(const Args& args) {
  po::options_description opts(
      "servesim calibrate PROFILE [-o FILE] [options]\n\n"
      "Fits the measured and roofline cost models to a profile and reports fit and "
      "cross-validated\n"
      "error by op class (and, for kernel profiles, the error against whole measured "
      "layers).\nOptions");
  opts.add_options()("help,h", "show this help")("output,o", po::value<std::string>(),
                                                 "write the calibration report (JSON) here")(
      "hardware", po::value<std::string>(),
      "catalog hardware (default: from the profile's device)")(
      "split", po::value<std::string>()->default_value("points"),
      "cross-validation split: points | shapes")("json", "print the report as JSON")(
      "profile", po::value<std::string>(), "profile file or folder");
  po::positional_options_description pos;
  pos.add("profile", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout
        << opts
        << "\nExample:\n  servesim calibrate models/calibration/h100-sxm_llama-3-8b_tp1.json -o "
           "calib.json\n"
           "  servesim estimate --model llama-3-8b --hardware h100-sxm --cost measured \\\n"
           "      --profile models/calibration/h100-sxm_llama-3-8b_tp1.json --decode 64x2048\n";
    return 0;
  }
  if (!vm.count("profile")) throw UsageError("missing PROFILE");
  const std::string path = vm["profile"].as<std::string>();
  const ProfileData data = import_profile(path);
  std::string device;
  for (const ProfileSource& s : data.sources) {
    if (!s.device.empty()) device = s.device;
  }
  std::string hw_name =
      vm.count("hardware") ? vm["hardware"].as<std::string>() : hardware_for_device(device);
  if (hw_name.empty()) {
    throw UsageError("the profile's device '" + device +
                     "' is no catalog hardware; give --hardware (servesim list hardware)");
  }
  const HardwareSpec& hw = Catalog::builtin().hardware(hw_name);
  const std::string split = vm["split"].as<std::string>();
  if (split != "points" && split != "shapes")
    throw UsageError("--split: expected points or shapes");

  Deployment dep;
  dep.hardware = &hw;
  dep.model = &Catalog::builtin().model("llama-3-8b");
  const RooflineParams defaults;
  const RooflineCostModel roof(dep, defaults);

  // Fit error, and the roofline fitted to every point.
  const ClassStats fit = fit_error(data, roof);
  const std::vector<TableRef> tables = table_refs(data);
  std::vector<std::vector<bool>> none;
  for (const TableRef& t : tables) none.emplace_back(t.points->size(), false);
  const RooflineParams fitted = fit_roofline_params(tables, none, hw, defaults);
  const RooflineCostModel roof_fit(dep, fitted);
  std::array<ErrorStats, kNumOpClasses> fitted_err{};
  for (const TableRef& t : tables) {
    for (const auto& p : *t.points) {
      ErrorStats& s = fitted_err[static_cast<std::size_t>(t.op_class)];
      ++s.points;
      s.sum_ape_calibrated +=
          std::abs(roofline_point_ns(roof_fit, t, p.x.data()) - p.value) / p.value;
    }
  }
  // 2-fold cross-validation.
  std::array<ErrorStats, kNumOpClasses> cv{};
  for (int fold = 0; fold <= 1; ++fold) {
    AccuracyOptions ao;
    ao.split = split == "shapes" ? SplitMode::kShapes : SplitMode::kPoints;
    ao.fold = fold;
    for (const AccuracyRow& r : held_out_accuracy(data, hw, defaults, ao)) {
      cv[static_cast<std::size_t>(r.op_class)].add(r.stats);
    }
  }
  // Composition check against whole layers (kernel profiles).
  std::string layer_note;
  OJson layers = OJson::array();
  if (data.sources.size() == 1 && data.sources.front().format == "servesim-kernel-profile") {
    std::ifstream in(path);
    const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
    if (!doc.is_discarded()) layers = layer_check(doc, data, hw, &layer_note);
  }

  OJson report;
  report["format"] = "servesim-calibration";
  report["version"] = 1;
  report["profile"] = path;
  report["device"] = device;
  report["hardware"] = hw_name;
  report["points"] = data.total_points();
  report["split"] = split;
  OJson classes = OJson::array();
  for (int k = 0; k < kNumOpClasses; ++k) {
    const auto ks = static_cast<std::size_t>(k);
    if (fit.by_class[ks].points == 0) continue;
    classes.push_back({{"op_class", op_class_name(static_cast<OpClass>(k))},
                       {"points", fit.by_class[ks].points},
                       {"fit_mape", fit.by_class[ks].mape_measured()},
                       {"cv_points", cv[ks].points},
                       {"cv_in_range", cv[ks].in_range},
                       {"cv_mape_in_range", cv[ks].mape_measured_in_range()},
                       {"cv_mape", cv[ks].mape_measured()},
                       {"roofline_mape", fit.by_class[ks].mape_roofline()},
                       {"roofline_ratio", fit.by_class[ks].roofline_ratio()},
                       {"fitted_roofline_mape", fitted_err[ks].mape_calibrated()},
                       {"fitted_roofline_cv_mape", cv[ks].mape_calibrated()}});
  }
  report["op_classes"] = classes;
  OJson params;
  for (const auto& [k, v] : fitted_roofline_values(fitted)) params[k] = v;
  report["roofline_params"] = params;
  report["layers"] = layers;
  if (!layer_note.empty()) report["layers_note"] = layer_note;
  if (vm.count("output")) {
    OutputFile out(vm["output"].as<std::string>(), "-o");
    const std::string text = report.dump(2) + "\n";
    std::fwrite(text.data(), 1, text.size(), out.get());
    out.commit();
  }
  if (vm.count("json")) {
    std::cout << report.dump(2) << "\n";
    return 0;
  }
  std::printf("calibration of %s (%s, on %s): %lld points\n\n", path.c_str(), device.c_str(),
              hw_name.c_str(), static_cast<long long>(data.total_points()));
  std::printf("%-18s %7s %9s %9s %9s %9s %9s %9s %9s\n", "op class", "points", "fit MAPE", "cv(in)",
              "cv(all)", "roofline", "ratio", "roof fit", "roof cv");
  for (const auto& c : classes) {
    char in_range[32] = "        -";
    if (c["cv_in_range"].get<long long>() > 0) {
      std::snprintf(in_range, sizeof in_range, "%8.2f%%", c["cv_mape_in_range"].get<double>());
    }
    std::printf("%-18s %7lld %8.2f%% %s %8.2f%% %8.1f%% %9.2f %8.1f%% %8.1f%%\n",
                c["op_class"].get<std::string>().c_str(), c["points"].get<long long>(),
                c["fit_mape"].get<double>(), in_range, c["cv_mape"].get<double>(),
                c["roofline_mape"].get<double>(), c["roofline_ratio"].get<double>(),
                c["fitted_roofline_mape"].get<double>(),
                c["fitted_roofline_cv_mape"].get<double>());
  }
  std::printf(
      "(cv(in): held-out points the other half brackets; cv(all) includes extrapolated ones)\n");
  std::printf("\nroofline parameters fitted to the profile:");
  for (const auto& [k, v] : fitted_roofline_values(fitted)) std::printf(" %s=%.3g", k.c_str(), v);
  std::printf("\n");
  if (!layers.empty()) {
    std::printf(
        "\nwhole layers (measured model per-layer estimate vs the driver's layer timing):\n");
    for (const auto& l : layers) {
      std::printf("  %-8s %-60s measured %9.4f ms  estimate %9.4f ms  error %+6.1f%%\n",
                  l["kind"].get<std::string>().c_str(), l["shape"].dump().c_str(),
                  l["measured_ms"].get<double>(), l["estimate_ms"].get<double>(),
                  l["error_pct"].get<double>());
    }
  } else if (!layer_note.empty()) {
    std::printf("\n%s\n", layer_note.c_str());
  }
  if (vm.count("output")) std::printf("\nwrote %s\n", vm["output"].as<std::string>().c_str());
  return 0;
}

}  // namespace servesim::cli
