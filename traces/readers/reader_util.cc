// traces/readers/reader_util.cc — see reader_util.h.
#include "traces/readers/reader_util.h"

#include <filesystem>

#include "sim/config/errors.h"

namespace servesim {

std::string read_path_key(ConfigNode& cfg, const TraceContext& ctx, std::string_view what) {
  const std::string raw = cfg.required<std::string>(
      "path", std::string(what) +
                  "; '$data/...' is relative to data_dir, other paths to the working directory");
  const std::string resolved = resolve_data_path(raw, ctx.data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(resolved, ec)) {
    std::string msg = "no such file: '" + resolved + "'";
    if (resolved != raw)
      msg += " ('" + raw + "' with data_dir '" + ctx.data_dir +
             "'; set data_dir or SERVESIM_DATA_DIR)";
    cfg.fail("path", msg);
  }
  return resolved;
}

void BadRows::fail(const std::string& where, const std::string& reason) {
  if (!skip_) throw InputError(where + ": " + reason);
  if (skipped_++ == 0) first_ = where + ": " + reason;
}

void BadRows::report(const TraceContext& ctx) {
  if (reported_ || skipped_ == 0) return;
  reported_ = true;
  report_note(ctx, source_ + ": skipped " + std::to_string(skipped_) + " bad row" +
                       (skipped_ == 1 ? "" : "s") + " (first: " + first_ + ")");
}

std::uint32_t ClientNames::id(std::string_view name) {
  auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  const auto next = static_cast<std::uint32_t>(ids_.size());
  ids_.emplace(std::string(name), next);
  return next;
}

}  // namespace servesim
