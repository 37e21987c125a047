// traces/generators/synthetic.cc — the built-in workload generator `synthetic`: an arrival
// process plus independent prompt and output length distributions, each on its own named random
// stream (changing the output lengths never moves an arrival time). Ends after num_requests
// requests or at duration_s, whichever comes first. Optionally each request gets a client
// (uniform over `clients`) and a priority (uniform over the `priorities` list), each from a
// stream of its own that is drawn only when there is a choice to make.
#include <limits>
#include <vector>

#include "traces/distributions.h"

namespace servesim {
namespace {

class SyntheticSource final : public TraceSource {
 public:
  SyntheticSource(ConfigNode& cfg, const TraceContext& ctx)
      : arrival_rng_(ctx.seed, "workload.arrival"),
        prompt_rng_(ctx.seed, "workload.prompt"),
        output_rng_(ctx.seed, "workload.output"),
        client_rng_(ctx.seed, "workload.client"),
        priority_rng_(ctx.seed, "workload.priority") {
    num_requests_ = cfg.get<std::int64_t>(
        "num_requests", 1000, "stop after this many requests (at most 1e10)", InRange(1, 1e10));
    const double duration_s = cfg.get<double>(
        "duration_s", 0.0, "stop at this time, seconds (0 = no limit)", NonNegative());
    end_ns_ = duration_s > 0 ? s_to_ns(duration_s) : std::numeric_limits<TimeNs>::max();
    arrivals_ = make_arrival_process(cfg.child("arrival"), ctx);
    prompt_ = make_length_distribution(cfg, "prompt_tokens", 512, ctx);
    output_ = make_length_distribution(cfg, "output_tokens", 128, ctx);
    clients_ = cfg.get<std::int64_t>(
        "clients", 1, "clients the requests are spread over uniformly (ids 0..clients-1)",
        InRange(1, 1e6));
    priorities_ = cfg.get<std::vector<std::int64_t>>(
        "priorities", {0}, "priority values drawn uniformly per request", InRange(-1e6, 1e6));
    if (priorities_.empty()) cfg.fail("priorities", "needs at least one value");
  }

  std::optional<std::vector<std::uint32_t>> known_clients() const override {
    std::vector<std::uint32_t> ids;
    for (std::int64_t c = 0; c < clients_; ++c) ids.push_back(static_cast<std::uint32_t>(c));
    return ids;
  }

  bool next(Request& out) override {
    if (emitted_ >= num_requests_) return false;
    const TimeNs t = arrivals_->next_arrival_ns(last_ns_, arrival_rng_);
    if (t > end_ns_) return false;
    last_ns_ = t;
    out = Request{};
    out.trace_id = static_cast<std::uint64_t>(emitted_++);
    out.arrival_ns = t;
    out.prompt_tokens = prompt_->sample(prompt_rng_);
    out.output_tokens = output_->sample(output_rng_);
    if (clients_ > 1)
      out.client_id = static_cast<std::uint32_t>(client_rng_.uniform_int(0, clients_ - 1));
    out.priority = static_cast<std::int32_t>(
        priorities_.size() == 1 ? priorities_[0]
                                : priorities_[static_cast<std::size_t>(priority_rng_.uniform_int(
                                      0, static_cast<std::int64_t>(priorities_.size()) - 1))]);
    return true;
  }

 private:
  Rng arrival_rng_, prompt_rng_, output_rng_, client_rng_, priority_rng_;
  std::int64_t clients_ = 1;
  std::vector<std::int64_t> priorities_;
  std::unique_ptr<ArrivalProcess> arrivals_;
  std::unique_ptr<LengthDistribution> prompt_, output_;
  std::int64_t num_requests_ = 0;
  std::int64_t emitted_ = 0;
  TimeNs end_ns_ = 0;
  TimeNs last_ns_ = 0;
};

}  // namespace

SERVESIM_REGISTER(TraceSource, SyntheticSource, "synthetic",
                  "generated workload: arrival process + prompt/output length distributions")

}  // namespace servesim
