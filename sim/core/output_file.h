// sim/core/output_file.h — the one way servesim writes files (results databases, traces,
// reports, exports, calibrations), so that no command can damage what is not its own:
//  * a target that exists must be a regular file (or a symlink to one, written through: the
//    link stays); a directory, device node, FIFO or socket is refused before anything is
//    written (as root, `-o /dev/null` would otherwise replace /dev/null with a regular file);
//  * "" and ":memory:" are not paths (SQLite would take the second as a database that vanishes);
//  * "-" means stdout where a command allows it, deliberately;
//  * a file is written to a temporary next to its target and renamed over it when complete,
//    so a failure leaves the target as it was and no temporary behind.
#pragma once

#include <cstdio>
#include <string>

namespace servesim {

// The path to write for `path` (a symlink to a regular file resolves to its target), or throws
// UsageError naming `what` ("results database", "-o") and the reason.
std::string checked_output_path(const std::string& path, const std::string& what);
// The same for a folder that files go into: absent (created later) or a directory.
std::string checked_output_dir(const std::string& path, const std::string& what);

class OutputFile {
 public:
  // Opens a temporary next to `path` (stdout for "-" when `allow_stdout`). Throws UsageError for
  // a refused target, OutputError when the temporary cannot be created.
  OutputFile(const std::string& path, const std::string& what, bool allow_stdout = false);
  ~OutputFile();  // without commit(): removes the temporary
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  std::FILE* get() { return file_; }
  bool to_stdout() const { return stdout_; }
  // Flushes, closes and renames the temporary over the target. Throws OutputError on a write
  // error (the temporary is removed, the target untouched).
  void commit();

 private:
  std::string target_, tmp_, what_;
  std::FILE* file_ = nullptr;
  bool stdout_ = false;
};

}  // namespace servesim
