// traces/readers/lengths_csv.cc — `lengths_csv`: a CSV of request lengths without arrival times
// (ShareGPT, arXiv summarization: num_prefill_tokens, num_decode_tokens, ...), replayed in file
// order with arrival times from an arrival process; `repeat` cycles the file.
#include "traces/readers/table_source.h"

namespace servesim {
namespace {

class LengthsCsvReader final : public TableSource {
 public:
  LengthsCsvReader(ConfigNode& cfg, const TraceContext& ctx) : TableSource(setup(cfg, ctx), ctx) {}

 private:
  static TableSetup setup(ConfigNode& cfg, const TraceContext& ctx) {
    TableSetup s;
    s.opts.name = "lengths_csv";
    read_file_options(cfg, ctx, "CSV of request lengths (no arrival times)", s.opts);
    s.opts.fields.prompt_tokens = cfg.get<std::string>("prompt_column", "num_prefill_tokens",
                                                       "header of the prompt-length column");
    s.opts.fields.output_tokens = cfg.get<std::string>("output_column", "num_decode_tokens",
                                                       "header of the output-length column");
    s.arrivals = read_generated_arrivals(cfg, ctx, s.opts);
    return s;
  }
};

}  // namespace

SERVESIM_REGISTER(
    TraceSource, LengthsCsvReader, "lengths_csv",
    "CSV of lengths without arrivals (ShareGPT, arXiv) + an arrival process; path, arrival")

}  // namespace servesim
