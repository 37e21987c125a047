// models/cost/accuracy.h — how well the cost models reproduce measured kernel times: fit /
// held-out splits of the normalised tables (profile_data.h), the measured model's and the
// roofline's errors on the held-out half, and a least-squares fit of the roofline's efficiency
// parameters. Used by `servesim validate-cost` and `servesim calibrate`; not on any hot path.
//
// Splits (deterministic): every coordinate value of a table has its rank among the distinct
// values of that coordinate; a point is held out when the sum of the ranks of its split
// coordinates is odd (a checkerboard), so every held-out point lies between fit points.
//   shapes — split coordinates are the model-shape ones: GEMM (k, n); attention (query heads
//            per KV head, KV heads); elementwise width; communication message size (group sizes are
//            never interpolated). The measured model must then interpolate to shapes it never saw.
//   points — every coordinate: held-out points are grid points between fit points along
//            token count, batch and context as well.
// Fold 1 holds out the odd checkerboard, fold 0 the even one (2-fold cross-validation). A table
// of a single shape cannot be split by shape; held_out_accuracy splits it by points instead
// and marks its label "(points)".
//
// Errors: APE = |predicted − measured| / measured; MAPE is their mean, in %. A held-out point
// is "in range" when the fit tables reach it without extrapolation (LogGrid fell_back false).
#pragma once

#include <string>
#include <vector>

#include "models/cost/profile_data.h"
#include "models/cost/roofline.h"

namespace servesim {

enum class SplitMode { kShapes, kPoints };

// One normalised table of a ProfileData (borrowed pointers: keep the ProfileData alive).
struct TableRef {
  std::string label;  // "gemm bf16", "attention_prefill hd128 kv2B", "elementwise rms_norm", "comm
                      // all_reduce/nccl"
  OpClass op_class = OpClass::kGemm;
  int dims = 0;
  AttnKey attn;      // attention tables
  std::string name;  // gemm dtype, elementwise kind, or collective
  const ProfileData::Points* points = nullptr;
};
// The tables the accuracy report covers (GEMM bf16 only; attention, elementwise, comm).
std::vector<TableRef> table_refs(const ProfileData& d);

// true = held out, per point of t, for `fold` (1: odd checkerboard, 0: even).
std::vector<bool> heldout_mask(const TableRef& t, SplitMode mode, int fold);

// The roofline's time for one table point (coordinates as in profile_data.h).
double roofline_point_ns(const RooflineCostModel& roof, const TableRef& t, const double* x);
// The measured model's time for one point from a grid built on fit points, as the model
// prices it (head folding for attention, anchored extrapolation).
double measured_point_ns(const LogGrid& fit, const RooflineCostModel& roof, const TableRef& t,
                         const double* x, bool* fell_back);

// Folding of an attention head configuration onto one present in `g`: 1 when (q/kv, kv) is
// present or lies inside the range of `g` (interpolated); else the smallest f with kv/f whole and
// (q/kv, kv/f) present (batch × f: the same work); else 1 (extrapolated, anchored).
int attention_fold(const LogGrid& g, int kv_heads, int q_heads);

struct ErrorStats {
  std::int64_t points = 0;
  std::int64_t in_range = 0;
  double sum_ape_measured = 0;           // all held-out points
  double sum_ape_measured_in_range = 0;  // in-range ones only
  double sum_ape_roofline = 0;
  double sum_ape_calibrated = 0;      // roofline with parameters fitted on the fit half
  double sum_log_ratio_roofline = 0;  // Σ log(roofline / measured)

  void add(const ErrorStats& o);
  double mape_measured() const { return points ? 100.0 * sum_ape_measured / points : 0; }
  double mape_measured_in_range() const {
    return in_range ? 100.0 * sum_ape_measured_in_range / in_range : 0;
  }
  double mape_roofline() const { return points ? 100.0 * sum_ape_roofline / points : 0; }
  double mape_calibrated() const { return points ? 100.0 * sum_ape_calibrated / points : 0; }
  // Geometric-mean ratio roofline / measured (< 1: the roofline is optimistic).
  double roofline_ratio() const;
};

struct AccuracyRow {
  std::string hardware;  // catalog name
  std::string source;    // table format of the first file, e.g. aiconfigurator-gemm
  std::string table;     // TableRef::label
  OpClass op_class = OpClass::kGemm;
  ErrorStats stats;
};

struct AccuracyOptions {
  SplitMode split = SplitMode::kShapes;
  int fold = 1;
  bool calibrate_roofline = true;  // also fit roofline parameters on the fit half
};

// Held-out errors of every table of `data` (one device) on `hw`, with roofline parameters `p`.
// Tables whose fit or held-out half is empty are left out.
std::vector<AccuracyRow> held_out_accuracy(const ProfileData& data, const HardwareSpec& hw,
                                           const RooflineParams& p, const AccuracyOptions& o,
                                           RooflineParams* calibrated = nullptr);

// Roofline parameters (GEMM, attention and memory efficiency, min kernel time, link efficiency,
// comm latency) minimising the mean absolute percentage error over the points not masked out
// (mask true = excluded), each op class weighted equally; coordinate descent from `start`.
RooflineParams fit_roofline_params(const std::vector<TableRef>& tables,
                                   const std::vector<std::vector<bool>>& excluded,
                                   const HardwareSpec& hw, const RooflineParams& start);

// The fitted parameters as (cost_model key, value) pairs, in a fixed order.
std::vector<std::pair<std::string, double>> fitted_roofline_values(const RooflineParams& p);

// The catalog hardware a table's device string names (first match), "" when none does.
std::string hardware_for_device(const std::string& device);

}  // namespace servesim
