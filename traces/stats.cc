// traces/stats.cc — see stats.h.
#include "traces/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "traces/generators/prefix_hash.h"

namespace servesim {

namespace {

// numpy's default ("linear") percentile of sorted values.
double percentile(const std::vector<std::int32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
}

LengthSummary summarize(std::vector<std::int32_t>& v) {
  LengthSummary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (auto x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  s.p50 = percentile(v, 50);
  s.p90 = percentile(v, 90);
  s.p99 = percentile(v, 99);
  s.max = v.back();
  return s;
}

}  // namespace

void TraceStatsBuilder::add(const Request& r) {
  ++s_.requests;
  if (first_) {
    first_ = false;
    first_ns_ = r.arrival_ns;
  } else {
    const double gap = ns_to_s(r.arrival_ns - prev_ns_);
    ++gaps_;
    const double d = gap - gap_mean_;
    gap_mean_ += d / static_cast<double>(gaps_);
    gap_m2_ += d * (gap - gap_mean_);
  }
  prev_ns_ = r.arrival_ns;
  prompt_.push_back(r.prompt_tokens);
  output_.push_back(r.output_tokens);
  clients_.insert(r.client_id);
  if (!r.prefix_hashes.empty()) {
    if (std::find(block_sizes_.begin(), block_sizes_.end(), r.prefix_block_tokens) ==
        block_sizes_.end()) {
      block_sizes_.push_back(r.prefix_block_tokens);
    }
    bool prefix = true;
    for (std::uint64_t h : r.prefix_hashes) {
      const std::uint64_t key = mix_hash(h, static_cast<std::uint64_t>(r.prefix_block_tokens));
      const bool seen = !seen_blocks_.insert(key).second;
      if (prefix && seen) {
        ++s_.prefix_hits;
      } else {
        prefix = false;
      }
    }
    s_.prefix_blocks += static_cast<std::int64_t>(r.prefix_hashes.size());
  }
}

TraceStats TraceStatsBuilder::finish() {
  TraceStats s = s_;
  s.first_arrival_s = ns_to_s(first_ns_);
  s.duration_s = ns_to_s(prev_ns_ - first_ns_);
  if (s.requests > 1 && s.duration_s > 0)
    s.mean_rate_per_s = static_cast<double>(s.requests - 1) / s.duration_s;
  if (gaps_ > 1 && gap_mean_ > 0)
    s.interarrival_cv = std::sqrt(gap_m2_ / static_cast<double>(gaps_)) / gap_mean_;
  s.prompt_tokens = summarize(prompt_);
  s.output_tokens = summarize(output_);
  s.clients = static_cast<std::int64_t>(clients_.size());
  s.prefix_distinct = static_cast<std::int64_t>(seen_blocks_.size());
  if (s.prefix_blocks > 0)
    s.prefix_reuse = static_cast<double>(s.prefix_hits) / static_cast<double>(s.prefix_blocks);
  s.block_sizes = block_sizes_;
  std::sort(s.block_sizes.begin(), s.block_sizes.end());
  return s;
}

std::string TraceStats::to_text() const {
  char buf[512];
  std::string out;
  auto line = [&](const char* fmt, auto... args) {
    std::snprintf(buf, sizeof buf, fmt, args...);
    out += buf;
  };
  line("%-24s %lld\n", "requests", static_cast<long long>(requests));
  line("%-24s %.3f s (first arrival at %.3f s)\n", "duration", duration_s, first_arrival_s);
  line("%-24s %.4f req/s\n", "mean rate", mean_rate_per_s);
  line("%-24s %.4f\n", "inter-arrival CV", interarrival_cv);
  line("%-24s %10s %10s %10s %10s %10s\n", "tokens", "mean", "p50", "p90", "p99", "max");
  for (const auto& [name, l] : {std::pair{"prompt", &prompt_tokens}, {"output", &output_tokens}}) {
    line("  %-22s %10.1f %10.1f %10.1f %10.1f %10lld\n", name, l->mean, l->p50, l->p90, l->p99,
         static_cast<long long>(l->max));
  }
  line("%-24s %lld\n", "clients", static_cast<long long>(clients));
  if (prefix_blocks > 0) {
    std::string sizes;
    for (auto b : block_sizes) sizes += (sizes.empty() ? "" : ", ") + std::to_string(b);
    line("%-24s %lld blocks of %s tokens, %lld distinct\n", "prefix blocks",
         static_cast<long long>(prefix_blocks), sizes.c_str(),
         static_cast<long long>(prefix_distinct));
    line("%-24s %.2f %% (%lld hit blocks; infinite cache, longest prefix)\n", "prefix reuse",
         100.0 * prefix_reuse, static_cast<long long>(prefix_hits));
  } else {
    line("%-24s none (the trace has no prefix hashes)\n", "prefix blocks");
  }
  return out;
}

std::string TraceStats::to_json() const {
  char buf[2048];
  auto len = [](const LengthSummary& l) {
    char b[256];
    std::snprintf(b, sizeof b,
                  "{\"mean\": %.6g, \"p50\": %.6g, \"p90\": %.6g, \"p99\": %.6g, \"max\": %lld}",
                  l.mean, l.p50, l.p90, l.p99, static_cast<long long>(l.max));
    return std::string(b);
  };
  std::string sizes;
  for (auto b : block_sizes) sizes += (sizes.empty() ? "" : ", ") + std::to_string(b);
  std::snprintf(
      buf, sizeof buf,
      "{\"requests\": %lld, \"first_arrival_s\": %.9g, \"duration_s\": %.9g, \"mean_rate_per_s\": "
      "%.9g, "
      "\"interarrival_cv\": %.9g, \"prompt_tokens\": %s, \"output_tokens\": %s, \"clients\": %lld, "
      "\"prefix_blocks\": %lld, \"prefix_distinct\": %lld, \"prefix_hits\": %lld, "
      "\"prefix_reuse\": %.9g, "
      "\"block_sizes\": [%s]}\n",
      static_cast<long long>(requests), first_arrival_s, duration_s, mean_rate_per_s,
      interarrival_cv, len(prompt_tokens).c_str(), len(output_tokens).c_str(),
      static_cast<long long>(clients), static_cast<long long>(prefix_blocks),
      static_cast<long long>(prefix_distinct), static_cast<long long>(prefix_hits), prefix_reuse,
      sizes.c_str());
  return buf;
}

}  // namespace servesim
