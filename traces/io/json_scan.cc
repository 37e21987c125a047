// traces/io/json_scan.cc — see json_scan.h.
#include "traces/io/json_scan.h"

#include <charconv>

namespace servesim {

namespace {

std::string at(std::size_t pos, const char* what) {
  return std::string(what) + " at byte " + std::to_string(pos + 1);
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Scans a string starting at the opening quote text[pos]; sets body and pos past the close.
// Escapes must be JSON's (\" \\ \/ \b \f \n \r \t \uXXXX).
bool scan_string(std::string_view text, std::size_t& pos, std::string_view& body, bool& escaped,
                 std::string& error) {
  const std::size_t open = pos++;
  escaped = false;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '"') {
      body = text.substr(open + 1, pos - open - 1);
      ++pos;
      return true;
    }
    if (c == '\\') {
      escaped = true;
      if (pos + 1 >= text.size()) break;
      const char e = text[pos + 1];
      if (e == 'u') {
        for (std::size_t i = pos + 2; i < pos + 6; ++i) {
          if (i >= text.size() || !is_hex(text[i])) {
            error = at(pos, "bad \\u escape (expected 4 hex digits)");
            return false;
          }
        }
        pos += 6;
        continue;
      }
      if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
          e != 't') {
        error = at(pos, "bad escape inside a string");
        return false;
      }
      pos += 2;
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      error = at(pos, "control character inside a string");
      return false;
    }
    ++pos;
  }
  error = at(open, "unterminated string starting");
  return false;
}

// A number by JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool scan_number(std::string_view text, std::size_t& pos, std::string& error) {
  const std::size_t start = pos;
  auto digits = [&] {
    const std::size_t from = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    return pos > from;
  };
  if (pos < text.size() && text[pos] == '-') ++pos;
  if (pos < text.size() && text[pos] == '0') {
    ++pos;
  } else if (!digits()) {
    error = at(start, "malformed number");
    return false;
  }
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    if (!digits()) {
      error = at(start, "malformed number (no digit after '.')");
      return false;
    }
  }
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
    if (!digits()) {
      error = at(start, "malformed number (no digit in the exponent)");
      return false;
    }
  }
  return true;
}

bool scan_literal(std::string_view text, std::size_t& pos, std::string_view word) {
  if (text.substr(pos, word.size()) != word) return false;
  pos += word.size();
  return true;
}

// Scans a quoted key at text[pos], the ':' after it and the whitespace around, leaving pos at the
// value.
bool scan_key(std::string_view text, std::size_t& pos, std::string_view& key, std::string& error) {
  if (pos >= text.size() || text[pos] != '"') {
    error = at(pos, "expected a quoted key");
    return false;
  }
  bool escaped = false;
  if (!scan_string(text, pos, key, escaped, error)) return false;
  skip_json_ws(text, pos);
  if (pos >= text.size() || text[pos] != ':') {
    error = at(pos, "expected ':' after a key");
    return false;
  }
  ++pos;
  skip_json_ws(text, pos);
  return true;
}

// Nested arrays and objects deeper than this are refused (the scanner recurses).
constexpr int kMaxDepth = 256;

// Scans any JSON value starting at text[pos] (no leading whitespace), validating it whole, and
// sets its type and pos past it.
bool scan_value(std::string_view text, std::size_t& pos, int depth, JsonType& type,
                std::string& error) {
  if (pos >= text.size()) {
    error = "input ends where a value is expected";
    return false;
  }
  const char c = text[pos];
  if (c == '"') {
    type = JsonType::kString;
    std::string_view body;
    bool escaped = false;
    return scan_string(text, pos, body, escaped, error);
  }
  if (c == '-' || is_digit(c)) {
    type = JsonType::kNumber;
    return scan_number(text, pos, error);
  }
  if (c == '[' || c == '{') {
    const bool array = c == '[';
    type = array ? JsonType::kArray : JsonType::kObject;
    if (depth >= kMaxDepth) {
      error = at(pos, "arrays and objects nested deeper than 256 levels");
      return false;
    }
    const std::size_t open = pos++;
    const char close = array ? ']' : '}';
    skip_json_ws(text, pos);
    if (pos < text.size() && text[pos] == close) {
      ++pos;
      return true;
    }
    while (true) {
      skip_json_ws(text, pos);
      if (!array) {
        if (pos >= text.size()) {
          error = at(open, "unterminated object starting");
          return false;
        }
        std::string_view key;
        if (!scan_key(text, pos, key, error)) return false;
      }
      JsonType inner = JsonType::kNull;
      if (pos >= text.size()) {
        error = at(open, array ? "unterminated array starting" : "unterminated object starting");
        return false;
      }
      if (!scan_value(text, pos, depth + 1, inner, error)) return false;
      skip_json_ws(text, pos);
      if (pos >= text.size()) {
        error = at(open, array ? "unterminated array starting" : "unterminated object starting");
        return false;
      }
      if (text[pos] == ',') {
        ++pos;
        continue;
      }
      if (text[pos] == close) {
        ++pos;
        return true;
      }
      error = at(pos, array ? "expected ',' or ']'" : "expected ',' or '}'");
      return false;
    }
  }
  if (scan_literal(text, pos, "true")) {
    type = JsonType::kTrue;
    return true;
  }
  if (scan_literal(text, pos, "false")) {
    type = JsonType::kFalse;
    return true;
  }
  if (scan_literal(text, pos, "null")) {
    type = JsonType::kNull;
    return true;
  }
  error = at(pos, "expected a JSON value");
  return false;
}

}  // namespace

