// traces/readers/table_source.cc — see table_source.h.
#include "traces/readers/table_source.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "sim/config/errors.h"

namespace servesim {

namespace {

constexpr std::int64_t kMaxClient = std::numeric_limits<std::uint32_t>::max();

std::string format_s(TimeNs ns) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, ns_to_s(ns));
  return std::string(buf, ec == std::errc() ? p : buf) + " s";
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

void read_file_options(ConfigNode& cfg, const TraceContext& ctx, std::string_view what,
                       TableOptions& opts) {
  opts.path = read_path_key(cfg, ctx, what);
  opts.skip_bad_rows =
      cfg.get<bool>("skip_bad_rows", false,
                    "skip malformed rows (counted and reported at the end) instead of stopping");
  opts.sort = cfg.get<bool>(
      "sort", false,
      "sort rows by arrival time after loading the whole file (memory grows with the file); "
      "false: an out-of-order row is a bad row");
}

std::unique_ptr<ArrivalProcess> read_generated_arrivals(ConfigNode& cfg, const TraceContext& ctx,
                                                        TableOptions& opts) {
  if (opts.sort)
    cfg.fail("sort", "applies only to files with arrival times (this one gets generated arrivals)");
  if (!cfg.has("arrival"))
    cfg.fail("arrival",
             "required key is missing (the file has no arrival times: give an arrival process, "
             "e.g. {impl: poisson, rate_per_s: 5})");
  auto arrivals = make_arrival_process(cfg.child("arrival"), ctx);
  opts.num_requests = cfg.get<std::int64_t>(
      "num_requests", 0, "stop after this many requests (0 = one pass over the file)",
      NonNegative());
  opts.repeat =
      cfg.get<bool>("repeat", false, "start the file again when it ends (needs num_requests > 0)");
  if (opts.repeat && opts.num_requests == 0)
    cfg.fail("repeat", "needs num_requests > 0 (else the workload never ends)");
  return arrivals;
}

TableSource::TableSource(TableOptions opts, const TraceContext& ctx,
                         std::unique_ptr<ArrivalProcess> arrivals)
    : opts_(std::move(opts)),
      ctx_(ctx),
      arrivals_(std::move(arrivals)),
      arrival_rng_(ctx.seed, "workload.arrival"),
      bad_(opts_.skip_bad_rows, opts_.path) {
  if (opts_.time_unit == TimeUnit::kDatetime) opts_.rebase = true;
  open();
}

TableSource::~TableSource() {
  if (!done_) bad_.report(ctx_);
}

void TableSource::open() {
  reader_ = std::make_unique<LineReader>(opts_.path);
  rows_this_pass_ = 0;
  if (opts_.jsonl) return;
  if (opts_.header) {
    read_header();
    return;
  }
  resolve_columns({});
  header_cells_ = min_cells_;
}

void TableSource::read_header() {
  std::string_view line;
  bool found = false;
  while (reader_->next(line)) {
    if (!trim(line).empty()) {
      found = true;
      break;
    }
  }
  if (!found)
    throw InputError(opts_.path + ":1: empty file: expected a header line naming the columns");
  if (!split_csv(line, opts_.delimiter, cells_, scratch_))
    throw InputError(reader_->where() + ": unterminated quote in the header");
  std::vector<std::string> header;
  for (auto c : cells_) header.emplace_back(trim(c));
  header_cells_ = header.size();
  resolve_columns(header);
}

void TableSource::resolve_columns(const std::vector<std::string>& header) {
  col_arrival_ = column_index(opts_.fields.arrival, header);
  col_prompt_ = column_index(opts_.fields.prompt_tokens, header);
  col_output_ = column_index(opts_.fields.output_tokens, header);
  col_client_ = column_index(opts_.fields.client_id, header);
  col_priority_ = column_index(opts_.fields.priority, header);
  col_trace_id_ = column_index(opts_.fields.trace_id, header);
  col_hashes_ = column_index(opts_.fields.prefix_hashes, header);
  col_block_ = column_index(opts_.fields.prefix_block_tokens, header);
  const int last_col = std::max({col_arrival_, col_prompt_, col_output_, col_client_, col_priority_,
                                 col_trace_id_, col_hashes_, col_block_});
  const int cells = last_col + 1;  // last_col >= -1 (no column)
  min_cells_ = static_cast<std::size_t>(cells);
}

int TableSource::column_index(const std::string& name,
                              const std::vector<std::string>& header) const {
  if (name.empty()) return -1;
  if (!opts_.header) {
    std::int64_t i = 0;
    if (parse_count(name, 10000, i) != ParseError::kOk) {
      throw InputError(opts_.path + ": column '" + name +
                       "': a file without a header names columns by number (0, 1, ...)");
    }
    return static_cast<int>(i);
  }
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  throw InputError(reader_->where() + ": missing column '" + name +
                   "' (the header has: " + join(header) + ")");
}

bool TableSource::reject(const std::string& reason) {
  bad_.fail(reader_->where(), reason);
  return false;
}

bool TableSource::set_count(std::string_view text, const std::string& name, std::int64_t max,
                            std::int64_t& out) {
  const ParseError e = parse_count(text, max, out);
  if (e == ParseError::kOk) return true;
  return reject(label(name) + describe_parse_error(e, text, max));
}

std::string TableSource::label(const std::string& name) const {
  return std::string(opts_.jsonl ? "field '" : "column '") + name + "': ";
}

bool TableSource::set_time(std::string_view text, Request& out) {
  if (opts_.time_unit == TimeUnit::kDatetime) {
    if (parse_datetime_ns(text, out.arrival_ns)) return true;
    return reject(label(opts_.fields.arrival) +
                  "expected a date and time like 2023-11-16 18:17:03.97, got '" +
                  std::string(trim(text).substr(0, 40)) + "'");
  }
  const ParseError e = parse_time_ns(text, opts_.time_unit, out.arrival_ns);
  if (e == ParseError::kOk) return true;
  return reject(label(opts_.fields.arrival) + describe_parse_error(e, text));
}

bool TableSource::set_client(std::string_view text, bool is_string, Request& out) {
  text = trim(text);
  std::int64_t v = 0;
  if (!is_string) {
    const ParseError e = parse_count(text, kMaxClient, v);
    if (e == ParseError::kOk) {
      out.client_id = static_cast<std::uint32_t>(v);
      return true;
    }
    if (e == ParseError::kNegative || e == ParseError::kOverflow || e == ParseError::kNotInteger ||
        e == ParseError::kEmpty) {
      return reject(label(opts_.fields.client_id) + describe_parse_error(e, text, kMaxClient));
    }
  }
  if (text.empty()) return reject(label(opts_.fields.client_id) + "empty client name");
  out.client_id = client_names_.id(text);
  return true;
}

bool TableSource::set_priority(std::string_view text, Request& out) {
  text = trim(text);
  std::int32_t v = 0;
  const char* first = text.data() + (!text.empty() && text[0] == '+' ? 1 : 0);
  auto [p, ec] = std::from_chars(first, text.data() + text.size(), v);
  if (ec == std::errc::result_out_of_range)
    return reject(label(opts_.fields.priority) + describe_parse_error(ParseError::kOverflow, text));
  if (ec != std::errc() || p != text.data() + text.size()) {
    return reject(label(opts_.fields.priority) +
                  describe_parse_error(ParseError::kNotInteger, text));
  }
  out.priority = v;
  return true;
}

bool TableSource::set_hashes(std::string_view text, Request& out) {
  text = trim(text);
  if (!text.empty() && text[0] == '[') {
    if (parse_u64_array(text, out.prefix_hashes, error_)) return true;
    return reject(label(opts_.fields.prefix_hashes) + error_);
  }
  // CSV form: ids separated by spaces or semicolons.
  out.prefix_hashes.clear();
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ';')) ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != ';') ++j;
    if (j > i) {
      std::uint64_t v = 0;
      const ParseError e = parse_u64(text.substr(i, j - i), v);
      if (e != ParseError::kOk)
        return reject(label(opts_.fields.prefix_hashes) +
                      describe_parse_error(e, text.substr(i, j - i)));
      out.prefix_hashes.push_back(v);
    }
    i = j;
  }
  return true;
}

