// traces/io/line_reader.h — streams the lines of a text file in large chunks, for the trace
// readers. Memory is one buffer that grows only to hold the longest line (never the file).
//
// Contract:
//  * next() yields each line without its terminator; "\n" and "\r\n" both end a line, and a
//    last line without a final newline is still yielded. A UTF-8 byte-order mark at the start
//    of the file is dropped.
//  * The view next() returns stays valid until the following call.
//  * line_number() is the 1-based number of the line last yielded (blank lines count).
//  * An unreadable or missing file throws InputError("PATH: cannot open: reason").
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace servesim {

class LineReader {
 public:
  static constexpr std::size_t kDefaultChunkBytes = 1 << 20;

  explicit LineReader(std::string path, std::size_t chunk_bytes = kDefaultChunkBytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  bool next(std::string_view& line);
  std::int64_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }
  // "PATH:LINE" of the line last yielded.
  std::string where() const { return path_ + ":" + std::to_string(line_number_); }

 private:
  // Moves the unread tail to the front and appends more of the file. False at end of file.
  bool refill();

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buf_;
  std::size_t chunk_bytes_;
  std::size_t pos_ = 0;  // first unread byte
  std::size_t end_ = 0;  // one past the last valid byte
  bool eof_ = false;
  bool first_ = true;  // BOM check pending
  std::int64_t line_number_ = 0;
};

}  // namespace servesim
