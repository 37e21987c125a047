// traces/io/text_parse.h — the field parsers the trace readers share: token counts, 64-bit ids,
// times in a unit (exact decimal arithmetic, no rounding through double for plain decimals),
// wall-clock timestamps, and CSV line splitting. None allocates per call (CSV splitting reuses
// the caller's vector and scratch string).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/time.h"

namespace servesim {

enum class ParseError { kOk, kEmpty, kNotNumber, kNegative, kOverflow, kNotInteger };

// Human-readable reason for a failed parse of `text`, e.g. "expected a number, got 'abc'".
std::string describe_parse_error(ParseError e, std::string_view text, std::int64_t max_value = 0);

// Strips spaces and tabs at both ends.
std::string_view trim(std::string_view s);

// A non-negative integer up to `max_value`. "123", " 123 ", "123.0" and "1.23e2" are accepted
// (integral values written as decimals, as pandas does); "12.5", "-3", "abc", "" are not.
ParseError parse_count(std::string_view s, std::int64_t max_value, std::int64_t& out);
// An unsigned 64-bit integer (hash ids), digits only.
ParseError parse_u64(std::string_view s, std::uint64_t& out);

// The unit a trace writes its arrival times in.
enum class TimeUnit { kSeconds, kMillis, kMicros, kNanos, kDatetime };
// "s", "ms", "us", "ns", "datetime" → unit; false if unknown.
bool parse_time_unit(std::string_view name, TimeUnit& out);
const char* time_unit_name(TimeUnit u);

// A non-negative time in `unit` (not kDatetime) as nanoseconds. Plain decimals ("4.314579") are
// converted exactly (rounded half up at the nanosecond); exponent forms go through double.
ParseError parse_time_ns(std::string_view s, TimeUnit unit, TimeNs& out);

// "YYYY-MM-DD HH:MM:SS[.fraction]" ('T' may separate date and time; a trailing 'Z' is allowed;
// fraction digits past the ninth are dropped) → nanoseconds since 1970-01-01 UTC. False when
// malformed or out of range.
bool parse_datetime_ns(std::string_view s, TimeNs& out);

// Splits one CSV line at `delim` into `fields`. Quoted fields ("a,b", "say ""hi""") are
// unquoted; a field that needs unescaping is copied into `scratch` (reserved up front so views
// stay valid). Returns false on an unterminated quote. Fields are not trimmed.
bool split_csv(std::string_view line, char delim, std::vector<std::string_view>& fields,
               std::string& scratch);

}  // namespace servesim
