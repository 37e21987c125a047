// sim/metrics/fairness.cc — per-client service over time and the fairness metrics (fairness.h).
#include "sim/metrics/fairness.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace servesim {

FairnessMeter::FairnessMeter(FairnessOptions o)
    : o_(o), bucket_ns_(std::max<TimeNs>(1, s_to_ns(o.window_s / kBucketsPerWindow))) {}

void FairnessMeter::arrival(std::uint32_t client, TimeNs arrival_ns, std::int64_t prompt_tokens,
                            std::int64_t output_tokens) {
  const auto i = static_cast<std::size_t>(arrival_ns / bucket_ns_);
  Buckets& b = clients_[client];
  b.try_emplace(b.end(), i)->second.demand += o_.input_weight * static_cast<double>(prompt_tokens) +
                                              o_.output_weight * static_cast<double>(output_tokens);
  last_arrival_ns_ = std::max(last_arrival_ns_, arrival_ns);
}

void FairnessMeter::served(std::uint32_t client, TimeNs first_token_ns, TimeNs finish_ns,
                           std::int64_t prompt_tokens, std::int64_t output_tokens) {
  const auto in = static_cast<double>(prompt_tokens), out = static_cast<double>(output_tokens);
  Buckets& b = clients_[client];
  if (finish_ns <= first_token_ns) {  // one token: all of it at once
    Bucket& at = b[static_cast<std::size_t>(finish_ns / bucket_ns_)];
    at.input += in;
    at.output += out;
    return;
  }
  const auto first = static_cast<std::size_t>(first_token_ns / bucket_ns_);
  const auto last = static_cast<std::size_t>((finish_ns - 1) / bucket_ns_);
  const auto span = static_cast<double>(finish_ns - first_token_ns);
  auto it = b.lower_bound(first);
  for (std::size_t i = first; i <= last; ++i, ++it) {
    it = b.try_emplace(it, i);  // no node allocated when the bucket exists (emplace_hint would)
    const TimeNs lo = std::max(first_token_ns, static_cast<TimeNs>(i) * bucket_ns_);
    const TimeNs hi = std::min(finish_ns, static_cast<TimeNs>(i + 1) * bucket_ns_);
    const double f = static_cast<double>(hi - lo) / span;
    it->second.input += in * f;
    it->second.output += out * f;
  }
}

std::vector<FairnessMeter::WindowRow> FairnessMeter::windows() const {
  std::set<std::size_t> active;  // windows where some client has a bucket
  for (const auto& [id, b] : clients_) {
    for (const auto& [i, bucket] : b) active.insert(i / kBucketsPerWindow);
  }
  std::vector<WindowRow> rows;
  for (const auto& [id, b] : clients_) {
    auto it = b.begin();
    for (const std::size_t w : active) {
      WindowRow row;
      row.client = id;
      row.window_start_s = static_cast<double>(w) * o_.window_s;
      for (; it != b.end() && it->first < (w + 1) * kBucketsPerWindow; ++it) {
        row.input_tokens += it->second.input;
        row.output_tokens += it->second.output;
        row.demand += it->second.demand;
      }
      row.service = o_.input_weight * row.input_tokens + o_.output_weight * row.output_tokens;
      rows.push_back(row);
    }
  }
  return rows;
}

namespace {

// Max-min fair shares of `total` among demands `d` (water filling): min(d_u, L) with
// Σ min(d_u, L) = total (or every demand met when total ≥ Σd).
std::vector<double> water_fill(const std::vector<double>& d, double total) {
  std::vector<std::size_t> order(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&d](std::size_t a, std::size_t b) { return d[a] < d[b]; });
  std::vector<double> share(d.size(), 0);
  double left = total;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const double level = left / static_cast<double>(order.size() - k);
    const double give = std::min(d[order[k]], level);
    share[order[k]] = give;
    left -= give;
  }
  return share;
}

}  // namespace

