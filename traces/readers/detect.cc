// traces/readers/detect.cc — see detect.h.
#include "traces/readers/detect.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "sim/config/errors.h"
#include "traces/io/text_parse.h"

namespace servesim {

std::string detect_trace_format(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("chunk-", 0) == 0 && n.ends_with("-trace.csv")) return "servegen";
    }
    throw InputError(
        path + ": a folder without chunk-<id>-trace.csv files (give a trace file, or --format)");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw InputError(path + ": cannot open: " + std::strerror(errno));
  std::string head(8192, '\0');
  head.resize(std::fread(head.data(), 1, head.size(), f));
  std::fclose(f);
  if (head.rfind("\xEF\xBB\xBF", 0) == 0) head.erase(0, 3);
  std::size_t b = head.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) throw InputError(path + ":1: empty file");
  std::size_t e = head.find('\n', b);
  std::string_view first(head.data() + b, (e == std::string::npos ? head.size() : e) - b);
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  auto has = [&](const char* s) { return first.find(s) != std::string_view::npos; };
  if (first.front() == '{') {
    if (first.rfind("{\"config\"", 0) == 0 || has("\"responses\"")) return "vtc";
    if (has("\"hash_ids\"")) return "mooncake";
    if (has("\"arrival_s\"")) return "servesim_jsonl";
    throw InputError(path +
                     ":1: cannot tell which JSONL format this is; use --format jsonl with --set "
                     "columns.arrival=KEY "
                     "--set columns.prompt_tokens=KEY --set columns.output_tokens=KEY");
  }
  std::vector<std::string_view> cells;
  std::string scratch;
  split_csv(first, ',', cells, scratch);
  auto col = [&](std::string_view name) {
    for (auto c : cells) {
      if (trim(c) == name) return true;
    }
    return false;
  };
  if (col("TIMESTAMP") && col("ContextTokens") && col("GeneratedTokens")) return "azure";
  if (col("arrived_at") && col("num_prefill_tokens") && col("num_decode_tokens")) return "vidur";
  if (col("num_prefill_tokens") && col("num_decode_tokens")) return "lengths_csv";
  throw InputError(
      path + ":1: cannot tell the format from the header '" + std::string(first.substr(0, 120)) +
      "'; use --format (csv with --set columns.*=..., or a reader from `servesim list workloads`)");
}

}  // namespace servesim
