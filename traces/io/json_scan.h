// traces/io/json_scan.h — a small, allocation-free scanner for the one-object-per-line JSON the
// trace formats use (JSONL). It splits an object into (key, raw value) pairs without building a
// DOM; nested arrays and objects are returned as raw text for the caller to parse if it needs
// them (e.g. hash_ids). Strict: every value of the object, the fields no reader uses included, must
// be valid JSON (RFC 8259 numbers, string escapes, nesting up to 256 levels); unterminated
// strings, missing colons or commas, and trailing junk are errors. Unknown keys are not errors:
// readers ignore the fields they do not use (documented in traces/README.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace servesim {

enum class JsonType { kNumber, kString, kTrue, kFalse, kNull, kArray, kObject };

struct JsonField {
  std::string_view key;  // undecoded key text (between the quotes)
  JsonType type = JsonType::kNull;
  std::string_view value;  // strings: text between the quotes (undecoded); others: the raw text
  bool escaped = false;    // a string value contains backslash escapes (decode_json_string)
};

// Scans the object that starts at text[pos] (after optional whitespace). On success returns
// true, fills `fields` (cleared first) and sets `pos` just past the closing brace. On failure
// returns false and sets `error` to a reason that names the byte offset.
bool scan_json_object(std::string_view text, std::size_t& pos, std::vector<JsonField>& fields,
                      std::string& error);

// Scans an object that must be the whole of `line` (surrounding whitespace allowed).
bool scan_json_line(std::string_view line, std::vector<JsonField>& fields, std::string& error);

// The field named `key`, or nullptr. `hint` remembers the last position, so rows with a fixed key
// order find each key on the first try.
const JsonField* find_json_field(const std::vector<JsonField>& fields, std::string_view key,
                                 std::size_t& hint);

// Decodes the escapes of a JSON string body (\" \\ \/ \b \f \n \r \t \uXXXX). False if malformed.
bool decode_json_string(std::string_view raw, std::string& out);

// Parses a raw JSON array of unsigned integers ("[1, 2, 3]") into `out` (cleared first). False
// with `error` set if it is not such an array.
bool parse_u64_array(std::string_view raw, std::vector<std::uint64_t>& out, std::string& error);

// Skips JSON whitespace starting at pos.
inline void skip_json_ws(std::string_view text, std::size_t& pos) {
  while (pos < text.size() &&
         (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r'))
    ++pos;
}

}  // namespace servesim
