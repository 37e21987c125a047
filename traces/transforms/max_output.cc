// traces/transforms/max_output.cc — `max_output`: the limit each request is sent with
// (max_tokens / max_new_tokens), which schedulers may read (Request::max_output_tokens; they
// never see the true output length). `tokens: N` sends every request with limit N, so an answer
// longer than N stops at N (output_tokens = min(output, N)); `exact: true` sends each with its own
// output length as the limit, as benchmarks that force the length with ignore_eos do (the VTC
// artifact, vLLM's benchmark_serving with --ignore-eos). Without this transform a request that
// carries no limit gets the model's (max_model_len − prompt).
#include "traces/transforms/transform.h"

namespace servesim {
namespace {

class MaxOutput final : public TraceTransform {
 public:
  MaxOutput(ConfigNode& cfg, const TraceContext&) {
    exact_ = cfg.get<bool>("exact", false,
                           "limit = the request's own output length (ignore_eos benchmarks)");
    tokens_ = cfg.get<std::int64_t>("tokens", 0, "limit of every request (0: not set)",
                                    InRange(0, 2147483647));
    if (exact_ == (tokens_ > 0)) cfg.fail("tokens", "give either tokens: N or exact: true");
  }
  bool next(Request& out) override {
    if (!inner_->next(out)) return false;
    if (exact_) {
      out.max_output_tokens = out.output_tokens;
    } else {
      out.max_output_tokens = static_cast<std::int32_t>(tokens_);
      out.output_tokens = std::min(out.output_tokens, out.max_output_tokens);
    }
    return true;
  }

 private:
  bool exact_ = false;
  std::int64_t tokens_ = 0;
};

}  // namespace

SERVESIM_REGISTER(TraceTransform, MaxOutput, "max_output",
                  "the limit requests are sent with: a fixed max_tokens, or exactly their output "
                  "(ignore_eos)")

}  // namespace servesim
