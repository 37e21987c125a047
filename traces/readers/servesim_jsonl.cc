// traces/readers/servesim_jsonl.cc — `servesim_jsonl`: the project's own request format, one JSON
// object per line (what `servesim trace gen` writes; traces/io/jsonl_writer.h, traces/README.md):
//   {"arrival_s": 0.25, "prompt_tokens": 812, "output_tokens": 97, "client_id": 3, "priority": 0,
//    "trace_id": 17, "prefix_block_tokens": 16, "prefix_hashes": [11, 12]}
// arrival_s, prompt_tokens and output_tokens are required; the rest default to 0 / the row
// number / no hashes. Unknown keys are ignored. Arrival times are read exactly (decimal → ns).
#include "traces/readers/table_source.h"

namespace servesim {
namespace {

class ServesimJsonlReader final : public TableSource {
 public:
  ServesimJsonlReader(ConfigNode& cfg, const TraceContext& ctx)
      : TableSource(setup(cfg, ctx), ctx) {}

 private:
  static TableSetup setup(ConfigNode& cfg, const TraceContext& ctx) {
    TableSetup s;
    s.opts.name = "servesim_jsonl";
    s.opts.jsonl = true;
    read_file_options(cfg, ctx, "servesim request JSONL (written by servesim trace gen)", s.opts);
    s.opts.fields.arrival = "arrival_s";
    s.opts.fields.prompt_tokens = "prompt_tokens";
    s.opts.fields.output_tokens = "output_tokens";
    s.opts.fields.client_id = "client_id";
    s.opts.fields.priority = "priority";
    s.opts.fields.trace_id = "trace_id";
    s.opts.fields.prefix_block_tokens = "prefix_block_tokens";
    s.opts.fields.prefix_hashes = "prefix_hashes";
    s.opts.time_unit = TimeUnit::kSeconds;
    return s;
  }
};

}  // namespace

SERVESIM_REGISTER(
    TraceSource, ServesimJsonlReader, "servesim_jsonl",
    "servesim's own request JSONL (arrival_s, prompt_tokens, output_tokens, client_id, ...); path")

}  // namespace servesim
