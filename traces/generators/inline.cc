// traces/generators/inline.cc — `inline`: requests written out in the scenario itself, as
// parallel lists (one entry per request, arrivals non-decreasing). For small examples, tests
// and hand-built corner cases:
//   workload: {impl: inline, arrival_s: [0, 0.5], prompt_tokens: [100, 2000], output_tokens: [10,
//   5]}
// Optional `prefix_group` and `shared_prefix_tokens` lists give requests prefix hashes (16-token
// blocks): requests of the same group (> 0) share their first shared_prefix_tokens tokens; the
// rest of every prompt is unique to its request (and reusable only by that request itself).
#include <algorithm>
#include <limits>

#include "sim/core/rng.h"
#include "traces/trace_source.h"

namespace servesim {
namespace {

class InlineSource final : public TraceSource {
 public:
  InlineSource(ConfigNode& cfg, const TraceContext&) {
    arrival_s_ = cfg.required<std::vector<double>>("arrival_s", "arrival time of each request, s",
                                                   NonNegative());
    prompt_ = cfg.required<std::vector<std::int64_t>>(
        "prompt_tokens", "prompt tokens of each request", InRange(1, kMaxGeneratedTokens));
    output_ = cfg.required<std::vector<std::int64_t>>(
        "output_tokens", "output tokens of each request", InRange(1, kMaxGeneratedTokens));
    client_ =
        cfg.get<std::vector<std::int64_t>>("client_id", {}, "client of each request (default 0)",
                                           InRange(0, std::numeric_limits<std::uint32_t>::max()));
    priority_ = cfg.get<std::vector<std::int64_t>>(
        "priority", {}, "priority of each request (default 0; larger first)",
        InRange(std::numeric_limits<std::int32_t>::min(),
                std::numeric_limits<std::int32_t>::max()));
    group_ = cfg.get<std::vector<std::int64_t>>(
        "prefix_group", {}, "prefix group of each request (0 = none)", NonNegative());
    shared_ = cfg.get<std::vector<std::int64_t>>("shared_prefix_tokens", {},
                                                 "tokens each request shares with its group",
                                                 InRange(0, kMaxGeneratedTokens));
    if (!group_.empty() && group_.size() != arrival_s_.size())
      cfg.fail("prefix_group", "needs one entry per arrival_s entry");
    if (shared_.size() != group_.size())
      cfg.fail("shared_prefix_tokens", "needs one entry per prefix_group entry");
    if (prompt_.size() != arrival_s_.size())
      cfg.fail("prompt_tokens", "needs one entry per arrival_s entry");
    if (output_.size() != arrival_s_.size())
      cfg.fail("output_tokens", "needs one entry per arrival_s entry");
    if (!client_.empty() && client_.size() != arrival_s_.size())
      cfg.fail("client_id", "needs one entry per arrival_s entry");
    if (!priority_.empty() && priority_.size() != arrival_s_.size())
      cfg.fail("priority", "needs one entry per arrival_s entry");
    for (std::size_t i = 1; i < arrival_s_.size(); ++i) {
      if (arrival_s_[i] < arrival_s_[i - 1])
        cfg.fail("arrival_s", "arrival times must not decrease (entry " + std::to_string(i) + ")");
    }
  }

  std::optional<std::vector<std::uint32_t>> known_clients() const override {
    std::vector<std::uint32_t> ids;
    for (std::int64_t c : client_) ids.push_back(static_cast<std::uint32_t>(c));
    if (ids.empty()) ids.push_back(0);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  }

  bool next(Request& out) override {
    if (i_ >= arrival_s_.size()) return false;
    out = Request{};
    out.trace_id = i_;
    out.arrival_ns = s_to_ns(arrival_s_[i_]);
    out.prompt_tokens = static_cast<std::int32_t>(prompt_[i_]);
    out.output_tokens = static_cast<std::int32_t>(output_[i_]);
    if (!client_.empty()) out.client_id = static_cast<std::uint32_t>(client_[i_]);
    if (!priority_.empty()) out.priority = static_cast<std::int32_t>(priority_[i_]);
    if (!group_.empty()) {
      constexpr std::int32_t kBlock = 16;
      out.prefix_block_tokens = kBlock;
      const std::int64_t shared_blocks =
          std::min<std::int64_t>(shared_[i_], out.prompt_tokens) / kBlock;
      for (std::int64_t b = 0; b < (out.prompt_tokens + kBlock - 1) / kBlock; ++b) {
        // Shared blocks hash (group, block); the rest (request, block): a prefix identity either
        // way.
        std::uint64_t state =
            (b < shared_blocks && group_[i_] > 0)
                ? (static_cast<std::uint64_t>(group_[i_]) << 32) ^ static_cast<std::uint64_t>(b)
                : (0x8000000000000000ULL | (static_cast<std::uint64_t>(i_) << 32)) ^
                      static_cast<std::uint64_t>(b);
        out.prefix_hashes.push_back(splitmix64(state));
      }
    }
    ++i_;
    return true;
  }

 private:
  std::vector<double> arrival_s_;
  std::vector<std::int64_t> prompt_, output_, client_, priority_, group_, shared_;
  std::size_t i_ = 0;
};

}  // namespace

SERVESIM_REGISTER(TraceSource, InlineSource, "inline",
                  "requests listed in the scenario (arrival_s, prompt_tokens, output_tokens)")

}  // namespace servesim
