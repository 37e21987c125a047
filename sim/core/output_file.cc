// sim/core/output_file.cc — see output_file.h.
#include "sim/core/output_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "sim/config/errors.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;

const char* kind(fs::file_type t) {
  switch (t) {
    case fs::file_type::directory:
      return "a directory";
    case fs::file_type::block:
      return "a block device";
    case fs::file_type::character:
      return "a character device";
    case fs::file_type::fifo:
      return "a FIFO";
    case fs::file_type::socket:
      return "a socket";
    default:
      return "not a regular file";
  }
}

}  // namespace

std::string checked_output_path(const std::string& path, const std::string& what) {
  if (path.empty()) throw UsageError(what + ": an empty path");
  if (path == ":memory:")
    throw UsageError(what + ": ':memory:' would keep the results nowhere; give a file");
  std::error_code ec;
  const fs::file_status link = fs::symlink_status(path, ec);
  if (ec || !fs::exists(link)) {
    if (fs::is_symlink(link)) throw UsageError(what + " '" + path + "' is a dangling symlink");
    return path;  // a new file (its folder is checked when it is created)
  }
  const fs::file_status st = fs::status(path, ec);  // follows symlinks
  if (ec) throw UsageError(what + " '" + path + "': " + ec.message());
  if (!fs::is_regular_file(st)) {
    throw UsageError(what + " '" + path + "' is " + kind(st.type()) +
                     (fs::is_symlink(link) ? " (through a symlink)" : "") +
                     "; servesim writes regular files only");
  }
  if (fs::is_symlink(link)) return fs::canonical(path, ec).string();
  return path;
}

std::string checked_output_dir(const std::string& path, const std::string& what) {
  if (path.empty()) throw UsageError(what + ": an empty path");
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (fs::exists(st) && !fs::is_directory(st))
    throw UsageError(what + " '" + path + "' exists and is " + kind(st.type()) + ", not a folder");
  return path;
}

OutputFile::OutputFile(const std::string& path, const std::string& what, bool allow_stdout)
    : what_(what) {
  if (allow_stdout && path == "-") {
    stdout_ = true;
    file_ = stdout;
    return;
  }
  target_ = checked_output_path(path, what);
  tmp_ = target_ + ".tmp." + std::to_string(::getpid());
  file_ = std::fopen(tmp_.c_str(), "wbx");  // x: never an existing file
  if (!file_) throw OutputError(what + ": cannot create '" + tmp_ + "': " + std::strerror(errno));
}

OutputFile::~OutputFile() {
  if (stdout_ || tmp_.empty()) return;
  if (file_) std::fclose(file_);
  std::error_code ec;
  fs::remove(tmp_, ec);
}

void OutputFile::commit() {
  if (stdout_) {
    if (std::fflush(stdout) != 0 || std::ferror(stdout))
      throw OutputError(what_ + ": write error on stdout");
    return;
  }
  const bool ok = std::fflush(file_) == 0 && !std::ferror(file_);
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  std::error_code ec;
  if (!ok || !closed) {
    fs::remove(tmp_, ec);
    tmp_.clear();
    throw OutputError(what_ + ": write error on '" + target_ + "' (disk full?)");
  }
  fs::rename(tmp_, target_, ec);
  if (ec) {
    fs::remove(tmp_, ec);
    tmp_.clear();
    throw OutputError(what_ + ": cannot replace '" + target_ + "': " + ec.message());
  }
  tmp_.clear();
}

}  // namespace servesim
