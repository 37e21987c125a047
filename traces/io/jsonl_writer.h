// traces/io/jsonl_writer.h — writes Requests in servesim's own JSONL format, one object per line:
//   {"arrival_s":0.25,"prompt_tokens":812,"output_tokens":97,"client_id":3,"priority":0,"trace_id":17,
//    "prefix_block_tokens":16,"prefix_hashes":[11,12]}
// arrival_s is written as an exact decimal of the nanosecond count (up to 9 fractional digits,
// trailing zeros dropped), so the `servesim_jsonl` reader gets back the same nanoseconds.
// prefix_block_tokens and prefix_hashes are written only when the request has hashes.
#pragma once

#include <cstdio>
#include <string>

#include "traces/request.h"

namespace servesim {

// Appends one line (with its '\n') for `r` to `out`.
void append_servesim_jsonl(const Request& r, std::string& out);

// Buffers lines and writes them to a FILE in large blocks. Does not own the FILE.
class JsonlWriter {
 public:
  explicit JsonlWriter(std::FILE* f) : f_(f) {}
  ~JsonlWriter() { flush(); }
  void write(const Request& r) {
    append_servesim_jsonl(r, buf_);
    if (buf_.size() >= (1 << 20)) flush();
  }
  // Returns false on a write error.
  bool flush() {
    const bool ok = buf_.empty() || std::fwrite(buf_.data(), 1, buf_.size(), f_) == buf_.size();
    buf_.clear();
    return ok && std::fflush(f_) == 0;
  }

 private:
  std::FILE* f_;
  std::string buf_;
};

}  // namespace servesim