bool TableSource::finish_row(Request& out) {
  if (out.prompt_tokens < 1)
    return reject(label(opts_.fields.prompt_tokens) +
                  "a request needs at least 1 prompt token (got 0)");
  if (out.output_tokens < 1)
    return reject(label(opts_.fields.output_tokens) +
                  "a request needs at least 1 output token (got 0)");
  if (!out.prefix_hashes.empty() && out.prefix_block_tokens < 1) {
    return reject(label(opts_.fields.prefix_hashes) + "prefix hashes need a block size > 0");
  }
  return true;
}

bool TableSource::parse_csv(std::string_view line, Request& out) {
  if (!split_csv(line, opts_.delimiter, cells_, scratch_))
    return reject("unterminated quoted field");
  // With a header every row has its width exactly; without one, at least the columns named.
  if (opts_.header ? cells_.size() != header_cells_ : cells_.size() < min_cells_) {
    std::string why = opts_.header ? "expected " : "expected at least ";
    why += std::to_string(header_cells_);
    why += opts_.header ? " columns (as the header), got " : " columns, got ";
    why += std::to_string(cells_.size());
    return reject(why);
  }
  std::int64_t v = 0;
  if (col_arrival_ >= 0 && !set_time(cells_[col_arrival_], out)) return false;
  if (!set_count(cells_[col_prompt_], opts_.fields.prompt_tokens, kMaxTraceTokens, v)) return false;
  out.prompt_tokens = static_cast<std::int32_t>(v);
  if (!set_count(cells_[col_output_], opts_.fields.output_tokens, kMaxTraceTokens, v)) return false;
  out.output_tokens = static_cast<std::int32_t>(v);
  out.client_id = 0;
  if (col_client_ >= 0 && !set_client(cells_[col_client_], false, out)) return false;
  out.priority = 0;
  if (col_priority_ >= 0 && !set_priority(cells_[col_priority_], out)) return false;
  out.prefix_block_tokens = opts_.prefix_block_tokens;
  if (col_block_ >= 0) {
    if (!set_count(cells_[col_block_], opts_.fields.prefix_block_tokens, kMaxTraceTokens, v))
      return false;
    out.prefix_block_tokens = static_cast<std::int32_t>(v);
  }
  out.prefix_hashes.clear();
  if (col_hashes_ >= 0 && !set_hashes(cells_[col_hashes_], out)) return false;
  if (col_trace_id_ >= 0) {
    const ParseError e = parse_u64(cells_[col_trace_id_], out.trace_id);
    if (e != ParseError::kOk)
      return reject(label(opts_.fields.trace_id) + describe_parse_error(e, cells_[col_trace_id_]));
  }
  return finish_row(out);
}

