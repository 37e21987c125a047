// traces/io/jsonl_writer.cc — see jsonl_writer.h.
#include "traces/io/jsonl_writer.h"

#include <charconv>

namespace servesim {

namespace {

template <class T>
void append_int(std::string& out, T v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

void append_seconds(std::string& out, TimeNs ns) {
  if (ns < 0) {
    out.push_back('-');
    ns = -ns;
  }
  append_int(out, ns / kNsPerSecond);
  std::int64_t frac = ns % kNsPerSecond;
  out.push_back('.');
  if (frac == 0) {
    out.push_back('0');
    return;
  }
  char digits[9];
  for (int i = 8; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  int len = 9;
  while (len > 1 && digits[len - 1] == '0') --len;
  out.append(digits, static_cast<std::size_t>(len));
}

}  // namespace

void append_servesim_jsonl(const Request& r, std::string& out) {
  out += "{\"arrival_s\":";
  append_seconds(out, r.arrival_ns);
  out += ",\"prompt_tokens\":";
  append_int(out, r.prompt_tokens);
  out += ",\"output_tokens\":";
  append_int(out, r.output_tokens);
  out += ",\"client_id\":";
  append_int(out, r.client_id);
  out += ",\"priority\":";
  append_int(out, r.priority);
  out += ",\"trace_id\":";
  append_int(out, r.trace_id);
  if (!r.prefix_hashes.empty()) {
    out += ",\"prefix_block_tokens\":";
    append_int(out, r.prefix_block_tokens);
    out += ",\"prefix_hashes\":[";
    for (std::size_t i = 0; i < r.prefix_hashes.size(); ++i) {
      if (i) out.push_back(',');
      append_int(out, r.prefix_hashes[i]);
    }
    out.push_back(']');
  }
  out += "}\n";
}

}  // namespace servesim
