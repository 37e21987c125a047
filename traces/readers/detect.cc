// traces/readers/detect.cc — see detect.h.
#include "traces/readers/detect.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <vector>

#include "sim/config/errors.h"
#include "traces/io/json_scan.h"
#include "traces/io/text_parse.h"

namespace servesim {

namespace {

std::string lower_case(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The key of `keys` whose lower-cased name contains one of `words` ("" when none does).
std::string guess_key(const std::vector<std::string>& keys,
                      std::initializer_list<const char*> words) {
  for (const char* w : words) {
    for (const std::string& k : keys) {
      if (lower_case(k).find(w) != std::string::npos) return k;
    }
  }
  return "";
}

// A --format jsonl command line for a JSONL file of unknown keys: the columns guessed from the
// first object's key names (APEX's StartTimeOffset is in nanoseconds), KEY where nothing fits.
std::string jsonl_hint(std::string_view first_line) {
  std::vector<JsonField> fields;
  std::string error;
  std::vector<std::string> keys;
  if (scan_json_line(first_line, fields, error)) {
    for (const JsonField& f : fields) keys.emplace_back(f.key);
  }
  const std::string arrival = guess_key(keys, {"arrival", "timestamp", "time", "offset"});
  const std::string prompt = guess_key(keys, {"prompt", "context", "input"});
  const std::string output = guess_key(keys, {"output", "generated", "completion", "decode"});
  std::string unit = "s";
  const std::string lower = lower_case(arrival);
  if (arrival == "StartTimeOffset" || lower.ends_with("_ns")) unit = "ns";
  if (lower.ends_with("_us")) unit = "us";
  if (lower.ends_with("_ms")) unit = "ms";
  std::string hint = "--format jsonl";
  hint += arrival.empty() ? " --set columns.arrival=KEY" : " --set columns.arrival=" + arrival;
  hint += " --set time_unit=" + unit;
  hint += prompt.empty() ? " --set columns.prompt_tokens=KEY"
                         : " --set columns.prompt_tokens=" + prompt;
  hint += output.empty() ? " --set columns.output_tokens=KEY"
                         : " --set columns.output_tokens=" + output;
  std::string listed;
  for (const std::string& k : keys) listed += listed.empty() ? k : ", " + k;
  return hint + (keys.empty() ? ""
                              : " (the first object's keys: " + listed +
                                    "; time_unit is one of s, ms, us, ns, as the file's " +
                                    "arrival times are)");
}

}  // namespace

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
    throw InputError(path + ":1: cannot tell which JSONL format this is; try " + jsonl_hint(first));
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
