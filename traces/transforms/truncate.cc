// traces/transforms/truncate.cc — `truncate`: fits every request into the model's context.
// A request with prompt + output > max_context_tokens (default: the served model's
// max_model_len) is either cut (action: cut) — the output is kept up to max − 1 tokens and the
// prompt cut from its end to what is left, keeping its beginning, so the prefix hashes of the
// blocks that remain whole stay valid (later ones are dropped) — or dropped (action: drop).
// Counts are reported at the end of the stream.
#include <algorithm>

#include "sim/config/errors.h"
#include "traces/transforms/transform.h"

namespace servesim {
namespace {

class Truncate final : public TraceTransform {
 public:
  Truncate(ConfigNode& cfg, const TraceContext& ctx) : ctx_(ctx) {
    cap_ = cfg.get<std::int64_t>("max_context_tokens", 0,
                                 "largest prompt + output, tokens (0 = the model's max_model_len)",
                                 NonNegative());
    drop_ = cfg.choice("action", "cut", {"cut", "drop"},
                       "cut overlong requests to fit, or drop them") == "drop";
    if (cap_ == 1) cfg.fail("max_context_tokens", "must be >= 2 (one prompt and one output token)");
    if (cap_ == 0) cap_ = ctx.max_context_tokens;
    if (cap_ < 2)
      cfg.fail("max_context_tokens",
               "needed here: no model context is known (give max_context_tokens)");
  }
  ~Truncate() override { report(); }

  bool next(Request& out) override {
    const std::int64_t cap = cap_;
    used_cap_ = cap;
    while (inner_->next(out)) {
      ++seen_;
      const std::int64_t total = static_cast<std::int64_t>(out.prompt_tokens) + out.output_tokens;
      if (total <= cap) return true;
      ++changed_;
      if (drop_) continue;
      const std::int64_t output = std::min<std::int64_t>(out.output_tokens, cap - 1);
      const std::int64_t prompt = std::min<std::int64_t>(out.prompt_tokens, cap - output);
      removed_prompt_ += out.prompt_tokens - prompt;
      removed_output_ += out.output_tokens - output;
      out.prompt_tokens = static_cast<std::int32_t>(prompt);
      out.output_tokens = static_cast<std::int32_t>(output);
      if (out.prefix_block_tokens > 0) {
        const auto keep = static_cast<std::size_t>(prompt / out.prefix_block_tokens);
        if (out.prefix_hashes.size() > keep) out.prefix_hashes.resize(keep);
      }
      return true;
    }
    report();
    return false;
  }

 private:
  void report() {
    if (reported_ || changed_ == 0) return;
    reported_ = true;
    std::string note = "truncate: " + std::to_string(changed_) + " of " + std::to_string(seen_) +
                       " requests exceeded " + std::to_string(used_cap_) + " tokens and were ";
    if (drop_) {
      note += "dropped";
    } else {
      note += "cut (" + std::to_string(removed_prompt_) + " prompt and " +
              std::to_string(removed_output_) + " output tokens removed)";
    }
    report_note(ctx_, note);
  }

  TraceContext ctx_;
  std::int64_t cap_ = 0, used_cap_ = 0;
  bool drop_ = false, reported_ = false;
  std::int64_t seen_ = 0, changed_ = 0, removed_prompt_ = 0, removed_output_ = 0;
};

}  // namespace

SERVESIM_REGISTER(
    TraceTransform, Truncate, "truncate",
    "fit requests into max_context_tokens (default: the model's): cut the prompt's end, or drop")

}  // namespace servesim
