// sim/config/data_path.h — the one rule for paths into the shared data folder, used by every
// path key (trace readers' `path`, the measured cost model's `profiles`): a path that starts
// with "$data/" or "${data_dir}/" is relative to the scenario's data_dir (or SERVESIM_DATA_DIR);
// any other path is left as it is.
#pragma once

#include <string>
#include <string_view>

namespace servesim {

inline std::string resolve_data_path(const std::string& path, const std::string& data_dir) {
  for (const std::string_view prefix :
       {std::string_view("$data/"), std::string_view("${data_dir}/")}) {
    if (path.compare(0, prefix.size(), prefix) == 0) {
      std::string root = data_dir.empty() ? "." : data_dir;
      if (root.back() != '/') root += '/';
      return root + path.substr(prefix.size());
    }
  }
  return path;
}

}  // namespace servesim