bool TableSource::parse_jsonl(std::string_view line, Request& out) {
  if (!scan_json_line(line, json_, error_)) return reject("malformed JSON: " + error_);
  // A present, non-null field, or nullptr (after rejecting if `required`).
  auto field = [&](const std::string& key, std::size_t& hint, bool required,
                   bool& failed) -> const JsonField* {
    failed = false;
    if (key.empty()) return nullptr;
    const JsonField* f = find_json_field(json_, key, hint);
    if (f && f->type != JsonType::kNull) return f;
    if (required) failed = !reject("missing field '" + key + "'");
    return nullptr;
  };
  auto scalar = [&](const JsonField* f, const std::string& key, bool& ok) -> std::string_view {
    ok = f->type == JsonType::kNumber || f->type == JsonType::kString;
    if (!ok) reject(label(key) + "expected a number, got " + std::string(f->value.substr(0, 40)));
    return f->value;
  };
  bool failed = false, ok = true;
  std::int64_t v = 0;
  if (const JsonField* f = field(opts_.fields.arrival, hints_.arrival, !arrivals_, failed)) {
    const std::string_view t = scalar(f, opts_.fields.arrival, ok);
    if (!ok || !set_time(t, out)) return false;
  } else if (failed) {
    return false;
  }
  const JsonField* fp = field(opts_.fields.prompt_tokens, hints_.prompt, true, failed);
  if (failed) return false;
  std::string_view t = scalar(fp, opts_.fields.prompt_tokens, ok);
  if (!ok || !set_count(t, opts_.fields.prompt_tokens, kMaxTraceTokens, v)) return false;
  out.prompt_tokens = static_cast<std::int32_t>(v);
  const JsonField* fo = field(opts_.fields.output_tokens, hints_.output, true, failed);
  if (failed) return false;
  t = scalar(fo, opts_.fields.output_tokens, ok);
  if (!ok || !set_count(t, opts_.fields.output_tokens, kMaxTraceTokens, v)) return false;
  out.output_tokens = static_cast<std::int32_t>(v);
  out.client_id = 0;
  if (const JsonField* f = field(opts_.fields.client_id, hints_.client, false, failed)) {
    if (f->type == JsonType::kString) {
      std::string_view name = f->value;
      if (f->escaped) {
        if (!decode_json_string(f->value, decoded_))
          return reject(label(opts_.fields.client_id) + "bad string escape");
        name = decoded_;
      }
      if (!set_client(name, true, out)) return false;
    } else if (f->type == JsonType::kNumber) {
      if (!set_client(f->value, false, out)) return false;
    } else {
      return reject(label(opts_.fields.client_id) + "expected a number or a string");
    }
  }
  out.priority = 0;
  if (const JsonField* f = field(opts_.fields.priority, hints_.priority, false, failed)) {
    t = scalar(f, opts_.fields.priority, ok);
    if (!ok || !set_priority(t, out)) return false;
  }
  out.prefix_block_tokens = opts_.prefix_block_tokens;
  if (const JsonField* f = field(opts_.fields.prefix_block_tokens, hints_.block, false, failed)) {
    t = scalar(f, opts_.fields.prefix_block_tokens, ok);
    if (!ok || !set_count(t, opts_.fields.prefix_block_tokens, kMaxTraceTokens, v)) return false;
    out.prefix_block_tokens = static_cast<std::int32_t>(v);
  }
  out.prefix_hashes.clear();
  if (const JsonField* f = field(opts_.fields.prefix_hashes, hints_.hashes, false, failed)) {
    if (f->type != JsonType::kArray)
      return reject(label(opts_.fields.prefix_hashes) + "expected an array of integers");
    if (!parse_u64_array(f->value, out.prefix_hashes, error_))
      return reject(label(opts_.fields.prefix_hashes) + error_);
  }
  if (const JsonField* f = field(opts_.fields.trace_id, hints_.trace_id, false, failed)) {
    t = scalar(f, opts_.fields.trace_id, ok);
    if (!ok) return false;
    const ParseError e = parse_u64(t, out.trace_id);
    if (e != ParseError::kOk)
      return reject(label(opts_.fields.trace_id) + describe_parse_error(e, t));
  }
  return finish_row(out);
}

