// traces/io/line_reader.cc — see line_reader.h.
#include "traces/io/line_reader.h"

#include <cerrno>
#include <cstring>

#include "sim/config/errors.h"

namespace servesim {

LineReader::LineReader(std::string path, std::size_t chunk_bytes)
    : path_(std::move(path)), chunk_bytes_(chunk_bytes < 16 ? 16 : chunk_bytes) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (!file_) throw InputError(path_ + ": cannot open: " + std::strerror(errno));
  // Small files get a small buffer (it grows if a line needs more).
  std::size_t want = chunk_bytes_;
  if (std::fseek(file_, 0, SEEK_END) == 0) {
    const long size = std::ftell(file_);
    if (size >= 0 && static_cast<std::size_t>(size) + 16 < want)
      want = static_cast<std::size_t>(size) + 16;
    std::rewind(file_);
  }
  buf_.resize(want);
}

LineReader::~LineReader() {
  if (file_) std::fclose(file_);
}

bool LineReader::refill() {
  if (eof_) return false;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a line longer than the buffer
  const std::size_t got = std::fread(buf_.data() + end_, 1, buf_.size() - end_, file_);
  if (got == 0) {
    if (std::ferror(file_)) throw InputError(where() + ": read error: " + std::strerror(errno));
    eof_ = true;
    return false;
  }
  end_ += got;
  if (first_) {
    first_ = false;
    if (end_ >= 3 && static_cast<unsigned char>(buf_[0]) == 0xEF &&
        static_cast<unsigned char>(buf_[1]) == 0xBB &&
        static_cast<unsigned char>(buf_[2]) == 0xBF) {
      pos_ = 3;
    }
  }
  return true;
}

bool LineReader::next(std::string_view& line) {
  std::size_t scanned = pos_;  // bytes before this offset hold no newline
  while (true) {
    const char* start = buf_.data() + scanned;
    const void* nl = scanned < end_ ? std::memchr(start, '\n', end_ - scanned) : nullptr;
    if (nl) {
      const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.data());
      std::size_t len = at - pos_;
      if (len > 0 && buf_[pos_ + len - 1] == '\r') --len;
      line = std::string_view(buf_.data() + pos_, len);
      pos_ = at + 1;
      ++line_number_;
      return true;
    }
    const std::size_t pending = end_ - pos_;
    if (!refill()) break;
    scanned = pos_ + pending;  // refill moved the unread bytes to pos_ (BOM skip only at start)
    if (scanned < pos_) scanned = pos_;
  }
  // End of file: whatever is left is a last line without a final newline.
  if (pos_ >= end_) return false;
  std::size_t len = end_ - pos_;
  if (buf_[pos_ + len - 1] == '\r') --len;
  line = std::string_view(buf_.data() + pos_, len);
  pos_ = end_;
  ++line_number_;
  return true;
}

}  // namespace servesim
