// traces/readers/azure.cc — `azure`: the Azure LLM inference trace 2023 (Splitwise, ISCA'24),
// CSV with columns TIMESTAMP (wall clock, e.g. "2023-11-16 18:17:03.9799600"), ContextTokens,
// GeneratedTokens. Arrivals are relative to the first row; no client ids.
#include "traces/readers/table_source.h"

namespace servesim {
namespace {

class AzureReader final : public TableSource {
 public:
  AzureReader(ConfigNode& cfg, const TraceContext& ctx) : TableSource(options(cfg, ctx), ctx) {}

 private:
  static TableOptions options(ConfigNode& cfg, const TraceContext& ctx) {
    TableOptions o;
    o.name = "azure";
    read_file_options(
        cfg, ctx, "Azure LLM inference trace CSV (TIMESTAMP, ContextTokens, GeneratedTokens)", o);
    o.fields.arrival = "TIMESTAMP";
    o.fields.prompt_tokens = "ContextTokens";
    o.fields.output_tokens = "GeneratedTokens";
    o.time_unit = TimeUnit::kDatetime;
    return o;
  }
};

}  // namespace

SERVESIM_REGISTER(
    TraceSource, AzureReader, "azure",
    "Azure LLM inference trace 2023 CSV (TIMESTAMP, ContextTokens, GeneratedTokens); path")

}  // namespace servesim
