// models/cost/accuracy.cc — see accuracy.h.
#include "models/cost/accuracy.h"

#include <algorithm>
#include <cmath>

#include "models/catalog.h"

namespace servesim {
namespace {

Deployment reference_deployment(const HardwareSpec& hw) {
  Deployment d;
  d.hardware = &hw;
  d.model = &Catalog::builtin().model("llama-3-8b");  // shape-free functions only; dtype bf16
  return d;
}

// Bytes per (width × token) of an elementwise kernel kind, in units of the element size.
double elementwise_units(const std::string& kind) {
  if (kind == "rms_norm") return 2;      // read x, write y
  if (kind == "add_rms_norm") return 4;  // read x and residual, write both
  if (kind == "add") return 3;
  if (kind == "act_gated") return 3;  // read gate and up, write one
  return 2;                           // rope (read/write Q and K), act
}

bool is_attention(const TableRef& t) {
  return t.op_class == OpClass::kAttentionPrefill || t.op_class == OpClass::kAttentionDecode;
}

// Coordinates whose checkerboard decides the split.
std::vector<int> split_dims(const TableRef& t, SplitMode mode) {
  std::vector<int> dims;
  if (mode == SplitMode::kPoints) {
    for (int d = 0; d < t.dims; ++d) {
      if (t.op_class == OpClass::kCommunication && d == 0)
        continue;  // group size: never interpolated
      dims.push_back(d);
    }
    return dims;
  }
  switch (t.op_class) {
    case OpClass::kGemm:              // (M, N)
    case OpClass::kAttentionPrefill:  // (group size, kv heads)
    case OpClass::kAttentionDecode:
      return {0, 1};
    case OpClass::kElementwise:
      return {0};
    case OpClass::kCommunication:
      return {1};
    default:
      return {0};
  }
}

}  // namespace

std::vector<TableRef> table_refs(const ProfileData& d) {
  std::vector<TableRef> out;
  if (auto it = d.gemm.find("bf16"); it != d.gemm.end()) {
    out.push_back(TableRef{"gemm bf16", OpClass::kGemm, 3, {}, "bf16", &it->second});
  }
  for (const auto& [k, pts] : d.prefill) {
    out.push_back(TableRef{"attention_prefill hd" + std::to_string(k.head_dim) + " kv" +
                               std::to_string(k.kv_dtype_bytes) + "B",
                           OpClass::kAttentionPrefill, 5, k, "", &pts});
  }
  for (const auto& [k, pts] : d.decode) {
    out.push_back(TableRef{"attention_decode hd" + std::to_string(k.head_dim) + " kv" +
                               std::to_string(k.kv_dtype_bytes) + "B",
                           OpClass::kAttentionDecode, 4, k, "", &pts});
  }
  for (const auto& [k, pts] : d.elementwise) {
    out.push_back(TableRef{"elementwise " + k, OpClass::kElementwise, 2, {}, k, &pts});
  }
  for (const auto& [k, pts] : d.comm) {
    out.push_back(TableRef{
        "comm " + k.collective + "/" + k.impl, OpClass::kCommunication, 2, {}, k.collective, &pts});
  }
  return out;
}

std::vector<bool> heldout_mask(const TableRef& t, SplitMode mode, int fold) {
  const auto& pts = *t.points;
  const std::vector<int> dims = split_dims(t, mode);
  std::vector<std::vector<double>> values(static_cast<std::size_t>(t.dims));
  for (int d : dims) {
    auto& v = values[static_cast<std::size_t>(d)];
    for (const auto& p : pts) v.push_back(p.x[static_cast<std::size_t>(d)]);
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
  std::vector<bool> mask(pts.size());
  for (std::size_t i = 0; i < pts.size(); ++i) {
    long rank_sum = 0;
    for (int d : dims) {
      const auto& v = values[static_cast<std::size_t>(d)];
      rank_sum +=
          std::lower_bound(v.begin(), v.end(), pts[i].x[static_cast<std::size_t>(d)]) - v.begin();
    }
    mask[i] = (rank_sum % 2 == 1) == (fold == 1);
  }
  return mask;
}

double roofline_point_ns(const RooflineCostModel& roof, const TableRef& t, const double* x) {
  switch (t.op_class) {
    case OpClass::kGemm:
      return roof.gemm_ns(x[2], x[1], x[0]);
    case OpClass::kAttentionPrefill:
    case OpClass::kAttentionDecode: {
      const RooflineCostModel::AttentionShape a{x[0] * x[1], x[1],
                                                static_cast<double>(t.attn.head_dim), 2.0,
                                                static_cast<double>(t.attn.kv_dtype_bytes)};
      if (t.op_class == OpClass::kAttentionPrefill)
        return roof.prefill_attention_ns(a, x[2], x[4], x[3]);
      return roof.decode_attention_ns(a, x[2], x[3]);
    }
    case OpClass::kElementwise:
      return roof.memory_ns(x[0] * x[1] * 2.0 * elementwise_units(t.name));
    case OpClass::kCommunication: {
      const int gpus = static_cast<int>(x[0]);
      if (t.name == "all_reduce") return roof.allreduce_ns(x[1], gpus);
      if (t.name == "all_gather") return roof.allgather_ns(x[1], gpus);
      return roof.send_ns(x[1]);
    }
    default:
      return 0;
  }
}

int attention_fold(const LogGrid& g, int kv_heads, int q_heads) {
  const double ratio = static_cast<double>(q_heads) / kv_heads;
  const double exact[2] = {ratio, static_cast<double>(kv_heads)};
  if (g.has_prefix(exact) || !g.view(exact).clamped())
    return 1;  // present, or interpolated in range
  for (int f = 2; f <= kv_heads; ++f) {
    if (kv_heads % f != 0) continue;
    const int folded = kv_heads / f;  // exact: f divides kv_heads
    const double prefix[2] = {ratio, static_cast<double>(folded)};
    if (g.has_prefix(prefix)) return f;
  }
  return 1;
}

double measured_point_ns(const LogGrid& fit, const RooflineCostModel& roof, const TableRef& t,
                         const double* x, bool* fell_back) {
  LogGrid::Coords c{};
  for (int d = 0; d < t.dims; ++d) c[static_cast<std::size_t>(d)] = x[d];
  if (is_attention(t)) {
    const int kv = static_cast<int>(c[1]);
    const int f = attention_fold(fit, kv, static_cast<int>(std::lround(c[0] * kv)));
    c[1] /= f;
    c[2] *= f;
  }
  return fit.lookup(
      c.data(), [&](const double* e) { return std::log(roofline_point_ns(roof, t, e)); },
      fell_back);
}

void ErrorStats::add(const ErrorStats& o) {
  points += o.points;
  in_range += o.in_range;
  sum_ape_measured += o.sum_ape_measured;
  sum_ape_measured_in_range += o.sum_ape_measured_in_range;
  sum_ape_roofline += o.sum_ape_roofline;
  sum_ape_calibrated += o.sum_ape_calibrated;
  sum_log_ratio_roofline += o.sum_log_ratio_roofline;
}

double ErrorStats::roofline_ratio() const {
  return points ? std::exp(sum_log_ratio_roofline / points) : 1.0;
}

RooflineParams fit_roofline_params(const std::vector<TableRef>& tables,
                                   const std::vector<std::vector<bool>>& excluded,
                                   const HardwareSpec& hw, const RooflineParams& start) {
  const Deployment dep = reference_deployment(hw);
  auto objective = [&](const RooflineParams& p) {
    const RooflineCostModel roof(dep, p);
    std::array<double, kNumOpClasses> sum{}, n{};
    for (std::size_t ti = 0; ti < tables.size(); ++ti) {
      const TableRef& t = tables[ti];
      const auto& pts = *t.points;
      for (std::size_t i = 0; i < pts.size(); ++i) {
        if (excluded[ti][i]) continue;
        const double r = roofline_point_ns(roof, t, pts[i].x.data()) / pts[i].value;
        sum[static_cast<std::size_t>(t.op_class)] += std::abs(r - 1.0);
        n[static_cast<std::size_t>(t.op_class)] += 1;
      }
    }
    double total = 0;
    for (int k = 0; k < kNumOpClasses; ++k) {
      if (n[static_cast<std::size_t>(k)] > 0)
        total += sum[static_cast<std::size_t>(k)] / n[static_cast<std::size_t>(k)];
    }
    return total;
  };
  struct Knob {
    double RooflineParams::*field;
    double lo, hi;
  };
  const Knob knobs[] = {
      {&RooflineParams::gemm_compute_efficiency, 0.01, 1.0},
      {&RooflineParams::attention_compute_efficiency, 0.01, 1.0},
      {&RooflineParams::memory_efficiency, 0.01, 1.0},
      {&RooflineParams::min_kernel_us, 0.0, 100.0},
      {&RooflineParams::gemm_min_kernel_us, 0.0, 100.0},
      {&RooflineParams::attention_min_kernel_us, 0.0, 100.0},
      {&RooflineParams::attention_per_sequence_us, 0.0, 10.0},
      {&RooflineParams::link_efficiency, 0.01, 1.0},
      {&RooflineParams::comm_latency_us, 0.0, 100.0},
      {&RooflineParams::collective_base_us, 0.0, 200.0},
  };
  RooflineParams best = start;
  if (best.gemm_min_kernel_us < 0) best.gemm_min_kernel_us = best.min_kernel_us;
  if (best.attention_min_kernel_us < 0) best.attention_min_kernel_us = best.min_kernel_us;
  double best_obj = objective(best);
  const double factors[] = {0.5, 0.7, 0.85, 0.95, 1.05, 1.2, 1.4, 2.0};
  for (int round = 0; round < 25; ++round) {
    bool improved = false;
    for (const Knob& k : knobs) {
      for (double f : factors) {
        RooflineParams cand = best;
        double v = cand.*k.field;
        v = v > 0 ? v * f : (f > 1 ? 0.1 : 0.0);
        cand.*k.field = std::clamp(v, k.lo, k.hi);
        if (cand.*k.field == best.*k.field) continue;
        const double obj = objective(cand);
        if (obj < best_obj - 1e-12) {
          best_obj = obj;
          best = cand;
          improved = true;
        }
      }
    }
    if (!improved) break;
  }
  return best;
}

std::vector<AccuracyRow> held_out_accuracy(const ProfileData& data, const HardwareSpec& hw,
                                           const RooflineParams& p, const AccuracyOptions& o,
                                           RooflineParams* calibrated) {
  std::vector<TableRef> tables = table_refs(data);
  std::vector<std::vector<bool>> masks;
  for (TableRef& t : tables) {
    std::vector<bool> m = heldout_mask(t, o.split, o.fold);
    const auto held = std::count(m.begin(), m.end(), true);
    if (o.split == SplitMode::kShapes && (held == 0 || held == static_cast<long>(m.size()))) {
      // One shape only (e.g. a Vidur table of one model): hold out grid points instead.
      m = heldout_mask(t, SplitMode::kPoints, o.fold);
      t.label += " (points)";
    }
    masks.push_back(std::move(m));
  }
  const Deployment dep = reference_deployment(hw);
  const RooflineCostModel roof(dep, p);
  RooflineParams cal = p;
  if (o.calibrate_roofline) cal = fit_roofline_params(tables, masks, hw, p);
  if (calibrated != nullptr) *calibrated = cal;
  const RooflineCostModel roof_cal(dep, cal);
  std::vector<AccuracyRow> rows;
  for (std::size_t ti = 0; ti < tables.size(); ++ti) {
    const TableRef& t = tables[ti];
    const auto& pts = *t.points;
    ProfileData::Points fit;
    std::vector<std::size_t> held;
    for (std::size_t i = 0; i < pts.size(); ++i) {
      if (masks[ti][i]) {
        held.push_back(i);
      } else {
        fit.push_back(pts[i]);
      }
    }
    if (fit.empty() || held.empty()) continue;
    const LogGrid grid(t.dims, std::move(fit), is_attention(t));  // as ProfileTables::compile
    AccuracyRow row;
    row.hardware = hw.name;
    row.table = t.label;
    row.op_class = t.op_class;
    for (std::size_t i : held) {
      const double* x = pts[i].x.data();
      const double actual = pts[i].value;
      bool fb = false;
      const double m = measured_point_ns(grid, roof, t, x, &fb);
      const double r = roofline_point_ns(roof, t, x);
      const double rc = roofline_point_ns(roof_cal, t, x);
      ErrorStats& s = row.stats;
      ++s.points;
      s.sum_ape_measured += std::abs(m - actual) / actual;
      if (!fb) {
        ++s.in_range;
        s.sum_ape_measured_in_range += std::abs(m - actual) / actual;
      }
      s.sum_ape_roofline += std::abs(r - actual) / actual;
      s.sum_ape_calibrated += std::abs(rc - actual) / actual;
      s.sum_log_ratio_roofline += std::log(r / actual);
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<std::pair<std::string, double>> fitted_roofline_values(const RooflineParams& p) {
  return {{"gemm_compute_efficiency", p.gemm_compute_efficiency},
          {"attention_compute_efficiency", p.attention_compute_efficiency},
          {"memory_efficiency", p.memory_efficiency},
          {"min_kernel_us", p.min_kernel_us},
          {"gemm_min_kernel_us", p.gemm_min_kernel_us},
          {"attention_min_kernel_us", p.attention_min_kernel_us},
          {"attention_per_sequence_us", p.attention_per_sequence_us},
          {"link_efficiency", p.link_efficiency},
          {"comm_latency_us", p.comm_latency_us},
          {"collective_base_us", p.collective_base_us}};
}

std::string hardware_for_device(const std::string& device) {
  if (device.empty()) return "";
  // The longest matching family wins ("NVIDIA A10G" is an a10g, not an a10).
  std::string best;
  auto family = [](const std::string& n) { return n.substr(0, n.find('-')).size(); };
  for (const auto& [name, hw] : Catalog::builtin().all_hardware()) {
    if (device_matches(device, name) && (best.empty() || family(name) > family(best))) best = name;
  }
  return best;
}

}  // namespace servesim
