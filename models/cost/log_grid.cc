// models/cost/log_grid.cc — see log_grid.h.
#include "models/cost/log_grid.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace servesim {

LogGrid::LogGrid(int dims, std::vector<Point> points, bool smooth_last)
    : dims_(dims), smooth_(smooth_last) {
  if (dims < 1 || dims > kMaxDims) throw std::invalid_argument("LogGrid: dims out of range");
  if (points.empty()) return;
  for (const Point& p : points) {
    if (!(p.value > 0) || !std::isfinite(p.value))
      throw std::invalid_argument("LogGrid: value must be > 0");
    for (int d = 0; d < dims; ++d) {
      if (!(p.x[d] >= 0) || !std::isfinite(p.x[d]))
        throw std::invalid_argument("LogGrid: coordinate must be >= 0");
    }
  }
  std::sort(points.begin(), points.end(), [dims](const Point& a, const Point& b) {
    for (int d = 0; d < dims; ++d) {
      if (a.x[d] != b.x[d]) return a.x[d] < b.x[d];
    }
    return false;
  });
  // Merge duplicates by geometric mean.
  std::vector<Point> merged;
  merged.reserve(points.size());
  for (std::size_t i = 0; i < points.size();) {
    std::size_t j = i;
    double sum_log = 0;
    while (j < points.size() &&
           std::equal(points[i].x.begin(), points[i].x.begin() + dims, points[j].x.begin())) {
      sum_log += std::log(points[j].value);
      ++j;
    }
    Point p = points[i];
    p.value = std::exp(sum_log / static_cast<double>(j - i));
    merged.push_back(p);
    i = j;
  }
  points_ = merged.size();
  lo_.fill(std::numeric_limits<double>::infinity());
  hi_.fill(-std::numeric_limits<double>::infinity());
  for (const Point& p : merged) {
    for (int d = 0; d < dims; ++d) {
      lo_[d] = std::min(lo_[d], p.x[d]);
      hi_[d] = std::max(hi_[d], p.x[d]);
    }
  }
  nodes_.reserve(merged.size());
  build(merged, 0, merged.size(), 0);
  if (smooth_) {
    // Fritsch–Carlson monotone slopes along every leaf curve, in (key, log value).
    slope_.assign(keys_.size(), 0.0);
    for (const Node& n : nodes_) {
      if (next_[n.first] != -1 || n.count < 2) continue;  // inner node, or a single point
      const int f = n.first, cnt = n.count;
      auto secant = [&](int i) {
        return (logv_[f + i + 1] - logv_[f + i]) / (keys_[f + i + 1] - keys_[f + i]);
      };
      slope_[f] = secant(0);
      slope_[f + cnt - 1] = secant(cnt - 2);
      for (int i = 1; i + 1 < cnt; ++i) {
        const double d0 = secant(i - 1), d1 = secant(i);
        if (d0 * d1 <= 0) continue;  // local extremum: flat
        const double h0 = keys_[f + i] - keys_[f + i - 1], h1 = keys_[f + i + 1] - keys_[f + i];
        const double w1 = 2 * h1 + h0, w2 = h1 + 2 * h0;
        slope_[f + i] = (w1 + w2) / (w1 / d0 + w2 / d1);
      }
    }
  }
}

