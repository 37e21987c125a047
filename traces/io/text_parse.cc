// traces/io/text_parse.cc — see text_parse.h.
#include "traces/io/text_parse.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace servesim {

namespace {

__extension__ typedef __int128 int128_t;

constexpr TimeNs kUnitNs[] = {kNsPerSecond, kNsPerMs, kNsPerUs, 1};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string quote_text(std::string_view text) {
  constexpr std::size_t kMax = 40;
  std::string out = "'";
  out.append(text.substr(0, kMax));
  if (text.size() > kMax) out += "...";
  return out + "'";
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_fixed(std::string_view s, std::size_t at, std::size_t n, unsigned& out) {
  if (at + n > s.size()) return false;
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_digit(s[at + i])) return false;
    v = v * 10 + static_cast<unsigned>(s[at + i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::string describe_parse_error(ParseError e, std::string_view text, std::int64_t max_value) {
  switch (e) {
    case ParseError::kOk:
      return "ok";
    case ParseError::kEmpty:
      return "empty value";
    case ParseError::kNotNumber:
      return "expected a number, got " + quote_text(text);
    case ParseError::kNegative:
      return "negative value " + quote_text(text);
    case ParseError::kNotInteger:
      return "expected an integer, got " + quote_text(text);
    case ParseError::kOverflow:
      return "value " + quote_text(text) + " is out of range" +
             (max_value > 0 ? " (max " + std::to_string(max_value) + ")" : std::string());
  }
  return "bad value";
}

std::string_view trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

ParseError parse_count(std::string_view s, std::int64_t max_value, std::int64_t& out) {
  s = trim(s);
  if (s.empty()) return ParseError::kEmpty;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (*first == '+') ++first;
  if (first == last) return ParseError::kNotNumber;
  if (*first == '-') {
    return (first + 1 < last && (is_digit(first[1]) || first[1] == '.')) ? ParseError::kNegative
                                                                         : ParseError::kNotNumber;
  }
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(first, last, v);
  if (ec == std::errc() && p == last) {
    if (v > max_value) return ParseError::kOverflow;
    out = v;
    return ParseError::kOk;
  }
  if (ec == std::errc::result_out_of_range) return ParseError::kOverflow;
  // Not a plain integer: an integral decimal ("123.0", "1e3")?
  double d = 0;
  auto [pd, ecd] = std::from_chars(first, last, d);
  if (ecd == std::errc::result_out_of_range) return ParseError::kOverflow;
  if (ecd != std::errc() || pd != last || !std::isfinite(d)) return ParseError::kNotNumber;
  if (d != std::floor(d)) return ParseError::kNotInteger;
  if (d > static_cast<double>(max_value)) return ParseError::kOverflow;
  out = static_cast<std::int64_t>(d);
  return ParseError::kOk;
}

ParseError parse_u64(std::string_view s, std::uint64_t& out) {
  s = trim(s);
  if (s.empty()) return ParseError::kEmpty;
  if (s[0] == '-') return ParseError::kNegative;
  const char* first = s.data() + (s[0] == '+' ? 1 : 0);
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(first, s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) return ParseError::kOverflow;
  if (ec != std::errc() || p != s.data() + s.size()) return ParseError::kNotInteger;
  out = v;
  return ParseError::kOk;
}

bool parse_time_unit(std::string_view name, TimeUnit& out) {
  static constexpr std::pair<const char*, TimeUnit> kNames[] = {{"s", TimeUnit::kSeconds},
                                                                {"ms", TimeUnit::kMillis},
                                                                {"us", TimeUnit::kMicros},
                                                                {"ns", TimeUnit::kNanos},
                                                                {"datetime", TimeUnit::kDatetime}};
  for (const auto& [n, u] : kNames) {
    if (name == n) {
      out = u;
      return true;
    }
  }
  return false;
}

const char* time_unit_name(TimeUnit u) {
  switch (u) {
    case TimeUnit::kSeconds:
      return "s";
    case TimeUnit::kMillis:
      return "ms";
    case TimeUnit::kMicros:
      return "us";
    case TimeUnit::kNanos:
      return "ns";
    case TimeUnit::kDatetime:
      return "datetime";
  }
  return "?";
}

ParseError parse_time_ns(std::string_view s, TimeUnit unit, TimeNs& out) {
  s = trim(s);
  if (s.empty()) return ParseError::kEmpty;
  const TimeNs unit_ns = kUnitNs[static_cast<int>(unit)];
  std::size_t i = 0;
  if (s[0] == '+') ++i;
  if (i < s.size() && s[i] == '-') {
    return (i + 1 < s.size() && (is_digit(s[i + 1]) || s[i + 1] == '.')) ? ParseError::kNegative
                                                                         : ParseError::kNotNumber;
  }
  // Exact path: digits[.digits]
  int128_t whole = 0;
  std::size_t int_digits = 0;
  constexpr int128_t kLimit = static_cast<int128_t>(std::numeric_limits<TimeNs>::max());
  while (i < s.size() && is_digit(s[i])) {
    whole = whole * 10 + (s[i] - '0');
    if (whole > kLimit) return ParseError::kOverflow;
    ++i;
    ++int_digits;
  }
  int128_t frac = 0, scale = 1;
  std::size_t frac_digits = 0;
  bool exact = true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) {
      if (frac_digits < 18) {
        frac = frac * 10 + (s[i] - '0');
        scale *= 10;
      }
      ++frac_digits;
      ++i;
    }
  }
  if (int_digits + frac_digits == 0) return ParseError::kNotNumber;
  if (i != s.size()) exact = false;  // exponent or junk: try the double path
  if (exact) {
    const int128_t ns = whole * unit_ns + (frac * unit_ns + scale / 2) / scale;
    if (ns > kLimit) return ParseError::kOverflow;
    out = static_cast<TimeNs>(ns);
    return ParseError::kOk;
  }
  double d = 0;
  const char* first = s.data() + (s[0] == '+' ? 1 : 0);
  auto [p, ec] = std::from_chars(first, s.data() + s.size(), d);
  if (ec == std::errc::result_out_of_range) return ParseError::kOverflow;
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(d))
    return ParseError::kNotNumber;
  if (d < 0) return ParseError::kNegative;
  const double ns = d * static_cast<double>(unit_ns);
  if (ns >= 9.2e18) return ParseError::kOverflow;
  out = static_cast<TimeNs>(std::llround(ns));
  return ParseError::kOk;
}

bool parse_datetime_ns(std::string_view s, TimeNs& out) {
  s = trim(s);
  if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) s.remove_suffix(1);
  unsigned y, mo, d, h, mi, se;
  if (s.size() < 19 || !read_fixed(s, 0, 4, y) || s[4] != '-' || !read_fixed(s, 5, 2, mo) ||
      s[7] != '-' || !read_fixed(s, 8, 2, d) || (s[10] != ' ' && s[10] != 'T') ||
      !read_fixed(s, 11, 2, h) || s[13] != ':' || !read_fixed(s, 14, 2, mi) || s[16] != ':' ||
      !read_fixed(s, 17, 2, se)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 1970 || y > 2261)
    return false;
  std::int64_t frac_ns = 0;
  if (s.size() > 19) {
    if (s[19] != '.' || s.size() == 20) return false;
    std::int64_t scale = kNsPerSecond;
    for (std::size_t i = 20; i < s.size(); ++i) {
      if (!is_digit(s[i])) return false;
      if (scale > 1) {
        scale /= 10;
        frac_ns += (s[i] - '0') * scale;
      }
    }
  }
  const std::int64_t days = days_from_civil(y, mo, d);
  out = ((days * 24 + h) * 60 + mi) * 60 * kNsPerSecond +
        static_cast<std::int64_t>(se) * kNsPerSecond + frac_ns;
  return true;
}

