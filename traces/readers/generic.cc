// traces/readers/generic.cc — `csv` and `jsonl`: any row-per-request file, with the mapping from
// its columns (CSV header names or 0-based numbers; JSON keys) to request fields written in the
// scenario:
//   workload:
//     impl: csv
//     path: my_trace.csv
//     columns: {arrival: t, prompt_tokens: in, output_tokens: out, client_id: user}
//     time_unit: ms
// Without an arrival column, `arrival` (an arrival process) supplies arrival times.
#include "traces/readers/table_source.h"

namespace servesim {
namespace {

TableSetup generic_setup(ConfigNode& cfg, const TraceContext& ctx, bool jsonl) {
  TableSetup s;
  TableOptions& o = s.opts;
  o.name = jsonl ? "jsonl" : "csv";
  o.jsonl = jsonl;
  read_file_options(
      cfg, ctx, jsonl ? "JSONL file, one request per line" : "CSV file, one request per row", o);
  if (!jsonl) {
    o.header = cfg.get<bool>(
        "header", true, "the first line names the columns (false: columns are 0-based numbers)");
    const std::string delim =
        cfg.get<std::string>("delimiter", ",", "field separator (one character; \"\\t\" for tabs)");
    if (delim == "\\t" || delim == "\t") {
      o.delimiter = '\t';
    } else if (delim.size() == 1 && delim[0] != '"') {
      o.delimiter = delim[0];
    } else {
      cfg.fail("delimiter", "must be one character other than '\"'");
    }
  }
  if (!cfg.has("columns"))
    cfg.fail("columns",
             "required key is missing (the mapping from the file's columns to request fields)");
  ConfigNode c = cfg.child("columns");
  const char* what = jsonl ? "key" : "column";
  auto col = [&](const char* field, const char* desc) {
    return c.get<std::string>(field, "",
                              std::string(what) + " holding " + desc + " (empty = none)");
  };
  o.fields.arrival = col("arrival", "the arrival time");
  o.fields.prompt_tokens = col("prompt_tokens", "the prompt length, tokens");
  o.fields.output_tokens = col("output_tokens", "the output length, tokens");
  o.fields.client_id =
      col("client_id",
          "the client (an integer id, or a name mapped to ids 0, 1, ... by first appearance)");
  o.fields.priority = col("priority", "the priority (integer, larger = more important)");
  o.fields.trace_id = col("trace_id", "a request id (unsigned integer; default: the row number)");
  o.fields.prefix_hashes = col("prefix_hashes", "prefix-block hashes (array of unsigned integers)");
  o.fields.prefix_block_tokens =
      col("prefix_block_tokens", "the tokens per prefix block of each row");
  if (o.fields.prompt_tokens.empty())
    c.fail("prompt_tokens", "required key is missing (the prompt-length column)");
  if (o.fields.output_tokens.empty())
    c.fail("output_tokens", "required key is missing (the output-length column)");
  o.prefix_block_tokens = static_cast<std::int32_t>(cfg.get<std::int64_t>(
      "prefix_block_tokens", 0, "tokens per prefix block, for every row (when no column gives it)",
      InRange(0, 1 << 20)));
  if (!o.fields.prefix_hashes.empty() && o.fields.prefix_block_tokens.empty() &&
      o.prefix_block_tokens == 0) {
    cfg.fail("prefix_block_tokens",
             "columns.prefix_hashes needs a block size: set prefix_block_tokens or "
             "columns.prefix_block_tokens");
  }
  if (o.fields.arrival.empty()) {
    s.arrivals = read_generated_arrivals(cfg, ctx, o);
  } else {
    const std::string unit = cfg.choice("time_unit", "s", {"s", "ms", "us", "ns", "datetime"},
                                        "unit of the arrival column (datetime: 'YYYY-MM-DD "
                                        "HH:MM:SS.fff', rebased to the first row)");
    parse_time_unit(unit, o.time_unit);
    o.rebase = cfg.get<bool>(
        "rebase", false, "shift arrivals so the first row arrives at t = 0 (datetimes always are)");
  }
  return s;
}

class CsvReader final : public TableSource {
 public:
  CsvReader(ConfigNode& cfg, const TraceContext& ctx)
      : TableSource(generic_setup(cfg, ctx, false), ctx) {}
};

class JsonlReader final : public TableSource {
 public:
  JsonlReader(ConfigNode& cfg, const TraceContext& ctx)
      : TableSource(generic_setup(cfg, ctx, true), ctx) {}
};

}  // namespace

SERVESIM_REGISTER(TraceSource, CsvReader, "csv",
                  "any CSV trace, with a column mapping (columns: {arrival, prompt_tokens, ...})")
SERVESIM_REGISTER(TraceSource, JsonlReader, "jsonl",
                  "any JSONL trace, with a key mapping (columns: {arrival, prompt_tokens, ...})")

}  // namespace servesim
