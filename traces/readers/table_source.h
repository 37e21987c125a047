// traces/readers/table_source.h — the engine behind every row-per-request trace reader: a CSV or
// JSONL file streamed in chunks, one Request per row, through a mapping from the file's columns
// (CSV header names, or JSON keys) to Request fields. The named readers (azure, vidur,
// lengths_csv, mooncake, servesim_jsonl) are presets of this mapping; `csv` and `jsonl` expose it
// in the scenario.
//
// Row rules (each violation is a bad row: InputError "FILE:LINE: reason", or skipped and
// counted with skip_bad_rows):
//  * prompt and output tokens are integers in [1, 2^31-1]; client ids in [0, 2^32-1] (a
//    non-numeric client value is a name, mapped to ids 0, 1, ... in order of first appearance);
//  * arrival times are non-negative and never decrease from one row to the next, unless
//    `sort: true`, which loads the whole file and sorts it (stable) before the first request;
//  * a CSV row has exactly as many columns as the header (a row with extra or missing columns is
//    bad); without a header, at least the columns the mapping names (the rest are ignored);
//  * JSONL rows must be valid JSON objects throughout (fields no column names included); keys
//    the mapping does not name are ignored;
//  * blank lines are ignored (they still count in line numbers).
// Times: with `rebase`, the first row's arrival becomes t = 0 (wall-clock datetimes always
// rebase). Without an arrival column an ArrivalProcess supplies the arrival times.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/rng.h"
#include "traces/distributions.h"
#include "traces/io/json_scan.h"
#include "traces/io/line_reader.h"
#include "traces/io/text_parse.h"
#include "traces/readers/reader_util.h"

namespace servesim {

// Column names (CSV header / JSON keys); empty = the file has no such column. For a CSV file
// without a header, names are 0-based column numbers ("0", "1", ...).
struct TableFields {
  std::string arrival;
  std::string prompt_tokens;
  std::string output_tokens;
  std::string client_id;
  std::string priority;
  std::string trace_id;
  std::string prefix_hashes;        // JSON array of unsigned ids, or in CSV "1 2 3" / "[1,2,3]"
  std::string prefix_block_tokens;  // per-row block size (else TableOptions::prefix_block_tokens)
};

struct TableOptions {
  std::string path;  // resolved
  std::string name;  // the reader's registered name, for notes
  bool jsonl = false;
  TableFields fields;
  TimeUnit time_unit = TimeUnit::kSeconds;
  bool rebase = false;
  std::int32_t prefix_block_tokens = 0;
  bool skip_bad_rows = false;
  bool sort = false;
  char delimiter = ',';
  bool header = true;
  // Only without an arrival column:
  std::int64_t num_requests = 0;  // stop after this many (0 = one pass over the file)
  bool repeat = false;            // start the file again at its end (needs num_requests > 0)
};

// Reads the keys every file reader accepts: path, skip_bad_rows, sort (and rebase if
// `with_rebase`). `what` describes the file for the path key's documentation.
void read_file_options(ConfigNode& cfg, const TraceContext& ctx, std::string_view what,
                       TableOptions& opts);
// Reads `arrival` (required), `num_requests` and `repeat`: the keys of a reader whose file has
// no arrival times.
std::unique_ptr<ArrivalProcess> read_generated_arrivals(ConfigNode& cfg, const TraceContext& ctx,
                                                        TableOptions& opts);

// Options plus the arrival process of a file without arrival times (else null).
struct TableSetup {
  TableOptions opts;
  std::unique_ptr<ArrivalProcess> arrivals;
};

class TableSource : public TraceSource {
 public:
  explicit TableSource(TableSetup setup, const TraceContext& ctx)
      : TableSource(std::move(setup.opts), ctx, std::move(setup.arrivals)) {}
  // Opens the file and checks its header (CSV) now, so a bad header fails before the run.
  // `arrivals` is required iff opts.fields.arrival is empty.
  TableSource(TableOptions opts, const TraceContext& ctx,
              std::unique_ptr<ArrivalProcess> arrivals = nullptr);
  ~TableSource() override;
  bool next(Request& out) override;

  std::int64_t bad_rows_skipped() const { return bad_.skipped(); }

 private:
  void open();
  void read_header();
  // Sets every column index (and min_cells_) from `header`; a file without a header names
  // columns by number and passes an empty one.
  void resolve_columns(const std::vector<std::string>& header);
  int column_index(const std::string& name, const std::vector<std::string>& header) const;
  bool read_row(Request& out);  // the next good row of the file, in file order; false at EOF
  bool parse_csv(std::string_view line, Request& out);
  bool parse_jsonl(std::string_view line, Request& out);
  bool reject(const std::string& reason);  // bad row: throws, or counts and returns false
  bool set_count(std::string_view text, const std::string& name, std::int64_t max,
                 std::int64_t& out);
  std::string label(const std::string& name) const;  // "column 'NAME': " or "field 'NAME': "
  bool set_time(std::string_view text, Request& out);
  bool set_client(std::string_view text, bool is_string, Request& out);
  bool set_priority(std::string_view text, Request& out);
  bool set_hashes(std::string_view text, Request& out);
  bool finish_row(Request& out);  // shared checks after the fields are parsed
  bool next_streaming(Request& out);
  void load_sorted();
  void end_of_stream();

  TableOptions opts_;
  TraceContext ctx_;
  std::unique_ptr<ArrivalProcess> arrivals_;
  Rng arrival_rng_;
  std::unique_ptr<LineReader> reader_;
  BadRows bad_;
  ClientNames client_names_;

  // Parsing state, reused across rows (no per-row allocation).
  std::vector<std::string_view> cells_;
  std::string scratch_;
  std::vector<JsonField> json_;
  std::string decoded_;
  std::string error_;
  struct Hints {
    std::size_t arrival = 0, prompt = 0, output = 0, client = 0, priority = 0, trace_id = 0,
                hashes = 0, block = 0;
  } hints_;
  int col_arrival_ = -1, col_prompt_ = -1, col_output_ = -1, col_client_ = -1, col_priority_ = -1,
      col_trace_id_ = -1, col_hashes_ = -1, col_block_ = -1;
  std::size_t min_cells_ = 0;
  std::size_t header_cells_ = 0;

  std::int64_t row_index_ = 0;       // data rows seen (good and bad), for default trace ids
  std::int64_t rows_this_pass_ = 0;  // good rows since the file was (re)opened
  std::int64_t emitted_ = 0;
  bool have_origin_ = false;
  TimeNs origin_ns_ = 0;
  TimeNs last_raw_ns_ = 0;
  std::int64_t last_line_ = 0;
  TimeNs last_arrival_ns_ = 0;  // generated arrivals
  bool done_ = false;

  // sort: true
  bool loaded_ = false;
  std::vector<Request> sorted_;
  std::size_t sorted_pos_ = 0;
};

}  // namespace servesim