FairnessMeter::Result FairnessMeter::result() const {
  Result r;
  r.horizon_s = ns_to_s(last_arrival_ns_);
  if (clients_.empty()) return r;
  // Buckets that end by the horizon (accumulated difference) and windows that start before it.
  const auto full_buckets = static_cast<std::size_t>(last_arrival_ns_ / bucket_ns_);
  const std::size_t windows = full_buckets / kBucketsPerWindow + 1;
  const std::size_t n = clients_.size();
  std::vector<double> acc(n, 0);
  std::vector<double> win_service(n, 0), win_demand(n, 0);
  double window_diff = 0, window_diff_sum = 0;
  const double window_s = o_.window_s;
  // Only buckets where something happened change the sums: walk their union in order (empty
  // windows have a difference of 0 and count only in the mean's denominator).
  std::set<std::size_t> active;
  for (const auto& [id, b] : clients_) {
    for (const auto& [i, bucket] : b) {
      if (i < windows * kBucketsPerWindow) active.insert(i);
    }
  }
  std::vector<Buckets::const_iterator> at;
  for (const auto& [id, b] : clients_) at.push_back(b.begin());
  auto close_window = [&] {
    const double top = *std::max_element(win_service.begin(), win_service.end()) / window_s;
    double diff = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const double y = win_service[j] / window_s, d = win_demand[j] / window_s;
      diff = std::max(diff, std::min(top - y, d - y));
    }
    window_diff = std::max(window_diff, diff);
    window_diff_sum += diff;
    std::fill(win_service.begin(), win_service.end(), 0.0);
    std::fill(win_demand.begin(), win_demand.end(), 0.0);
  };
  std::size_t open_window = active.empty() ? 0 : *active.begin() / kBucketsPerWindow;
  for (const std::size_t i : active) {
    if (i / kBucketsPerWindow != open_window) {
      close_window();
      open_window = i / kBucketsPerWindow;
    }
    std::size_t c = 0;
    for (const auto& [id, b] : clients_) {
      Bucket bucket;
      if (at[c] != b.end() && at[c]->first == i) bucket = (at[c]++)->second;
      if (i < full_buckets) acc[c] += service(bucket);
      win_service[c] += service(bucket);
      win_demand[c] += bucket.demand;
      ++c;
    }
    if (i < full_buckets) {
      const auto [lo, hi] = std::minmax_element(acc.begin(), acc.end());
      r.service_diff_acc_max = std::max(r.service_diff_acc_max, *hi - *lo);
    }
  }
  if (!active.empty()) close_window();
  r.service_diff_window_max = window_diff;
  r.service_diff_window_mean = window_diff_sum / static_cast<double>(windows);

  // Service and demand by the horizon (the partial bucket counted pro rata).
  const double frac =
      static_cast<double>(last_arrival_ns_ - static_cast<TimeNs>(full_buckets) * bucket_ns_) /
      static_cast<double>(bucket_ns_);
  std::vector<double> got, demand;
  double total = 0;
  for (const auto& [id, b] : clients_) {
    double s = 0, d = 0;
    for (const auto& [i, bucket] : b) {
      if (i > full_buckets) break;
      s += service(bucket) * (i == full_buckets ? frac : 1.0);
      d += bucket.demand;  // every arrival is at or before the horizon
    }
    r.service[id] = s;
    got.push_back(s);
    demand.push_back(d);
    total += s;
  }
  for (const auto& [id, s] : r.service) r.share[id] = total > 0 ? s / total : 0;
  const std::vector<double> fair = water_fill(demand, total);
  double sum = 0, sum_sq = 0;
  std::size_t counted = 0;
  for (std::size_t j = 0; j < n; ++j) {
    if (fair[j] <= 0) continue;
    const double x = got[j] / fair[j];
    sum += x;
    sum_sq += x * x;
    ++counted;
  }
  r.jain_index = sum_sq > 0 ? sum * sum / (static_cast<double>(counted) * sum_sq) : 1.0;
  return r;
}

}  // namespace servesim
