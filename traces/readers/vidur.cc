// traces/readers/vidur.cc — `vidur`: Vidur's processed request traces (e.g. splitwise_conv.csv),
// CSV with columns arrived_at (seconds since the first request), num_prefill_tokens,
// num_decode_tokens.
#include "traces/readers/table_source.h"

namespace servesim {
namespace {

class VidurReader final : public TableSource {
 public:
  VidurReader(ConfigNode& cfg, const TraceContext& ctx) : TableSource(options(cfg, ctx), ctx) {}

 private:
  static TableOptions options(ConfigNode& cfg, const TraceContext& ctx) {
    TableOptions o;
    o.name = "vidur";
    read_file_options(
        cfg, ctx,
        "Vidur/Splitwise processed trace CSV (arrived_at, num_prefill_tokens, num_decode_tokens)",
        o);
    o.rebase = cfg.get<bool>("rebase", false, "shift arrivals so the first row arrives at t = 0");
    o.fields.arrival = "arrived_at";
    o.fields.prompt_tokens = "num_prefill_tokens";
    o.fields.output_tokens = "num_decode_tokens";
    o.time_unit = TimeUnit::kSeconds;
    return o;
  }
};

}  // namespace

SERVESIM_REGISTER(TraceSource, VidurReader, "vidur",
                  "Vidur/Splitwise processed trace CSV (arrived_at s, num_prefill_tokens, "
                  "num_decode_tokens); path")

}  // namespace servesim
