// traces/readers/vtc.cc — `vtc`: the "real" LMSYS workload of the VTC fairness artifact (Sheng et
// al., OSDI'24), files fair_bench/*/all_results_real.jsonl: one JSON document
//   {"config": {...}, "result": {..., "responses": [{"adapter_dir": "dummy-lora-7b-rank-8-13",
//    "prompt_len": 13, "output_len": 199, "req_time": 0.0, ...}, ...]}}
// Each element of the first "responses" array is a request: adapter_dir is the client (names map
// to ids 0, 1, ... in order of first appearance), req_time the arrival in seconds, output_len
// also the request's max_output_tokens (the artifact's max_new_tokens, with ignore_eos). The
// document is streamed in chunks and one response object is held at a time, so memory stays
// constant even though the whole trace is one line. Errors name the line and the element:
// FILE:LINE: responses[i].
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "sim/config/errors.h"
#include "traces/io/json_scan.h"
#include "traces/io/text_parse.h"
#include "traces/readers/reader_util.h"

namespace servesim {
namespace {

// Bytes of a file in chunks, counting lines.
class ByteStream {
 public:
  explicit ByteStream(const std::string& path) : path_(path), buf_(1 << 16) {
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) throw InputError(path + ": cannot open: " + std::strerror(errno));
  }
  ~ByteStream() { std::fclose(file_); }
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;

  bool get(char& c) {
    if (pos_ == end_ && !fill()) return false;
    c = buf_[pos_++];
    if (c == '\n') ++line_;
    return true;
  }
  bool peek(char& c) {
    if (pos_ == end_ && !fill()) return false;
    c = buf_[pos_];
    return true;
  }
  std::int64_t line() const { return line_; }

 private:
  bool fill() {
    end_ = std::fread(buf_.data(), 1, buf_.size(), file_);
    pos_ = 0;
    return end_ > 0;
  }
  std::string path_;
  std::FILE* file_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  std::int64_t line_ = 1;
};

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

class VtcReader final : public TraceSource {
 public:
  VtcReader(ConfigNode& cfg, const TraceContext& ctx)
      : ctx_(ctx),
        path_(read_path_key(cfg, ctx, "VTC results file (all_results_real.jsonl)")),
        bad_(cfg.get<bool>("skip_bad_rows", false,
                           "skip malformed responses (counted and reported) instead of stopping"),
             path_) {
    in_ = std::make_unique<ByteStream>(path_);
    find_responses();
  }
  ~VtcReader() override {
    if (!done_) bad_.report(ctx_);
  }

  bool next(Request& out) override {
    while (!done_) {
      if (!next_object()) {
        finish();
        return false;
      }
      const std::int64_t index = index_++;
      if (!parse(out, index)) continue;
      if (emitted_ > 0 && out.arrival_ns < last_ns_) {
        fail(index, "req_time " + std::to_string(ns_to_s(out.arrival_ns)) +
                        " s is earlier than the previous response's " +
                        std::to_string(ns_to_s(last_ns_)) +
                        " s: responses must be sorted by req_time");
        continue;
      }
      last_ns_ = out.arrival_ns;
      ++emitted_;
      return true;
    }
    return false;
  }

 private:
  void fail(std::int64_t index, const std::string& reason) {
    bad_.fail(path_ + ":" + std::to_string(object_line_),
              "responses[" + std::to_string(index) + "]: " + reason);
  }

