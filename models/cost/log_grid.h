// models/cost/log_grid.h — LogGrid: interpolation of measured kernel times over a ragged grid,
// in log space. Owns nothing but its points; used by the `measured` cost model and by the
// accuracy report.
//
// A LogGrid holds points (x_0 … x_{D−1}) → t > 0 (D ≤ 6). The points need not fill a box: they
// are arranged as a tree (distinct x_0 values; under each, the distinct x_1 values present with
// it; …), and a lookup descends the tree, at every level bracketing the query coordinate between
// the two nearest present values and blending the two sub-results linearly in
// (log(1 + x), log t). So a grid that is triangular (e.g. batch × context with batch·context
// bounded) or has holes still interpolates from the points nearest along each axis in turn.
//
// Optionally (`smooth_last`), the last coordinate is interpolated with a monotone cubic
// (Fritsch–Carlson PCHIP) through the points of its curve instead of linearly — better for
// smooth convex curves such as attention time against sequence length.
//
// Outside the range present at some level, the coordinate is clamped to the nearest present
// value and the result is *anchored*: t(x) = t(x_clamped) · r(x) / r(x_clamped), where r is a
// caller-given reference model (the roofline). The lookup then reports `fell_back`. With r ≡ 1
// this is constant extrapolation.
//
// Contract:
//  * Points with identical coordinates are merged by geometric mean.
//  * lookup() is allocation-free and O(2^D · log points); thread-compatible (const).
//  * Exact grid coordinates return the stored value exactly (up to exp(log(t)) rounding).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace servesim {

class LogGrid {
 public:
  static constexpr int kMaxDims = 6;
  using Coords = std::array<double, kMaxDims>;
  struct Point {
    Coords x{};
    double value = 0;  // > 0
  };

  LogGrid() = default;
  // REQUIRES: 1 <= dims <= kMaxDims; every value > 0 and finite; every coordinate >= 0.
  LogGrid(int dims, std::vector<Point> points, bool smooth_last = false);

  int dims() const { return dims_; }
  bool empty() const { return nodes_.empty(); }
  std::size_t size() const { return points_; }
  // Smallest / largest value of coordinate `d` over all points.
  double min_coord(int d) const { return lo_[d]; }
  double max_coord(int d) const { return hi_[d]; }
  // True when a point with exactly these leading coordinates exists.
  bool has_prefix(std::span<const double> prefix) const;

  // A lookup with the first `prefix` coordinates fixed, prepared once (e.g. the (k, n) of one
  // GEMM of a deployment, or its head counts); lookups then only descend the remaining levels.
  class View {
   public:
    View() = default;
    bool valid() const { return grid_ != nullptr && !parts_.empty(); }
    int prefix_dims() const { return prefix_; }
    // True when some prefix coordinate lay outside the range present (the view extrapolates).
    bool clamped() const {
      for (const Part& p : parts_) {
        if (p.clamped) return true;
      }
      return false;
    }
    // Interpolated time at (prefix, rest). `log_ref(const double* full_coords)` returns the log
    // of the reference model at a full coordinate vector (only called when a coordinate is
    // clamped). Sets *fell_back when any coordinate (prefix included) was outside the range.
    template <class LogRef>
    double lookup(const double* rest, LogRef&& log_ref, bool* fell_back) const;

   private:
    friend class LogGrid;
    struct Part {
      double weight = 0;
      int node = 0;
      bool clamped = false;
      Coords eff{};  // effective prefix coordinates (clamped ones at the boundary)
    };
    const LogGrid* grid_ = nullptr;
    int prefix_ = 0;
    Coords query_{};  // the prefix as asked
    std::vector<Part> parts_;
  };
  // REQUIRES: prefix.size() < dims().
  View view(std::span<const double> prefix) const;

  // Full lookup (a view with no prefix, built on the fly).
  template <class LogRef>
  double lookup(const double* x, LogRef&& log_ref, bool* fell_back) const {
    View v = view({});
    return v.lookup(x, log_ref, fell_back);
  }
  // Lookup without a reference model (constant extrapolation).
  double lookup(const double* x, bool* fell_back) const {
    return lookup(
        x, [](const double*) { return 0.0; }, fell_back);
  }