// Builds the node for points [lo, hi) (sorted, sharing coordinates 0..level−1); returns its index.
int LogGrid::build(std::vector<Point>& pts, std::size_t lo, std::size_t hi, int level) {
  const int id = static_cast<int>(nodes_.size());
  nodes_.push_back(Node{});
  // Distinct values of coordinate `level` in [lo, hi), in order.
  std::vector<std::pair<std::size_t, std::size_t>> runs;
  for (std::size_t i = lo; i < hi;) {
    std::size_t j = i;
    while (j < hi && pts[j].x[level] == pts[i].x[level]) ++j;
    runs.emplace_back(i, j);
    i = j;
  }
  const auto first = static_cast<std::int32_t>(keys_.size());
  nodes_[id] = Node{first, static_cast<std::int32_t>(runs.size())};
  for (const auto& r : runs) {
    const double x = pts[r.first].x[level];
    keys_.push_back(std::log1p(x));
    raw_.push_back(x);
    next_.push_back(-1);
    logv_.push_back(level + 1 == dims_ ? std::log(pts[r.first].value) : 0.0);
  }
  if (level + 1 < dims_) {
    for (std::size_t k = 0; k < runs.size(); ++k) {
      const int child = build(pts, runs[k].first, runs[k].second, level + 1);
      next_[first + k] = child;
    }
  }
  return id;
}

LogGrid::Bracket LogGrid::bracket(const Node& n, double x, double u) const {
  Bracket b;
  const int first = n.first, last = n.first + n.count - 1;
  if (x <= raw_[first]) {
    b.i0 = b.i1 = first;
    b.clamped = x < raw_[first];
    return b;
  }
  if (x >= raw_[last]) {
    b.i0 = b.i1 = last;
    b.clamped = x > raw_[last];
    return b;
  }
  // raw_[first] < x < raw_[last]: find the first entry > x.
  const auto begin = raw_.begin() + first, end = raw_.begin() + last + 1;
  const int hi = static_cast<int>(std::upper_bound(begin, end, x) - raw_.begin());
  const int lo = hi - 1;
  if (raw_[lo] == x) {
    b.i0 = b.i1 = lo;
    return b;
  }
  b.i0 = lo;
  b.i1 = hi;
  b.w1 = (u - keys_[lo]) / (keys_[hi] - keys_[lo]);
  return b;
}

bool LogGrid::has_prefix(std::span<const double> prefix) const {
  if (empty()) return false;
  int node = 0;
  for (std::size_t level = 0; level < prefix.size(); ++level) {
    const Node& n = nodes_[node];
    const auto begin = raw_.begin() + n.first, end = begin + n.count;
    const auto it = std::lower_bound(begin, end, prefix[level]);
    if (it == end || *it != prefix[level]) return false;
    const auto entry = static_cast<std::size_t>(it - raw_.begin());
    if (static_cast<int>(level) + 1 == dims_) return true;
    node = next_[entry];
  }
  return true;
}

LogGrid::View LogGrid::view(std::span<const double> prefix) const {
  View v;
  if (empty()) return v;
  if (static_cast<int>(prefix.size()) >= dims_)
    throw std::invalid_argument("LogGrid::view: prefix too long");
  v.grid_ = this;
  v.prefix_ = static_cast<int>(prefix.size());
  for (std::size_t d = 0; d < prefix.size(); ++d) v.query_[d] = prefix[d];
  // Walk the prefix levels, recording the nodes reached at level `prefix` with their weights.
  struct Frame {
    int node;
    int level;
    double weight;
    bool clamped;
    Coords eff;
  };
  std::vector<Frame> stack{{0, 0, 1.0, false, v.query_}};
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    if (f.level == v.prefix_) {
      View::Part part;
      part.weight = f.weight;
      part.node = f.node;
      part.clamped = f.clamped;
      part.eff = f.eff;
      v.parts_.push_back(part);
      continue;
    }
    const Bracket b = bracket(nodes_[f.node], prefix[f.level], std::log1p(prefix[f.level]));
    auto push = [&](int entry, double w) {
      if (w <= 0) return;
      Frame g = f;
      g.node = next_[entry];
      g.level = f.level + 1;
      g.weight = f.weight * w;
      g.clamped = f.clamped || b.clamped;
      if (b.clamped) g.eff[f.level] = raw_[entry];
      stack.push_back(g);
    };
    if (b.i0 == b.i1) {
      push(b.i0, 1.0);
    } else {
      push(b.i0, 1.0 - b.w1);
      push(b.i1, b.w1);
    }
  }
  return v;
}

}  // namespace servesim