  // Positions the stream just inside the '[' of the first "responses" array.
  void find_responses() {
    char c;
    std::string key;
    while (in_->get(c)) {
      if (c != '"') continue;
      key.clear();
      bool escaped = false;
      while (in_->get(c)) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          break;
        }
        if (key.size() < 16) key.push_back(c);
      }
      if (key != "responses") continue;
      while (in_->peek(c) && is_ws(c)) in_->get(c);
      if (!in_->get(c) || c != ':') continue;
      while (in_->peek(c) && is_ws(c)) in_->get(c);
      if (in_->get(c) && c == '[') return;
      throw InputError(path_ + ":" + std::to_string(in_->line()) +
                       ": \"responses\" is not an array");
    }
    throw InputError(path_ + ":" + std::to_string(in_->line()) +
                     ": no \"responses\" array found (is this a VTC all_results_*.jsonl file?)");
  }

  // Reads the next response object into obj_; false at the end of the array.
  bool next_object() {
    char c;
    while (true) {
      if (!in_->get(c)) {
        truncated("the file ends inside the responses array");
        return false;
      }
      if (is_ws(c) || c == ',') continue;
      if (c == ']') return false;
      if (c != '{') {
        truncated(std::string("expected a response object, got '") + c + "'");
        return false;
      }
      break;
    }
    object_line_ = in_->line();
    obj_.assign(1, '{');
    int depth = 1;
    bool in_string = false, escaped = false;
    while (depth > 0) {
      if (!in_->get(c)) {
        truncated("the file ends inside a response object");
        return false;
      }
      obj_.push_back(c);
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        --depth;
      }
    }
    return true;
  }

  // A structural problem: the rest of the array cannot be read. Stops (or reports and ends).
  void truncated(const std::string& reason) {
    object_line_ = in_->line();
    fail(index_, reason);
    finish();
  }

  bool parse(Request& out, std::int64_t index) {
    if (!scan_json_line(obj_, fields_, error_)) {
      fail(index, "malformed JSON: " + error_);
      return false;
    }
    out.trace_id = static_cast<std::uint64_t>(index);
    out.priority = 0;
    out.prefix_block_tokens = 0;
    out.prefix_hashes.clear();
    const JsonField* client = find_json_field(fields_, "adapter_dir", h_client_);
    const JsonField* prompt = find_json_field(fields_, "prompt_len", h_prompt_);
    const JsonField* output = find_json_field(fields_, "output_len", h_output_);
    const JsonField* time = find_json_field(fields_, "req_time", h_time_);
    for (auto [f, name] : {std::pair{client, "adapter_dir"},
                           {prompt, "prompt_len"},
                           {output, "output_len"},
                           {time, "req_time"}}) {
      if (!f || f->type == JsonType::kNull) {
        fail(index, std::string("missing field '") + name + "'");
        return false;
      }
    }
    if (client->type != JsonType::kString && client->type != JsonType::kNumber) {
      fail(index, "field 'adapter_dir': expected a string");
      return false;
    }
    std::string_view name = client->value;
    if (client->escaped) {
      if (!decode_json_string(client->value, decoded_)) {
        fail(index, "field 'adapter_dir': bad string escape");
        return false;
      }
      name = decoded_;
    }
    if (name.empty()) {
      fail(index, "field 'adapter_dir': empty client name");
      return false;
    }
    out.client_id = names_.id(name);
    std::int64_t v = 0;
    for (auto [f, name2, dest] : {std::tuple{prompt, "prompt_len", &out.prompt_tokens},
                                  {output, "output_len", &out.output_tokens}}) {
      const ParseError e = f->type == JsonType::kNumber ? parse_count(f->value, 2147483647, v)
                                                        : ParseError::kNotNumber;
      if (e != ParseError::kOk) {
        fail(index, std::string("field '") + name2 +
                        "': " + describe_parse_error(e, f->value, 2147483647));
        return false;
      }
      if (v < 1) {
        fail(index, std::string("field '") + name2 + "': a request needs at least 1 token (got 0)");
        return false;
      }
      *dest = static_cast<std::int32_t>(v);
    }
    // The artifact sent every request with max_new_tokens = output_len and ignore_eos: the
    // server knew the limit, and the answer always reached it.
    out.max_output_tokens = out.output_tokens;
    const ParseError e = time->type == JsonType::kNumber
                             ? parse_time_ns(time->value, TimeUnit::kSeconds, out.arrival_ns)
                             : ParseError::kNotNumber;
    if (e != ParseError::kOk) {
      fail(index, "field 'req_time': " + describe_parse_error(e, time->value));
      return false;
    }
    return true;
  }

  void finish() {
    if (done_) return;
    done_ = true;
    bad_.report(ctx_);
    if (emitted_ == 0)
      throw InputError(path_ + ":" + std::to_string(in_->line()) +
                       ": no requests in the responses array");
  }

  TraceContext ctx_;
  std::string path_;
  BadRows bad_;
  std::unique_ptr<ByteStream> in_;
  ClientNames names_;
  std::string obj_, error_, decoded_;
  std::vector<JsonField> fields_;
  std::size_t h_client_ = 0, h_prompt_ = 0, h_output_ = 0, h_time_ = 0;
  std::int64_t index_ = 0, emitted_ = 0, object_line_ = 1;
  TimeNs last_ns_ = 0;
  bool done_ = false;
};

}  // namespace

SERVESIM_REGISTER(TraceSource, VtcReader, "vtc",
                  "VTC artifact LMSYS trace (all_results_real.jsonl: responses[] with adapter_dir "
                  "as client); path")

}  // namespace servesim
