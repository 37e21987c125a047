// traces/readers/mooncake.cc — `mooncake`: the Mooncake FAST'25 traces (Kimi), JSONL with
// timestamp (ms since trace start), input_length, output_length and hash_ids: one id per
// 512-token prefix block, equal ids = equal prefix (prefix-chained). Requests carry the ids as
// prefix_hashes with prefix_block_tokens = 512. The files hold ceil(input_length/512) ids, so the
// last id covers a partial block when input_length is not a multiple of 512.
#include "traces/readers/table_source.h"

namespace servesim {
namespace {

class MooncakeReader final : public TableSource {
 public:
  MooncakeReader(ConfigNode& cfg, const TraceContext& ctx) : TableSource(setup(cfg, ctx), ctx) {}

 private:
  static TableSetup setup(ConfigNode& cfg, const TraceContext& ctx) {
    TableSetup s;
    s.opts.name = "mooncake";
    s.opts.jsonl = true;
    read_file_options(cfg, ctx,
                      "Mooncake trace JSONL (timestamp ms, input_length, output_length, hash_ids)",
                      s.opts);
    s.opts.fields.arrival = "timestamp";
    s.opts.fields.prompt_tokens = "input_length";
    s.opts.fields.output_tokens = "output_length";
    s.opts.fields.prefix_hashes = "hash_ids";
    s.opts.time_unit = TimeUnit::kMillis;
    s.opts.prefix_block_tokens = static_cast<std::int32_t>(cfg.get<std::int64_t>(
        "block_tokens", 512, "tokens per hash_ids block (512 in the published traces)",
        InRange(1, 1 << 20)));
    return s;
  }
};

}  // namespace

SERVESIM_REGISTER(TraceSource, MooncakeReader, "mooncake",
                  "Mooncake FAST'25 JSONL (timestamp ms, input_length, output_length, hash_ids per "
                  "512-token block); path")

}  // namespace servesim