bool split_csv(std::string_view line, char delim, std::vector<std::string_view>& fields,
               std::string& scratch) {
  fields.clear();
  if (std::memchr(line.data(), '"', line.size()) == nullptr) {
    std::size_t start = 0;
    while (true) {
      const void* hit = std::memchr(line.data() + start, delim, line.size() - start);
      if (!hit) {
        fields.push_back(line.substr(start));
        return true;
      }
      const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(hit) - line.data());
      fields.push_back(line.substr(start, at - start));
      start = at + 1;
    }
  }
  // Slow path: quoted fields.
  scratch.clear();
  scratch.reserve(line.size());
  std::size_t i = 0;
  while (true) {
    std::size_t b = i;
    while (b < line.size() && (line[b] == ' ' || line[b] == '\t')) ++b;
    if (b < line.size() && line[b] == '"') {
      const std::size_t begin = scratch.size();
      std::size_t j = b + 1;
      bool closed = false;
      while (j < line.size()) {
        if (line[j] == '"') {
          if (j + 1 < line.size() && line[j + 1] == '"') {
            scratch.push_back('"');
            j += 2;
            continue;
          }
          closed = true;
          ++j;
          break;
        }
        scratch.push_back(line[j++]);
      }
      if (!closed) return false;
      while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;
      fields.push_back(std::string_view(scratch).substr(begin, scratch.size() - begin));
      if (j == line.size()) return true;
      if (line[j] != delim) return false;  // junk after a closing quote
      i = j + 1;
    } else {
      std::size_t j = i;
      while (j < line.size() && line[j] != delim) ++j;
      fields.push_back(line.substr(i, j - i));
      if (j == line.size()) return true;
      i = j + 1;
    }
  }
}

}  // namespace servesim
