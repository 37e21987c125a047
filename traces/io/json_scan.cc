// traces/io/json_scan.cc — see json_scan.h.
#include "traces/io/json_scan.h"

#include <charconv>

namespace servesim {

namespace {

std::string at(std::size_t pos, const char* what) {
  return std::string(what) + " at byte " + std::to_string(pos + 1);
}

// Scans a string starting at the opening quote text[pos]; sets body and pos past the close.
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

// Skips a nested array or object starting at text[pos] ('[' or '{').
bool skip_nested(std::string_view text, std::size_t& pos, std::string& error) {
  const std::size_t open = pos;
  int depth = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '"') {
      std::string_view body;
      bool esc;
      if (!scan_string(text, pos, body, esc, error)) return false;
      continue;
    }
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') {
      if (--depth == 0) {
        ++pos;
        return true;
      }
    }
    ++pos;
  }
  error =
      at(open, text[open] == '[' ? "unterminated array starting" : "unterminated object starting");
  return false;
}

bool scan_literal(std::string_view text, std::size_t& pos, std::string_view word) {
  if (text.substr(pos, word.size()) != word) return false;
  pos += word.size();
  return true;
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
    if (text[pos] != '"') {
      error = at(pos, "expected a quoted key");
      return false;
    }
    JsonField f;
    bool key_esc;
    if (!scan_string(text, pos, f.key, key_esc, error)) return false;
    skip_json_ws(text, pos);
    if (pos >= text.size() || text[pos] != ':') {
      error = at(pos, "expected ':' after a key");
      return false;
    }
    ++pos;
    skip_json_ws(text, pos);
    if (pos >= text.size()) {
      error = "unterminated object (input ends before a value)";
      return false;
    }
    const std::size_t vstart = pos;
    const char c = text[pos];
    if (c == '"') {
      f.type = JsonType::kString;
      if (!scan_string(text, pos, f.value, f.escaped, error)) return false;
    } else if (c == '[' || c == '{') {
      f.type = c == '[' ? JsonType::kArray : JsonType::kObject;
      if (!skip_nested(text, pos, error)) return false;
      f.value = text.substr(vstart, pos - vstart);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      f.type = JsonType::kNumber;
      while (pos < text.size()) {
        const char d = text[pos];
        if ((d >= '0' && d <= '9') || d == '-' || d == '+' || d == '.' || d == 'e' || d == 'E') {
          ++pos;
        } else {
          break;
        }
      }
      f.value = text.substr(vstart, pos - vstart);
    } else if (scan_literal(text, pos, "true")) {
      f.type = JsonType::kTrue;
      f.value = text.substr(vstart, 4);
    } else if (scan_literal(text, pos, "false")) {
      f.type = JsonType::kFalse;
      f.value = text.substr(vstart, 5);
    } else if (scan_literal(text, pos, "null")) {
      f.type = JsonType::kNull;
      f.value = text.substr(vstart, 4);
    } else {
      error = at(pos, "expected a JSON value");
      return false;
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