 private:
  struct Node {
    std::int32_t first = 0;  // index into keys_/raw_/next_
    std::int32_t count = 0;
  };
  struct Bracket {
    int i0 = 0, i1 = 0;  // entries (absolute indices); i1 == i0 when one entry suffices
    double w1 = 0;       // weight of i1
    bool clamped = false;
  };
  // u = log1p(x), passed in so that repeated lookups of one coordinate compute it once.
  Bracket bracket(const Node& n, double x, double u) const;
  int build(std::vector<Point>& pts, std::size_t lo, std::size_t hi, int level);
  template <class Fn>
  void descend(int node, int level, const double* x, const double* u, Coords& eff, double weight,
               bool clamped, Fn&& leaf) const;

  int dims_ = 0;
  std::size_t points_ = 0;
  Coords lo_{}, hi_{};
  std::vector<Node> nodes_;         // nodes_[0] is the root
  std::vector<double> keys_;        // log1p(coordinate) of each entry
  std::vector<double> raw_;         // the coordinate itself
  std::vector<std::int32_t> next_;  // child node of an inner entry
  std::vector<double> logv_;        // log(value) of a leaf entry
  std::vector<double> slope_;       // d log(value) / d key at a leaf entry (PCHIP), when smooth
  bool smooth_ = false;
};

// ---- implementation of the templates

template <class Fn>
void LogGrid::descend(int node, int level, const double* x, const double* u, Coords& eff,
                      double weight, bool clamped, Fn&& leaf) const {
  const Node& n = nodes_[node];
  const Bracket b = bracket(n, x[level], u[level]);
  const bool c = clamped || b.clamped;
  const double saved = eff[level];
  if (level + 1 == dims_) {
    // Leaf level: one interpolated value (linear, or Hermite with the PCHIP slopes).
    double v = logv_[b.i0];
    if (b.i1 != b.i0) {
      const double w = b.w1;
      if (smooth_) {
        const double h = keys_[b.i1] - keys_[b.i0];
        const double w2 = w * w, w3 = w2 * w;
        v = (2 * w3 - 3 * w2 + 1) * logv_[b.i0] + (w3 - 2 * w2 + w) * h * slope_[b.i0] +
            (-2 * w3 + 3 * w2) * logv_[b.i1] + (w3 - w2) * h * slope_[b.i1];
      } else {
        v = (1.0 - w) * logv_[b.i0] + w * logv_[b.i1];
      }
    }
    eff[level] = b.clamped ? raw_[b.i0] : x[level];
    leaf(weight, v, c);
    eff[level] = saved;
    return;
  }
  auto visit = [&](int entry, double w) {
    eff[level] = b.clamped ? raw_[entry] : x[level];
    descend(next_[entry], level + 1, x, u, eff, weight * w, c, leaf);
  };
  if (b.i1 == b.i0) {
    visit(b.i0, 1.0);
  } else {
    visit(b.i0, 1.0 - b.w1);
    visit(b.i1, b.w1);
  }
  eff[level] = saved;
}

template <class LogRef>
double LogGrid::View::lookup(const double* rest, LogRef&& log_ref, bool* fell_back) const {
  const LogGrid& g = *grid_;
  Coords x = query_, u{};
  for (int d = prefix_; d < g.dims_; ++d) {
    x[d] = rest[d - prefix_];
    u[d] = std::log1p(x[d]);
  }
  double acc = 0;
  bool any_clamped = false;
  double log_ref_x = 0;
  bool have_ref_x = false;
  for (const Part& p : parts_) {
    Coords eff = x;
    for (int d = 0; d < prefix_; ++d) eff[d] = p.eff[d];
    auto leaf = [&](double w, double logv, bool clamped) {
      double v = logv;
      if (clamped) {
        any_clamped = true;
        if (!have_ref_x) {
          log_ref_x = log_ref(x.data());
          have_ref_x = true;
        }
        v += log_ref_x - log_ref(eff.data());
      }
      acc += w * v;
    };
    g.descend(p.node, prefix_, x.data(), u.data(), eff, p.weight, p.clamped, leaf);
  }
  if (any_clamped && fell_back != nullptr) *fell_back = true;
  return std::exp(acc);
}

}  // namespace servesim
