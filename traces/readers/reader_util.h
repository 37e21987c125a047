// traces/readers/reader_util.h — what every file reader shares: resolving a `path` key against
// the data folder, the bad-row policy (stop with FILE:LINE, or skip and count), and mapping
// string client names to small integer ids.
//
// Path rule (documented in traces/README.md): a path that starts with "$data/" or
// "${data_dir}/" is relative to the scenario's data_dir (default $SERVESIM_DATA_DIR, else
// ../shared/data); any other path is used as written (relative paths: to the working directory).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sim/config/config.h"
#include "sim/config/data_path.h"
#include "traces/trace_source.h"

namespace servesim {

// resolve_data_path (sim/config/data_path.h) applies the path rule above.

// Reads the required `path` key, resolves it, and checks that it exists (a missing file is a
// ConfigError at the key's line, naming the resolved path). `what` describes the expected file.
std::string read_path_key(ConfigNode& cfg, const TraceContext& ctx, std::string_view what);

// The bad-row policy of one reader. fail() throws InputError("WHERE: reason") unless skipping,
// in which case it counts the row and keeps the first reason for the end-of-stream note.
class BadRows {
 public:
  BadRows(bool skip, std::string source_name) : skip_(skip), source_(std::move(source_name)) {}
  void fail(const std::string& where, const std::string& reason);
  std::int64_t skipped() const { return skipped_; }
  bool skipping() const { return skip_; }
  // Reports "skipped N bad rows" once (no-op when none).
  void report(const TraceContext& ctx);

 private:
  bool skip_;
  std::string source_;
  std::int64_t skipped_ = 0;
  std::string first_;
  bool reported_ = false;
};

// Client names → ids 0, 1, 2, ... in order of first appearance. Memory grows with the number of
// distinct clients, not with the trace.
class ClientNames {
 public:
  std::uint32_t id(std::string_view name);
  std::size_t size() const { return ids_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> ids_;
};

}  // namespace servesim