bool scan_json_object(std::string_view text, std::size_t& pos, std::vector<JsonField>& fields,
                      std::string& error) {
  fields.clear();
  skip_json_ws(text, pos);
  if (pos >= text.size() || text[pos] != '{') {
    error = pos >= text.size() ? "expected a JSON object, got end of input"
                               : at(pos, "expected a JSON object '{'");
    return false;
  }
  ++pos;
  skip_json_ws(text, pos);
  if (pos < text.size() && text[pos] == '}') {
    ++pos;
    return true;
  }
  while (true) {
    skip_json_ws(text, pos);
    if (pos >= text.size()) {
      error = "unterminated object (input ends inside it)";
      return false;
    }
    JsonField f;
    if (!scan_key(text, pos, f.key, error)) return false;
    if (pos >= text.size()) {
      error = "unterminated object (input ends before a value)";
      return false;
    }
    const std::size_t vstart = pos;
    if (text[pos] == '"') {
      f.type = JsonType::kString;
      if (!scan_string(text, pos, f.value, f.escaped, error)) return false;
    } else {
      if (!scan_value(text, pos, 1, f.type, error)) return false;
      f.value = text.substr(vstart, pos - vstart);
    }
    fields.push_back(f);
    skip_json_ws(text, pos);
    if (pos >= text.size()) {
      error = "unterminated object (input ends after a value)";
      return false;
    }
    if (text[pos] == ',') {
      ++pos;
      continue;
    }
    if (text[pos] == '}') {
      ++pos;
      return true;
    }
    error = at(pos, "expected ',' or '}'");
    return false;
  }
}

bool scan_json_line(std::string_view line, std::vector<JsonField>& fields, std::string& error) {
  std::size_t pos = 0;
  if (!scan_json_object(line, pos, fields, error)) return false;
  skip_json_ws(line, pos);
  if (pos != line.size()) {
    error = at(pos, "unexpected text after the object");
    return false;
  }
  return true;
}

const JsonField* find_json_field(const std::vector<JsonField>& fields, std::string_view key,
                                 std::size_t& hint) {
  if (hint < fields.size() && fields[hint].key == key) return &fields[hint];
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].key == key) {
      hint = i;
      return &fields[i];
    }
  }
  return nullptr;
}

bool decode_json_string(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= raw.size()) return false;
    switch (raw[i]) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        if (i + 5 > raw.size()) return false;
        unsigned cp = 0;
        auto [p, ec] = std::from_chars(raw.data() + i + 1, raw.data() + i + 5, cp, 16);
        if (ec != std::errc() || p != raw.data() + i + 5) return false;
        i += 4;
        if (cp < 0x80) {
          out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
          out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {  // surrogate halves are kept as their own code points (ids only need stability)
          out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
          out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

bool parse_u64_array(std::string_view raw, std::vector<std::uint64_t>& out, std::string& error) {
  out.clear();
  std::size_t pos = 0;
  skip_json_ws(raw, pos);
  if (pos >= raw.size() || raw[pos] != '[') {
    error = "expected an array of integers";
    return false;
  }
  ++pos;
  skip_json_ws(raw, pos);
  if (pos < raw.size() && raw[pos] == ']') return true;
  while (true) {
    skip_json_ws(raw, pos);
    if (pos < raw.size() && raw[pos] == '-') {
      error = "negative value in an array of unsigned integers";
      return false;
    }
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(raw.data() + pos, raw.data() + raw.size(), v);
    if (ec == std::errc::result_out_of_range) {
      error = "array element out of the unsigned 64-bit range";
      return false;
    }
    if (ec != std::errc()) {
      error = "expected an unsigned integer in the array at element " + std::to_string(out.size());
      return false;
    }
    pos = static_cast<std::size_t>(p - raw.data());
    out.push_back(v);
    skip_json_ws(raw, pos);
    if (pos < raw.size() && raw[pos] == ',') {
      ++pos;
      continue;
    }
    if (pos < raw.size() && raw[pos] == ']') return true;
    error = "expected ',' or ']' after array element " + std::to_string(out.size() - 1);
    return false;
  }
}

}  // namespace servesim