bool TableSource::read_row(Request& out) {
  std::string_view line;
  while (reader_->next(line)) {
    if (line.empty() || trim(line).empty()) continue;
    out.trace_id = static_cast<std::uint64_t>(row_index_++);
    if (opts_.jsonl ? parse_jsonl(line, out) : parse_csv(line, out)) {
      ++rows_this_pass_;
      return true;
    }
  }
  return false;
}

void TableSource::end_of_stream() {
  if (done_) return;
  done_ = true;
  bad_.report(ctx_);
  if (emitted_ == 0) {
    const std::int64_t line = std::max<std::int64_t>(1, reader_->line_number());
    std::string msg = opts_.path + ":" + std::to_string(line) + ": no requests in the file";
    if (bad_.skipped() > 0)
      msg += " (all " + std::to_string(bad_.skipped()) + " rows were bad and skipped)";
    throw InputError(msg);
  }
}

bool TableSource::next_streaming(Request& out) {
  while (true) {
    if (done_) return false;
    if (opts_.num_requests > 0 && emitted_ >= opts_.num_requests) {
      end_of_stream();
      return false;
    }
    if (!read_row(out)) {
      if (opts_.repeat && rows_this_pass_ > 0) {
        open();
        continue;
      }
      end_of_stream();
      return false;
    }
    if (arrivals_) {
      out.arrival_ns = arrivals_->next_arrival_ns(last_arrival_ns_, arrival_rng_);
      last_arrival_ns_ = out.arrival_ns;
    } else {
      if (have_origin_ && out.arrival_ns < last_raw_ns_) {
        reject("arrival " + format_s(out.arrival_ns - origin_ns_) +
               " is earlier than the previous row's " + format_s(last_raw_ns_ - origin_ns_) +
               " (line " + std::to_string(last_line_) +
               "): rows must be sorted by arrival time (sort: true sorts the file on load)");
        continue;
      }
      if (!have_origin_) {
        have_origin_ = true;
        origin_ns_ = opts_.rebase ? out.arrival_ns : 0;
      }
      last_raw_ns_ = out.arrival_ns;
      last_line_ = reader_->line_number();
      out.arrival_ns -= origin_ns_;
    }
    ++emitted_;
    return true;
  }
}

void TableSource::load_sorted() {
  loaded_ = true;
  Request r;
  while (read_row(r)) sorted_.push_back(std::move(r));
  std::stable_sort(sorted_.begin(), sorted_.end(),
                   [](const Request& a, const Request& b) { return a.arrival_ns < b.arrival_ns; });
  if (!sorted_.empty() && opts_.rebase) {
    const TimeNs origin = sorted_.front().arrival_ns;
    for (auto& q : sorted_) q.arrival_ns -= origin;
  }
}

bool TableSource::next(Request& out) {
  if (!opts_.sort || arrivals_) return next_streaming(out);
  if (!loaded_) load_sorted();
  if (sorted_pos_ >= sorted_.size()) {
    emitted_ = static_cast<std::int64_t>(sorted_.size());
    end_of_stream();
    return false;
  }
  out = std::move(sorted_[sorted_pos_++]);
  return true;
}

}  // namespace servesim
